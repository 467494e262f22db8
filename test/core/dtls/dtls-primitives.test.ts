// The building blocks on their own: the TLS 1.2 PRF against a published vector and against
// OpenSSL's TLS1-PRF, the anti-replay window (RFC 6347 §4.1.2.6), record parsing and
// AES-128-GCM protection (RFC 5288), handshake reassembly (RFC 6347 §4.2.3), our X.509
// certificate, ECDHE peer-key validation (RFC 8422 §5.11), the peer certificate against each SDP
// fingerprint hash, and the handshake transcript hash.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import fc from 'fast-check';
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { nodePeerKeys, parseFingerprint, verifyPeerCertificate } from '../../../src/core/dtls/certificate.ts';
import { DtlsCode, DtlsError } from '../../../src/core/dtls/errors.ts';
import { Transcript } from '../../../src/core/dtls/transcript.ts';
import { generateEphemeral } from '../../../src/core/dtls/ecdhe.ts';
import { NamedGroup, parseExtensions, serverHelloExtensions, SrtpProfile } from '../../../src/core/dtls/extensions.ts';
import { encodeFragment, encodeMessage } from '../../../src/core/dtls/handshake.ts';
import { prf } from '../../../src/core/dtls/prf.ts';
import { Reassembler } from '../../../src/core/dtls/reassembly.ts';
import { AeadRecordCipher, encodeRecord, parseRecords } from '../../../src/core/dtls/record.ts';
import { CIPHER_SUITES } from '../../../src/core/dtls/suites.ts';
import { ReplayWindow } from '../../../src/core/replay-window.ts';
import { parseHandshakeFragments } from '../../../src/core/dtls/handshake.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { u16, u24, u48, u8, vec } from '../../../src/core/dtls/reader.ts';

test('PRF-SHA256 matches the published TLS 1.2 test vector', () => {
  // The TLS 1.2 PRF vector circulated on the IETF TLS list (also used by Go's crypto/tls tests).
  const out = prf(
    Buffer.from('9bbe436ba940f017b17652849a71db35', 'hex'),
    'test label',
    Buffer.from('a0ba9f936cda311827a6f796ffd5198c', 'hex'),
    100,
  );
  assert.equal(
    out.toString('hex'),
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
  );
});

test('PRF-SHA256 agrees with OpenSSL TLS1-PRF on random inputs', () => {
  const rng = seededRng('prf');
  for (let i = 0; i < 5; i++) {
    const secret = rng.bytes(48);
    const seed = rng.bytes(64);
    const len = 13 + i * 29;
    const theirs = execFileSync(
      'openssl',
      [
        'kdf',
        '-keylen',
        String(len),
        '-kdfopt',
        'digest:SHA256',
        '-kdfopt',
        `hexsecret:${secret.toString('hex')}`,
        '-kdfopt',
        `hexseed:${Buffer.concat([Buffer.from('key expansion'), seed]).toString('hex')}`,
        'TLS1-PRF',
      ],
      { encoding: 'latin1', timeout: 10_000 },
    );
    assert.equal(prf(secret, 'key expansion', seed, len).toString('hex'), theirs.trim().replaceAll(':', '').toLowerCase());
  }
});

test('replay window accepts each sequence number once and rejects what fell behind 64 (RFC 6347 §4.1.2.6)', () => {
  const w = new ReplayWindow(64);
  const accept = (s: number): boolean => {
    if (w.check(s) !== 'ok') return false;
    w.commit(s);
    return true;
  };
  assert.equal(accept(5), true);
  assert.equal(accept(5), false);
  assert.equal(accept(3), true, 'older but inside the window');
  assert.equal(accept(3), false);
  assert.equal(accept(100), true);
  assert.equal(accept(37), true, '100 - 63 is still inside');
  assert.equal(accept(36), false, '100 - 64 is outside');
  assert.equal(accept(2 ** 48 - 1), true, 'the largest 48-bit sequence number');
  assert.equal(accept(2 ** 48 - 1), false);
  // check() alone never changes state: an unauthenticated record cannot move the window.
  const v = new ReplayWindow(64);
  v.check(1000);
  assert.equal(v.check(1), 'ok');
});

