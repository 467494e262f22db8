// RFC 5769 known-answer vectors: decode, verify MESSAGE-INTEGRITY and FINGERPRINT, and
// re-encode. The RFC pads with 0x20 where RFC 8489 §14 sends zeros, so byte-exact checks seal
// the RFC's own unsealed prefix (sealStun) and compare; full re-encodes compare after
// normalising padding.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  decodeStun,
  encodeStun,
  sealStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  StunDecodeError,
  StunClass,
  StunMethod,
  AttrType,
  type StunMessage,
} from '../../../src/core/stun/index.ts';
import * as V from './rfc5769-vectors.ts';

function decoded(buf: Buffer): StunMessage {
  const m = decodeStun(buf);
  if (m instanceof StunDecodeError) throw m;
  return m;
}

/** The vector up to MESSAGE-INTEGRITY, with its length field set to that prefix. */
function unsealed(buf: Buffer, integrityOffset: number): Buffer {
  const b = Buffer.from(buf.subarray(0, integrityOffset));
  b.writeUInt16BE(b.length - 20, 2);
  return b;
}

test('RFC 5769 §2.1 sample request decodes to its documented attributes', () => {
  const m = decoded(V.SAMPLE_REQUEST);
  assert.equal(m.method, StunMethod.Binding);
  assert.equal(m.class, StunClass.Request);
  assert.deepEqual(m.transactionId, V.TRANSACTION_ID);
  assert.equal(m.software, 'STUN test client');
  assert.equal(m.priority, 0x6e0001ff);
  assert.equal(m.iceControlled, 0x932ff9b151263b36n);
  assert.equal(m.iceControlling, undefined);
  assert.equal(m.username, 'evtj:h6vY');
  assert.equal(m.useCandidate, false);
  assert.deepEqual(m.unknownRequired, []);
  assert.equal(m.integrityOffset, 76);
  assert.equal(m.hasFingerprint, true);
  assert.deepEqual(
    m.attributes.map((a) => a.type),
    [AttrType.Software, AttrType.Priority, AttrType.IceControlled, AttrType.Username],
  );
});

test('RFC 5769 §2.1-§2.3: MESSAGE-INTEGRITY verifies with the short-term password, FINGERPRINT verifies', () => {
  for (const v of [V.SAMPLE_REQUEST, V.SAMPLE_IPV4_RESPONSE, V.SAMPLE_IPV6_RESPONSE]) {
    assert.equal(verifyMessageIntegrity(v, Buffer.from(V.SHORT_TERM_PASSWORD)), true);
    assert.equal(verifyMessageIntegrity(v, Buffer.from('VOkJxbRl1RmTxUk/WvJxBu')), false);
    assert.equal(verifyFingerprint(v), true);
    const flipped = Buffer.from(v);
    flipped[flipped.length - 1] ^= 1;
    assert.equal(verifyFingerprint(flipped), false);
    assert.equal(verifyMessageIntegrity(flipped, V.SHORT_TERM_PASSWORD), true, 'FINGERPRINT is outside the HMAC');
  }
});

test('RFC 5769 §2.2 and §2.3: XOR-MAPPED-ADDRESS decodes to 192.0.2.1:32853 and [2001:db8:1234:5678:11:2233:4455:6677]:32853', () => {
  const v4 = decoded(V.SAMPLE_IPV4_RESPONSE);
  assert.equal(v4.class, StunClass.SuccessResponse);
  assert.equal(v4.software, 'test vector');
  assert.deepEqual(v4.xorMappedAddress, { address: '192.0.2.1', port: 32853, family: 'IPv4' });
  const v6 = decoded(V.SAMPLE_IPV6_RESPONSE);
  assert.deepEqual(v6.xorMappedAddress, { address: '2001:db8:1234:5678:11:2233:4455:6677', port: 32853, family: 'IPv6' });
});

