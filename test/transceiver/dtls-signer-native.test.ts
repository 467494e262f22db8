// The native signer (native/src/dtls_crypto.c signingKey/sign through
// src/transceiver/media/dtls-crypto-native.ts nativeSigner) against node:crypto: its ECDSA
// P-256/P-384 and RSA PSS signatures verify with node:crypto's verify, its RSA PKCS#1 v1.5
// signatures are byte-for-byte node's (deterministic); keys it must not take (RSA 1024, P-521,
// Ed25519, PKCS#8 that is truncated, padded or not PKCS#8) give undefined; hostile arguments
// throw TypeError/RangeError, never crash; every suite connects with it signing on both sides
// (ServerKeyExchange and CertificateVerify). Also the ECDSA certificate walk of certificateKey
// (the fast path that skips OpenSSL's X.509 parser): an off-curve point is refused, every
// truncation and one-byte change of a certificate is read without a crash, and a certificate the
// walk takes gives the key node:crypto reads; the point at infinity is refused and a compressed
// point is read as node reads it. And ECDSA nonces made ahead (signPrepare): their signatures
// verify, none is used twice, the pool is bounded, and a prepared client's handshake connects. Also run under ASan/UBSan by `npm run test:native-asan`.
import assert from 'node:assert/strict';
import { constants, createPublicKey, generateKeyPairSync, sign, verify, X509Certificate } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { test } from 'node:test';
import { generateCertificate } from '../../src/core/dtls/certificate.ts';
import { bitString, explicit, oid, sequence, set, unsignedInteger, utcTime, utf8String } from '../../src/core/dtls/der.ts';
import { CIPHER_SUITES } from '../../src/core/dtls/suites.ts';
import { seededRng } from '../../src/core/rng.ts';
import { nativePeerKeys, nativeSigner } from '../../src/transceiver/media/dtls-crypto-native.ts';
import { certsOf, drive, makePair } from '../core/dtls/harness.ts';
import { addon, skip } from './dtls-crypto-native-support.ts';

const pkcs8 = (key: KeyObject): Buffer => key.export({ type: 'pkcs8', format: 'der' });
const data = seededRng('signed-data').bytes(300);

test('native ECDSA and RSA signatures verify with node:crypto; PKCS#1 v1.5 ones equal node’s', { skip }, () => {
  const a = addon();
  const keys: [string, KeyObject, boolean[]][] = [
    ['P-256', generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, [false]],
    ['P-384', generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, [false]],
    ['RSA 2048', generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, [false, true]],
  ];
  for (const [name, key, paddings] of keys) {
    const native = a.signingKey(pkcs8(key));
    assert.ok(native, name);
    for (const hash of ['sha256', 'sha384'] as const) {
      for (const pss of paddings) {
        const padding = pss
          ? { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST }
          : { padding: constants.RSA_PKCS1_PADDING };
        const opts = name.startsWith('RSA') ? { key: createPublicKey(key), ...padding } : createPublicKey(key);
        for (const d of [data, Buffer.alloc(0), data.subarray(7, 77)]) {
          const sig = a.sign(native, hash === 'sha384', pss, d);
          assert.ok(verify(hash, d, opts, sig), `${name} ${hash} pss=${pss} ${d.length} bytes`);
          assert.ok(!verify(hash, Buffer.concat([d, Buffer.from([1])]), opts, sig), `${name}: other data`);
          if (name.startsWith('RSA') && !pss) assert.deepEqual(sig, sign(hash, d, key), `${name} ${hash}: deterministic`);
        }
      }
    }
  }
});

test('signingKey gives undefined for keys and bytes it must not take', { skip }, () => {
  const a = addon();
  for (const [name, key] of [
    ['RSA 1024', generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey],
    ['P-521', generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey],
    ['Ed25519', generateKeyPairSync('ed25519').privateKey],
    ['X25519', generateKeyPairSync('x25519').privateKey],
  ] as const) {
    assert.equal(a.signingKey(pkcs8(key)), undefined, name);
  }
  const good = pkcs8(generateCertificate(seededRng('signer-bytes')).privateKey);
  for (const bytes of [
    Buffer.alloc(0),
    Buffer.from([0x30]),
    good.subarray(0, good.length - 1),
    Buffer.concat([good, Buffer.from([0])]),
    seededRng('junk').bytes(200),
    generateCertificate(seededRng('a-cert')).der,
  ]) {
    assert.equal(a.signingKey(bytes), undefined, `${bytes.length} bytes`);
  }
  // PKCS#8 inside a larger buffer is read at its offset.
  const framed = Buffer.concat([Buffer.from([1, 2, 3]), good, Buffer.from([4])]);
  assert.ok(a.signingKey(framed.subarray(3, 3 + good.length)));
});