test('replay window agrees with a set-based model on random sequences', () => {
  fc.assert(
    fc.property(fc.array(fc.nat({ max: 300 }), { maxLength: 200 }), (seqs) => {
      const w = new ReplayWindow(64);
      const seen = new Set<number>();
      let top = -1;
      for (const s of seqs) {
        const expected = !seen.has(s) && s > top - 64;
        assert.equal(w.check(s) === 'ok', expected);
        if (expected) {
          w.commit(s);
          seen.add(s);
          top = Math.max(top, s);
        }
      }
    }),
  );
});

test('record parsing is total: several records per datagram, a truncated tail is dropped', () => {
  const a = encodeRecord(22, 0xfefd, 0, 1, Buffer.from('one'));
  const b = encodeRecord(23, 0xfefd, 1, 2 ** 48 - 1, Buffer.from('two'));
  const recs = parseRecords(Buffer.concat([a, b, b.subarray(0, 14)]));
  assert.deepEqual(
    recs.map((r) => [r.type, r.epoch, r.seq, r.fragment.toString()]),
    [
      [22, 0, 1, 'one'],
      [23, 1, 2 ** 48 - 1, 'two'],
    ],
  );
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      for (const r of parseRecords(Buffer.from(bytes))) assert.ok(r.fragment.length <= bytes.length);
    }),
  );
});

test('AEAD records (AES-128/256-GCM, ChaCha20-Poly1305): round trip, and any change to header, nonce, body or tag is rejected', () => {
  for (const suite of CIPHER_SUITES.filter((s) => s.auth === 'ecdsa')) {
    const key = seededRng(`k-${suite.aead}`).bytes(suite.keyLength);
    const iv = seededRng(`s-${suite.aead}`).bytes(suite.fixedIvLength);
    const seal = new AeadRecordCipher(suite, key, iv);
    const open = new AeadRecordCipher(suite, key, iv);
    const rec = seal.seal(23, 0xfefd, 1, 7, Buffer.from('secret'));
    assert.equal(rec.length, 13 + suite.explicitNonceLength + 6 + 16, suite.name);
    // Another sequence number gives another nonce: the same plaintext seals differently.
    const other = seal.seal(23, 0xfefd, 1, 8, Buffer.from('secret'));
    assert.notDeepEqual(other.subarray(13), rec.subarray(13), suite.name);
    assert.equal(open.open(parseRecords(rec)[0])?.toString(), 'secret');
    for (let i = 0; i < rec.length; i++) {
      if (i >= 11 && i < 13) continue; // the length field: changing it makes the record unparseable instead
      const bad = Buffer.from(rec);
      bad[i] ^= 0x01;
      const parsed = parseRecords(bad);
      assert.ok(parsed.length === 0 || open.open(parsed[0]) === undefined, `byte ${i}`);
    }
  }
});

test('reassembly delivers in order once, from overlapping, reordered and duplicated fragments', () => {
  const body = seededRng('body').bytes(500);
  const frags = [
    [0, 200],
    [150, 200],
    [400, 100],
    [300, 150],
    [0, 50],
  ].map(([o, l]) => parseHandshakeFragments(encodeFragment(11, 0, body, o, l))[0]);
  const r = new Reassembler();
  for (const f of frags.slice(0, 4)) assert.equal(r.add(f, 0), 'buffered');
  const msg = r.next();
  assert.deepEqual(msg?.body, body);
  assert.equal(r.next(), undefined);
  assert.equal(r.add(frags[4], 0), 'old');
  // Far-future messages, oversized ones and contradicting fragments are dropped.
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(1, 50, body, 0, 10))[0], 0), 'dropped');
  assert.equal(r.add({ msgType: 1, length: 1 << 20, messageSeq: 1, fragmentOffset: 0, body: Buffer.alloc(1) }, 0), 'dropped');
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(1, 1, body, 0, 10))[0], 0), 'buffered');
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(2, 1, body, 10, 10))[0], 0), 'dropped');
});

