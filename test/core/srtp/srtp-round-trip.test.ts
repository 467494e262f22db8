// Protect → unprotect for both profiles and both directions, DTLS key split, tampering.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SrtpError, SrtpKeyError, SrtpSession, SRTP_PROFILES, srtpProfileById } from '../../../src/core/srtp/index.ts';
import { PROFILES, bytes, pair, rtcpRr, rtp } from './helpers.ts';

for (const profile of PROFILES) {
  const tag = SRTP_PROFILES[profile].tagLength;

  test(`${profile}: RTP round trip client→server and server→client`, () => {
    const { client, server } = pair(profile);
    for (let seq = 100; seq < 110; seq++) {
      const plain = rtp(seq);
      const wire = client.protectRtp(plain);
      assert.equal(wire.length, plain.length + tag);
      assert.deepEqual(wire.subarray(0, 12), plain.subarray(0, 12), 'header stays clear');
      assert.notDeepEqual(wire.subarray(12, plain.length), plain.subarray(12), 'payload is encrypted');
      assert.deepEqual(server.unprotectRtp(wire), plain);
      const back = rtp(seq, 0xaabbccdd);
      assert.deepEqual(client.unprotectRtp(server.protectRtp(back)), back);
    }
  });

  test(`${profile}: RTCP round trip both ways, SRTCP index increments with E set`, () => {
    const { client, server } = pair(profile);
    const trailerAt = (n: number): number => (SRTP_PROFILES[profile].aead ? n - 4 : n - 4 - tag);
    for (let i = 0; i < 5; i++) {
      const plain = rtcpRr();
      const wire = client.protectRtcp(plain);
      assert.equal(wire.length, plain.length + 4 + tag);
      assert.equal(wire.readUInt32BE(trailerAt(wire.length)), (0x80000000 | i) >>> 0);
      assert.deepEqual(server.unprotectRtcp(wire), plain);
      assert.deepEqual(client.unprotectRtcp(server.protectRtcp(rtcpRr(7))), rtcpRr(7));
    }
  });

  test(`${profile}: a session does not decrypt what it sent itself (client and server keys differ)`, () => {
    const { client } = pair(profile);
    const r = client.unprotectRtp(client.protectRtp(rtp(1)));
    assert.ok(r instanceof SrtpError);
    assert.equal(r.reason, 'auth_failed');
  });

  test(`${profile}: flipping any single byte of an SRTP packet gives auth-failed (or a header reason)`, () => {
    const { client } = pair(profile);
    const wire = client.protectRtp(rtp(5, 0x01020304, bytes(40)));
    for (let i = 0; i < wire.length; i++) {
      const { server } = pair(profile);
      const bad = Buffer.from(wire);
      bad[i] ^= 0x01;
      const r = server.unprotectRtp(bad);
      assert.ok(r instanceof SrtpError, `byte ${i}`);
      // Byte 0 bit 0 is a CSRC-count bit: the header then claims 4 more bytes — still refused.
      assert.ok(['auth_failed', 'malformed'].includes(r.reason), `byte ${i}: ${r.reason}`);
      assert.deepEqual(server.unprotectRtp(wire), rtp(5, 0x01020304, bytes(40)), 'a failed packet leaves no state');
    }
  });

  test(`${profile}: flipping any single byte of an SRTCP packet gives auth-failed`, () => {
    const { client } = pair(profile);
    const wire = client.protectRtcp(rtcpRr());
    for (let i = 0; i < wire.length; i++) {
      const { server } = pair(profile);
      const bad = Buffer.from(wire);
      bad[i] ^= 0x04;
      const r = server.unprotectRtcp(bad);
      assert.ok(r instanceof SrtpError, `byte ${i}`);
      assert.equal(r.reason, 'auth_failed', `byte ${i}`);
    }
  });

  test(`${profile}: truncated packets are refused with a reason, never thrown`, () => {
    const { client, server } = pair(profile);
    const wire = client.protectRtp(rtp(9));
    const wireC = client.protectRtcp(rtcpRr());
    for (let n = 0; n < wire.length; n++) assert.ok(server.unprotectRtp(wire.subarray(0, n)) instanceof SrtpError);
    for (let n = 0; n < wireC.length; n++) assert.ok(server.unprotectRtcp(wireC.subarray(0, n)) instanceof SrtpError);
    assert.equal((server.unprotectRtp(Buffer.alloc(3)) as SrtpError).reason, 'too_short');
  });

  test(`${profile}: RTP with CSRCs, header extension and padding round-trips; header is authenticated`, () => {
    const { client, server } = pair(profile);
    const h = Buffer.from('b0' + '6f' + '0005' + '00000100' + '11223344' + '00000001' + '00000002' + 'bede0001' + '10ff0000', 'hex');
    h[0] = 0x80 | 0x20 | 0x10 | 2; // P, X, CC=2
    const plain = Buffer.concat([h, bytes(20), Buffer.from([0, 0, 0, 4])]);
    const wire = client.protectRtp(plain);
    assert.deepEqual(wire.subarray(0, h.length), h);
    assert.deepEqual(server.unprotectRtp(wire), plain);
  });

  test(`${profile}: outputs are fresh buffers and inputs are untouched`, () => {
    const { client, server } = pair(profile);
    const plain = rtp(1);
    const copy = Buffer.from(plain);
    const a = client.protectRtp(plain);
    const b = client.protectRtp(rtp(2));
    assert.deepEqual(plain, copy);
    assert.notEqual(a.buffer === b.buffer && a.byteOffset === b.byteOffset, true);
    const aCopy = Buffer.from(a);
    const out = server.unprotectRtp(a) as Buffer;
    assert.deepEqual(a, aCopy);
    out.fill(0);
    assert.deepEqual(a, aCopy);
  });
}