test('sign: hostile arguments throw TypeError or RangeError; other keys are not signing keys', { skip }, () => {
  const a = addon();
  const ec = a.signingKey(pkcs8(generateCertificate(seededRng('hostile-sign')).privateKey))!;
  const peer = a.certificateKey(generateCertificate(seededRng('hostile-peer')).der)!;
  const x25519Key = a.x25519Key(Buffer.alloc(32, 9), Buffer.alloc(32));
  const call = (f: unknown, ...args: unknown[]): unknown => (f as (...x: unknown[]) => unknown)(...args);
  assert.throws(() => call(a.signingKey), TypeError);
  assert.throws(() => call(a.signingKey, 'pkcs8'), TypeError);
  assert.throws(() => call(a.signingKey, new Uint32Array(4)), TypeError);
  assert.throws(() => a.signingKey(Buffer.alloc(65536)), RangeError);
  for (const notKey of [undefined, {}, peer, x25519Key, Buffer.alloc(8), 1]) {
    assert.throws(() => call(a.sign, notKey, false, false, data), TypeError);
  }
  assert.throws(() => call(a.sign, ec, false, false), TypeError);
  assert.throws(() => call(a.sign, ec, 'no', false, data), TypeError);
  assert.throws(() => call(a.sign, ec, false, 0, data), TypeError);
  assert.throws(() => call(a.sign, ec, false, false, 'data'), TypeError);
  assert.throws(() => a.sign(ec, false, false, Buffer.alloc((1 << 20) + 1)), RangeError);
  assert.throws(() => a.sign(ec, false, true, data), RangeError, 'PSS with an ECDSA key');
  // A peer key handed to verifySignature is still refused by sign, and the reverse.
  assert.throws(() => call(a.verifySignature, ec, false, false, data, Buffer.alloc(64)), TypeError);
});

/** r of a DER ECDSA-Sig-Value (RFC 3279 §2.2.3): SEQUENCE { r INTEGER, s INTEGER }, short lengths. */
function rOf(sig: Buffer): string {
  assert.equal(sig[0], 0x30);
  assert.equal(sig[2], 0x02);
  return sig.subarray(4, 4 + sig[3]).toString('hex');
}

test('signPrepare: nonces made ahead sign valid ECDSA signatures, each nonce once; a pool of 16; RSA keys take none', { skip }, () => {
  const a = addon();
  for (const curve of ['P-256', 'P-384'] as const) {
    const key = generateKeyPairSync('ec', { namedCurve: curve }).privateKey;
    const native = a.signingKey(pkcs8(key))!;
    const made = Array.from({ length: 17 }, () => a.signPrepare(native));
    assert.deepEqual(made, [...Array<boolean>(16).fill(true), false], `${curve}: 16 made, the 17th refused`);
    const rs = new Set<string>();
    // 16 signatures from the pool, then 4 made the ordinary way: all verify, no r twice (a nonce
    // used twice would show as the same r, and reveal the key).
    for (let i = 0; i < 20; i++) {
      const sha384 = i % 2 === 1;
      const sig = a.sign(native, sha384, false, data);
      assert.ok(verify(sha384 ? 'sha384' : 'sha256', data, createPublicKey(key), sig), `${curve} signature ${i}`);
      rs.add(rOf(sig));
    }
    assert.equal(rs.size, 20, `${curve}: every signature has its own nonce`);
    assert.equal(a.signPrepare(native), true, `${curve}: the pool has room again`);
  }
  const rsa = a.signingKey(pkcs8(certsOf('rsa').server.privateKey))!;
  assert.equal(a.signPrepare(rsa), false);
  const call = (f: unknown, ...args: unknown[]): unknown => (f as (...x: unknown[]) => unknown)(...args);
  for (const notKey of [undefined, {}, a.certificateKey(generateCertificate(seededRng('prep-peer')).der), Buffer.alloc(8)]) {
    assert.throws(() => call(a.signPrepare, notKey), TypeError);
  }
});

test('a prepared DTLS client (its nonce made ahead) connects with the native signer; its CertificateVerify verifies', { skip }, () => {
  const signer = nativeSigner(addon());
  const certs = certsOf('ecdsa');
  for (let i = 0; i < 3; i++) {
    const pair = makePair(`native-signer-prepared-${i}`, {
      client: { certificate: certs.client, remoteFingerprint: certs.server.fingerprint, signer },
      server: { certificate: certs.server, remoteFingerprint: certs.client.fingerprint },
    });
    pair.client.prepare(0);
    pair.client.start(0);
    drive(pair, { done: () => pair.client.state === 'connected' && pair.server.state === 'connected' });
    assert.equal(pair.client.state, 'connected', `handshake ${i}`);
    assert.equal(pair.server.state, 'connected', `handshake ${i}: node:crypto verified our CertificateVerify`);
  }
});