test('generated certificate: X.509 v3, self-signed ECDSA P-256/SHA-256, SDP fingerprint, openssl parses it', () => {
  const c = generateCertificate(seededRng('cert'));
  const x = new X509Certificate(c.der);
  assert.ok(x.verify(x.publicKey), 'self-signature verifies');
  assert.equal(x.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
  assert.equal(x.fingerprint256, c.fingerprint);
  assert.match(c.fingerprint, /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
  // Same seed, same key and serial (the ECDSA signature's own nonce is node's, so the DER differs).
  const again = new X509Certificate(generateCertificate(seededRng('cert')).der);
  assert.equal(again.serialNumber, x.serialNumber);
  assert.deepEqual(again.publicKey.export({ format: 'jwk' }), x.publicKey.export({ format: 'jwk' }));
  const text = execFileSync('openssl', ['x509', '-inform', 'der', '-noout', '-text'], {
    input: c.der,
    encoding: 'latin1',
    timeout: 10_000,
  });
  assert.match(text, /Version: 3 \(0x2\)/);
  assert.match(text, /Signature Algorithm: ecdsa-with-SHA256/);
  assert.match(text, /NIST CURVE: P-256|ASN1 OID: prime256v1/);
  const unseeded = generateCertificate();
  assert.ok(new X509Certificate(unseeded.der).verify(new X509Certificate(unseeded.der).publicKey));
  assert.deepEqual(parseFingerprint(c.fingerprint.toLowerCase()), parseFingerprint(c.fingerprint));
  assert.equal(parseFingerprint('AB:CD'), undefined);
});

test('ECDHE: both groups agree; bad peer points are illegal_parameter (RFC 8422 §5.11, RFC 7748 §6.1)', () => {
  for (const group of [NamedGroup.x25519, NamedGroup.secp256r1]) {
    const a = generateEphemeral(group, seededRng(`a${group}`));
    const b = generateEphemeral(group, seededRng(`b${group}`));
    assert.deepEqual(a.agree(b.publicKey), b.agree(a.publicKey));
  }
  const x = generateEphemeral(NamedGroup.x25519, seededRng('x'));
  assert.throws(() => x.agree(Buffer.alloc(32)), { code: 'ERR_DTLS_ILLEGAL_PARAMETER' }, 'zero point gives the all-zero secret');
  assert.throws(() => x.agree(Buffer.alloc(31)), { code: 'ERR_DTLS_ILLEGAL_PARAMETER' });
  const p = generateEphemeral(NamedGroup.secp256r1, seededRng('p'));
  const offCurve = Buffer.concat([Buffer.from([4]), Buffer.alloc(64, 1)]);
  assert.throws(() => p.agree(offCurve), { code: 'ERR_DTLS_ILLEGAL_PARAMETER' });
  const compressed = Buffer.concat([Buffer.from([2]), p.publicKey.subarray(1, 33)]);
  assert.throws(() => p.agree(compressed), { code: 'ERR_DTLS_ILLEGAL_PARAMETER' });
});

test('peer certificate against the SDP fingerprint: sha-1, sha-256, sha-384 and sha-512 digests verify, one changed byte is fingerprint_mismatch', () => {
  const cert = generateCertificate(seededRng('fingerprint-hashes'));
  for (const alg of ['sha1', 'sha256', 'sha384', 'sha512']) {
    // The expected digest computed independently of verifyPeerCertificate (a stream Hash).
    const digest = createHash(alg).update(cert.der).digest();
    const key = verifyPeerCertificate([cert.der], digest, nodePeerKeys);
    assert.equal(key.kind, 'ecdsa', alg);
    const wrong = Buffer.from(digest);
    wrong[wrong.length - 1] ^= 1;
    assert.throws(
      () => verifyPeerCertificate([cert.der], wrong, nodePeerKeys),
      (e: unknown) => e instanceof DtlsError && e.code === DtlsCode.fingerprintMismatch,
      alg,
    );
  }
});

test('transcript hash: SHA-256 and SHA-384 of every message as sent unfragmented, in order, after reset only what follows', () => {
  const t = new Transcript();
  t.add(1, 0, Buffer.from('hello'));
  t.reset();
  const bodies = [Buffer.alloc(0), Buffer.from('server hello'), Buffer.alloc(700, 7)];
  bodies.forEach((b, i) => t.add(2 + i, i, b));
  const expected = Buffer.concat(bodies.map((b, i) => encodeMessage(2 + i, i, b)));
  assert.deepEqual(t.bytes(), expected);
  for (const alg of ['sha256', 'sha384'] as const) assert.deepEqual(t.hash(alg), createHash(alg).update(expected).digest(), alg);
});

test('transcript in one growing buffer: past 2 KB it grows and keeps every message; a view taken earlier never changes, not after more adds nor after reset', () => {
  const rng = seededRng('transcript-growth');
  const t = new Transcript();
  const bodies: Buffer[] = [];
  const views: { view: Buffer; copy: Buffer }[] = [];
  for (let i = 0; i < 12; i++) {
    const b = rng.bytes(1 + ((i * 397) % 1500)); // 1..1500 bytes: several growths
    bodies.push(b);
    t.add(11, i, b);
    const view = t.bytes();
    views.push({ view, copy: Buffer.from(view) });
  }
  assert.deepEqual(t.bytes(), Buffer.concat(bodies.map((b, i) => encodeMessage(11, i, b))));
  t.reset();
  assert.equal(t.bytes().length, 0);
  t.add(1, 0, Buffer.alloc(3000, 0xaa)); // after reset: a fresh buffer, not the old one overwritten
  for (const { view, copy } of views) assert.deepEqual(view, copy);
  assert.deepEqual(t.bytes(), encodeMessage(1, 0, Buffer.alloc(3000, 0xaa)));
});

test('reassembly of a message that came whole: its own copy (the datagram may be reused), a duplicate never rewrites it', () => {
  const body = seededRng('whole').bytes(300);
  const datagram = encodeFragment(11, 0, body, 0, body.length);
  const r = new Reassembler();
  assert.equal(r.add(parseHandshakeFragments(datagram)[0], 0, 5), 'buffered');
  datagram.fill(0); // the caller's buffer, reused
  // A different body under the same message_seq before delivery: not taken.
  const other = Buffer.alloc(300, 0xee);
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(11, 0, other, 0, other.length))[0], 0, 6), 'buffered');
  const msg = r.next();
  assert.deepEqual(msg?.body, body);
  assert.equal(msg?.recordSeq, 6); // the last fragment's record, as before (HelloVerifyRequest echoes it)
  assert.equal(r.next(), undefined);
  // A message that came in pieces is still reassembled (and a piece of a whole one counted as old).
  const b2 = seededRng('pieces').bytes(100);
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(12, 1, b2, 50, 50))[0], 0), 'buffered');
  assert.equal(r.next(), undefined);
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(12, 1, b2, 0, 50))[0], 0), 'buffered');
  assert.deepEqual(r.next()?.body, b2);
  assert.equal(r.add(parseHandshakeFragments(encodeFragment(11, 0, body, 0, 10))[0], 0), 'old');
});