test('fromDtls splits client_key|server_key|client_salt|server_salt (RFC 5764 §4.2)', () => {
  const km = bytes(60);
  const byHand = new SrtpSession(
    'SRTP_AES128_CM_HMAC_SHA1_80',
    { key: km.subarray(0, 16), salt: km.subarray(32, 46) },
    { key: km.subarray(16, 32), salt: km.subarray(46, 60) },
  );
  const server = SrtpSession.fromDtls('SRTP_AES128_CM_HMAC_SHA1_80', km, 'server');
  assert.deepEqual(server.unprotectRtp(byHand.protectRtp(rtp(3))), rtp(3));
  const gcm = bytes(56);
  const c = new SrtpSession(
    'SRTP_AEAD_AES_128_GCM',
    { key: gcm.subarray(0, 16), salt: gcm.subarray(32, 44) },
    { key: gcm.subarray(16, 32), salt: gcm.subarray(44, 56) },
  );
  assert.deepEqual(SrtpSession.fromDtls('SRTP_AEAD_AES_128_GCM', gcm, 'server').unprotectRtp(c.protectRtp(rtp(3))), rtp(3));
});

test('wrong keying-material or key sizes throw SrtpKeyError with a stable code', () => {
  assert.throws(
    () => SrtpSession.fromDtls('SRTP_AES128_CM_HMAC_SHA1_80', bytes(56), 'client'),
    (e: unknown) => e instanceof SrtpKeyError && e.code === 'ERR_SRTP_BAD_KEYING_MATERIAL',
  );
  assert.throws(
    () => new SrtpSession('SRTP_AEAD_AES_128_GCM', { key: bytes(16), salt: bytes(14) }, { key: bytes(16), salt: bytes(12) }),
    SrtpKeyError,
  );
});

test('protect throws SrtpError for RTP that is not RTP (our own bug, not hostile input)', () => {
  const { client } = pair('SRTP_AES128_CM_HMAC_SHA1_80');
  assert.throws(
    () => client.protectRtp(Buffer.alloc(5)),
    (e: unknown) => e instanceof SrtpError && e.code === 'ERR_SRTP_TOO_SHORT',
  );
  const v1 = rtp(1);
  v1[0] = 0x40;
  assert.throws(
    () => client.protectRtp(v1),
    (e: unknown) => e instanceof SrtpError && e.reason === 'bad_version',
  );
  assert.throws(() => client.protectRtcp(Buffer.alloc(4)), SrtpError);
});

test('use_srtp profile ids map to names (RFC 5764 §4.1.2, RFC 7714 §14.2)', () => {
  assert.equal(srtpProfileById(0x0001), 'SRTP_AES128_CM_HMAC_SHA1_80');
  assert.equal(srtpProfileById(0x0007), 'SRTP_AEAD_AES_128_GCM');
  assert.equal(srtpProfileById(0x0002), undefined, 'SRTP_AES128_CM_HMAC_SHA1_32 is not offered');
});