for (const suite of CIPHER_SUITES) {
  test(`${suite.name}: the native signer on both sides connects (ServerKeyExchange and CertificateVerify)`, { skip }, () => {
    const signer = nativeSigner(addon());
    const certs = certsOf(suite.auth);
    const clientCerts = certsOf(suite.auth === 'rsa' ? 'ecdsa' : 'rsa');
    const pair = makePair(`native-signer-${suite.name}`, {
      client: { certificate: clientCerts.client, remoteFingerprint: certs.server.fingerprint, signer, cipherSuites: [suite.name] },
      server: { certificate: certs.server, remoteFingerprint: clientCerts.client.fingerprint, signer },
    });
    pair.client.start(0);
    drive(pair, { done: () => pair.client.state === 'connected' && pair.server.state === 'connected' });
    assert.equal(pair.client.state, 'connected');
    assert.equal(pair.server.state, 'connected');
  });
}

/** Where the uncompressed P-256 point (0x04, X, Y) of `der`'s key starts. */
function pointOffset(der: Buffer, key: KeyObject): number {
  const raw = key.export({ format: 'jwk' });
  const x = Buffer.from(raw.x!, 'base64url');
  const at = der.indexOf(Buffer.concat([Buffer.from([4]), x]));
  assert.ok(at > 0, 'the point is in the certificate');
  return at;
}

test('certificateKey: the ECDSA walk refuses an off-curve point and reads the key node reads', { skip }, () => {
  const native = nativePeerKeys(addon());
  const cert = generateCertificate(seededRng('walk'));
  const peer = native.fromCertificate(cert.der)!;
  assert.equal(peer.kind, 'ecdsa');
  // The key read is the certificate's: a signature by its private key verifies, another's does not.
  assert.ok(peer.verify('sha256', false, data, sign('sha256', data, cert.privateKey)));
  assert.ok(!peer.verify('sha256', false, data, sign('sha256', data, generateCertificate(seededRng('other')).privateKey)));
  const at = pointOffset(cert.der, new X509Certificate(cert.der).publicKey);
  const offCurve = Buffer.from(cert.der);
  offCurve[at + 64] ^= 1; // the last byte of Y
  assert.equal(native.fromCertificate(offCurve), undefined);
  const notUncompressed = Buffer.from(cert.der);
  notUncompressed[at] = 7;
  assert.equal(native.fromCertificate(notUncompressed), undefined);
});

/** A certificate as the walk reads it (signature not valid: the walk does not check it) with `point` as its P-256 key. */
function certificateWithPoint(point: Buffer): Buffer {
  const algorithm = sequence(oid('1.2.840.10045.4.3.2'));
  const name = sequence(set(sequence(oid('2.5.4.3'), utf8String('parley'))));
  const spki = sequence(sequence(oid('1.2.840.10045.2.1'), oid('1.2.840.10045.3.1.7')), bitString(point));
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))),
    unsignedInteger(Buffer.from([1])),
    algorithm,
    name,
    sequence(utcTime('200101000000Z'), utcTime('491231235959Z')),
    name,
    spki,
  );
  return sequence(tbs, algorithm, bitString(Buffer.alloc(8)));
}

test('certificateKey: the point at infinity is refused; a compressed point is the key node reads', { skip }, () => {
  const native = nativePeerKeys(addon());
  assert.equal(native.fromCertificate(certificateWithPoint(Buffer.from([0]))), undefined);
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const jwk = publicKey.export({ format: 'jwk' });
  const x = Buffer.from(jwk.x!, 'base64url');
  const yOdd = Buffer.from(jwk.y!, 'base64url')[31] & 1;
  const peer = native.fromCertificate(certificateWithPoint(Buffer.concat([Buffer.from([2 | yOdd]), x])))!;
  assert.equal(peer.kind, 'ecdsa');
  assert.ok(peer.verify('sha256', false, data, sign('sha256', data, privateKey)));
  assert.ok(peer.verify('sha384', false, data, sign('sha384', data, privateKey)));
  assert.ok(!peer.verify('sha256', false, data, sign('sha384', data, privateKey)));
  // The other parity of Y is the negated point: another key.
  const negated = native.fromCertificate(certificateWithPoint(Buffer.concat([Buffer.from([2 | (yOdd ^ 1)]), x])))!;
  assert.ok(!negated.verify('sha256', false, data, sign('sha256', data, privateKey)));
});

test('certificateKey: every truncation and one-byte change of a certificate is read without a crash', { skip }, () => {
  const native = nativePeerKeys(addon());
  const rng = seededRng('mutate');
  for (const der of [generateCertificate(seededRng('m-ec')).der, certsOf('rsa').server.der]) {
    for (let n = 0; n < der.length; n++) assert.equal(native.fromCertificate(der.subarray(0, n)), undefined, `${n} bytes`);
    for (let i = 0; i < der.length; i++) {
      const changed = Buffer.from(der);
      changed[i] ^= 1 + (rng.bytes(1)[0] % 255);
      const kind = native.fromCertificate(changed)?.kind;
      assert.ok(kind === undefined || kind === 'ecdsa' || kind === 'rsa', `byte ${i}`);
    }
  }
});