test('encoders: every byte written from pooled memory (fragments, records, vectors); out-of-range lengths throw instead of wrapping', () => {
  // Dirty the pool first: a byte the encoders forgot to write would show as 0xdd.
  for (let i = 0; i < 64; i++) Buffer.allocUnsafe(100).fill(0xdd);
  const body = Buffer.from('0123456789');
  assert.deepEqual(encodeFragment(11, 0x0102, body, 2, 5), Buffer.from('0b00000a010200000200000532333435 36'.replaceAll(' ', ''), 'hex'));
  assert.deepEqual(
    encodeRecord(22, 0xfefd, 1, 0x010203040506, body.subarray(0, 2)),
    Buffer.from('16fefd00010102030405060002' + '3031', 'hex'),
  );
  assert.deepEqual(vec(1, body.subarray(0, 3)), Buffer.from('03303132', 'hex'));
  assert.deepEqual(vec(2, Buffer.alloc(0)), Buffer.from('0000', 'hex'));
  assert.deepEqual(vec(3, body.subarray(0, 1)), Buffer.from('00000130', 'hex'));
  assert.deepEqual(
    [u8(0x1ff), u16(0xfefd), u24(0x010203), u48(0x010203040506)],
    [Buffer.from([0xff]), Buffer.from([0xfe, 0xfd]), Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3, 4, 5, 6])],
  );
  assert.throws(() => vec(1, Buffer.alloc(256)), RangeError); // was silently a length of 0
  assert.throws(() => vec(2, Buffer.alloc(65536)), RangeError);
  assert.throws(() => encodeFragment(11, 0, body, 8, 5), RangeError); // past the message: no unwritten tail
});