test('RFC 5769 §2.1-§2.3: sealing the unsealed prefix reproduces each vector byte for byte', () => {
  for (const v of [V.SAMPLE_REQUEST, V.SAMPLE_IPV4_RESPONSE, V.SAMPLE_IPV6_RESPONSE]) {
    const m = decoded(v);
    const resealed = sealStun(unsealed(v, m.integrityOffset), { integrityKey: Buffer.from(V.SHORT_TERM_PASSWORD), fingerprint: true });
    assert.deepEqual(resealed, v);
  }
});

test('RFC 5769 §2.1-§2.3: re-encoding the decoded message equals the vector up to padding bytes, and verifies', () => {
  for (const v of [V.SAMPLE_REQUEST, V.SAMPLE_IPV4_RESPONSE, V.SAMPLE_IPV6_RESPONSE]) {
    const m = decoded(v);
    const out = encodeStun(m, { integrityKey: V.SHORT_TERM_PASSWORD, fingerprint: true });
    assert.equal(out.length, v.length);
    assert.ok(verifyMessageIntegrity(out, V.SHORT_TERM_PASSWORD));
    assert.ok(verifyFingerprint(out));
    // Normalise the RFC's 0x20 padding to zeros; then everything before MI must match.
    const expected = Buffer.from(v);
    let off = 20;
    while (off < m.integrityOffset) {
      const len = expected.readUInt16BE(off + 2);
      expected.fill(0, off + 4 + len, off + 4 + ((len + 3) & ~3));
      off += 4 + ((len + 3) & ~3);
    }
    assert.deepEqual(out.subarray(0, m.integrityOffset), expected.subarray(0, m.integrityOffset));
    assert.deepEqual(decoded(out), { ...m, attributes: m.attributes });
  }
});

test('RFC 5769 §2.4 long-term request: parses, and MESSAGE-INTEGRITY verifies with MD5(user:realm:SASLprep(pass))', () => {
  const m = decoded(V.SAMPLE_LONG_TERM_REQUEST);
  assert.equal(m.username, V.LONG_TERM_USERNAME);
  assert.equal(m.hasFingerprint, false);
  const nonce = m.attributes.find((a) => a.type === AttrType.Nonce);
  const realm = m.attributes.find((a) => a.type === AttrType.Realm);
  assert.equal(Buffer.from(nonce!.value).toString(), V.LONG_TERM_NONCE);
  assert.equal(Buffer.from(realm!.value).toString(), V.LONG_TERM_REALM);
  // NONCE and REALM are comprehension-required attributes this codec does not interpret; a
  // short-term (ICE) server would answer 420 for them, which is right for that usage.
  assert.deepEqual(m.unknownRequired, [AttrType.Nonce, AttrType.Realm]);
  // RFC 8489 §9.2.2: key = MD5(username ":" realm ":" OpaqueString(password)); the RFC gives
  // the prepared password, "TheMatrIX": SASLprep maps U+00AD to nothing and its NFKC step
  // turns U+00AA into "a" and U+2168 into "IX". Parley never needs SASLprep (ICE passwords are
  // ASCII ice-chars), so the vector is checked with the already prepared password.
  const key = createHash('md5').update(`${V.LONG_TERM_USERNAME}:${V.LONG_TERM_REALM}:${V.LONG_TERM_PASSWORD_PREPARED}`).digest();
  assert.equal(verifyMessageIntegrity(V.SAMPLE_LONG_TERM_REQUEST, key), true);
  const wrong = createHash('md5').update(`${V.LONG_TERM_USERNAME}:${V.LONG_TERM_REALM}:The\u00adM\u00aatr\u2168`).digest();
  assert.equal(verifyMessageIntegrity(V.SAMPLE_LONG_TERM_REQUEST, wrong), false, 'the unprepared password must not verify');
  assert.deepEqual(sealStun(unsealed(V.SAMPLE_LONG_TERM_REQUEST, m.integrityOffset), { integrityKey: key }), V.SAMPLE_LONG_TERM_REQUEST);
});