test('ServerHello extensions, built once per answer: each answer says only what it should, asked again gives the same bytes', () => {
  const seen = new Set<string>();
  for (const profile of [SrtpProfile.SRTP_AES128_CM_HMAC_SHA1_80, SrtpProfile.SRTP_AEAD_AES_128_GCM])
    for (const renegotiationInfo of [false, true])
      for (const pointFormats of [false, true]) {
        const answer = { renegotiationInfo, pointFormats };
        const first = Buffer.from(serverHelloExtensions(profile, answer));
        const ext = parseExtensions(first);
        assert.deepEqual(ext.srtpProfiles, [profile]);
        assert.equal(ext.extendedMasterSecret, true);
        assert.equal(ext.renegotiationInfo !== undefined, renegotiationInfo);
        assert.equal(ext.pointFormats !== undefined, pointFormats);
        assert.deepEqual(serverHelloExtensions(profile, { ...answer }), first);
        seen.add(first.toString('hex'));
      }
  assert.equal(seen.size, 8);
});

test('parseFingerprint (one pass, no regular expression) agrees with the regex-and-hex reading on well-formed and damaged fingerprints', () => {
  const model = (text: string): Buffer | undefined => {
    const t = text.trim();
    if (!/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2})*$/.test(t)) return undefined;
    const d = Buffer.from(t.replaceAll(':', ''), 'hex');
    return [20, 32, 48, 64].includes(d.length) ? d : undefined;
  };
  const fp = (bytes: Uint8Array, lower: boolean): string => {
    const s = [...bytes].map((b) => b.toString(16).padStart(2, '0')).join(':');
    return lower ? s : s.toUpperCase();
  };
  const damage = fc.oneof(
    fc.constant((s: string) => s),
    fc.constant((s: string) => ` ${s}\t`),
    fc.constant((s: string) => s.slice(1)),
    fc.constant((s: string) => `${s}:`),
    fc.constant((s: string) => s.replace(':', '-')),
    fc.constant((s: string) => s.replace(':', '::')),
    fc.constant((s: string) => s.replace(/[0-9a-f]/i, 'g')),
    fc.constant((s: string) => s.replace(/[0-9a-f]/i, ' ')),
    fc.constant((s: string) => s.replace(/[0-9a-f]/i, '\u0130')),
    fc.constant((s: string) => s.replaceAll(':', '')),
  );
  fc.assert(
    fc.property(
      fc.constantFrom(1, 19, 20, 21, 32, 48, 64, 65),
      fc.boolean(),
      damage,
      fc.uint8Array({ minLength: 65, maxLength: 65 }),
      (n, lower, hurt, bytes) => {
        const text = hurt(fp(bytes.subarray(0, n), lower));
        assert.deepEqual(parseFingerprint(text), model(text), JSON.stringify(text));
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(parseFingerprint(''), undefined);
  assert.equal(parseFingerprint('zz'.padEnd(95, ':zz')), undefined);
});
