// The native peer certificate keys (native/src/dtls_crypto.c through
// src/transceiver/media/dtls-crypto-native.ts) against node:crypto's (src/core/dtls/certificate.ts
// nodePeerKeys): the same kind for ECDSA P-256/P-384 and RSA 2048/3072/4096 certificates (accepted)
// and RSA 1024, P-521 and Ed25519 ones (refused); the same verdict on good signatures, bit-flipped
// and truncated ones, a wrong hash and a wrong RSA padding; undefined for bytes that are not one
// certificate; hostile arguments (TypeError/RangeError, a foreign key object refused, never a
// crash); and in DTLS handshakes of every suite with them on both sides: connected, and
// ERR_DTLS_BAD_SIGNATURE when ServerKeyExchange or CertificateVerify is signed by another key.
// Also run under ASan/UBSan by `npm run test:native-asan`.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { constants, generateKeyPairSync, sign } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { generateCertificate, nodePeerKeys } from '../../src/core/dtls/certificate.ts';
import type { DtlsEvent, PeerKeys } from '../../src/core/dtls/index.ts';
import { CIPHER_SUITES } from '../../src/core/dtls/suites.ts';
import { seededRng } from '../../src/core/rng.ts';
import { nativePeerKeys } from '../../src/transceiver/media/dtls-crypto-native.ts';
import { certsOf, drive, makePair } from '../core/dtls/harness.ts';
import { addon, skip } from './dtls-crypto-native-support.ts';

/** A self-signed DER certificate for `key`, made by the openssl CLI (any key type it takes). */
function certificateFor(key: KeyObject): Buffer {
  const dir = mkdtempSync(join(tmpdir(), 'parley-peer-key-'));
  try {
    writeFileSync(join(dir, 'key.pem'), key.export({ type: 'pkcs8', format: 'pem' }));
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-new',
        '-key',
        join(dir, 'key.pem'),
        '-subj',
        '/CN=peer',
        '-days',
        '2',
        '-outform',
        'DER',
        '-out',
        join(dir, 'c.der'),
      ],
      { stdio: 'ignore', timeout: 30_000 },
    );
    return readFileSync(join(dir, 'c.der'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const KEYS: [string, () => KeyObject, 'ecdsa' | 'rsa' | undefined][] = [
  ['ECDSA P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey, 'ecdsa'],
  ['ECDSA P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey, 'ecdsa'],
  ['RSA 2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey, 'rsa'],
  ['RSA 3072', () => generateKeyPairSync('rsa', { modulusLength: 3072 }).privateKey, 'rsa'],
  ['RSA 4096', () => generateKeyPairSync('rsa', { modulusLength: 4096 }).privateKey, 'rsa'],
  ['RSA 1024', () => generateKeyPairSync('rsa', { modulusLength: 1024 }).privateKey, undefined],
  ['ECDSA P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' }).privateKey, undefined],
  ['Ed25519', () => generateKeyPairSync('ed25519').privateKey, undefined],
];

test('native and node:crypto read the same key kind from ECDSA, RSA and refused certificates', { skip }, () => {
  const native = nativePeerKeys(addon());
  for (const [name, make, kind] of KEYS) {
    const der = certificateFor(make());
    assert.equal(nodePeerKeys.fromCertificate(der)?.kind, kind, `${name} (node)`);
    assert.equal(native.fromCertificate(der)?.kind, kind, `${name} (native)`);
  }
});

test('native and node:crypto agree on good, flipped, truncated, wrong-hash and wrong-padding signatures', { skip }, () => {
  const native = nativePeerKeys(addon());
  const rng = seededRng('peer-key-signatures');
  for (const [name, make, kind] of KEYS) {
    if (kind === undefined) continue;
    const key = make();
    const der = certificateFor(key);
    const n = native.fromCertificate(der)!;
    const o = nodePeerKeys.fromCertificate(der)!;
    for (const hash of ['sha256', 'sha384'] as const) {
      for (const pss of kind === 'rsa' ? [false, true] : [false]) {
        const data = rng.bytes(1 + (rng.bytes(1)[0] % 200));
        const good = sign(
          hash,
          data,
          pss ? { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST } : key,
        );
        const flipped = Buffer.from(good);
        flipped[rng.bytes(1)[0] % flipped.length] ^= 1 << (rng.bytes(1)[0] % 8);
        const otherHash = hash === 'sha256' ? 'sha384' : 'sha256';
        const cases: [string, Parameters<typeof n.verify>, boolean][] = [
          ['good', [hash, pss, data, good], true],
          ['flipped', [hash, pss, data, flipped], false],
          ['truncated', [hash, pss, data, good.subarray(0, good.length - 1)], false],
          ['empty', [hash, pss, data, Buffer.alloc(0)], false],
          ['other data', [hash, pss, Buffer.concat([data, Buffer.from([0])]), good], false],
          ['wrong hash', [otherHash, pss, data, good], false],
        ];
        // PSS is an RSA padding (the handshake never asks it of an ECDSA key: the scheme's kind must match).
        if (kind === 'rsa') cases.push(['wrong padding', [hash, !pss, data, good], false]);
        for (const [what, args, expected] of cases) {
          assert.equal(n.verify(...args), expected, `${name} ${hash} pss=${pss} ${what} (native)`);
          assert.equal(o.verify(...args), expected, `${name} ${hash} pss=${pss} ${what} (node)`);
        }
      }
    }
  }
});

test('bytes that are not exactly one certificate give undefined', { skip }, () => {
  const native = nativePeerKeys(addon());
  const der = generateCertificate(seededRng('not-a-cert')).der;
  for (const bytes of [
    Buffer.alloc(0),
    Buffer.from([0x30]),
    der.subarray(0, der.length - 1),
    Buffer.concat([der, Buffer.from([0])]),
    seededRng('junk').bytes(300),
  ]) {
    assert.equal(native.fromCertificate(bytes), undefined, `${bytes.length} bytes`);
  }
  // A certificate inside a larger buffer is read at its offset.
  const framed = Buffer.concat([Buffer.from([1, 2, 3]), der, Buffer.from([4])]);
  assert.equal(native.fromCertificate(framed.subarray(3, 3 + der.length))?.kind, 'ecdsa');
});

test('hostile arguments throw TypeError or RangeError; foreign objects are not keys', { skip }, () => {
  const a = addon();
  const key = a.certificateKey(generateCertificate(seededRng('hostile')).der)!;
  const x25519Key = a.x25519Key(Buffer.alloc(32, 9), Buffer.alloc(32));
  const call = (f: unknown, ...args: unknown[]): unknown => (f as (...x: unknown[]) => unknown)(...args);
  assert.throws(() => call(a.certificateKey), TypeError);
  assert.throws(() => call(a.certificateKey, 'der'), TypeError);
  assert.throws(() => call(a.certificateKey, new Uint16Array(4)), TypeError);
  assert.throws(() => a.certificateKey(Buffer.alloc(65536)), RangeError);
  for (const notKey of [undefined, {}, x25519Key, Buffer.alloc(8), 1]) {
    assert.throws(() => call(a.keyKind, notKey), TypeError);
    assert.throws(() => call(a.verifySignature, notKey, false, false, Buffer.alloc(1), Buffer.alloc(1)), TypeError);
  }
  assert.throws(() => call(a.verifySignature, key, false, false, Buffer.alloc(1)), TypeError);
  assert.throws(() => call(a.verifySignature, key, 'no', false, Buffer.alloc(1), Buffer.alloc(1)), TypeError);
  assert.throws(() => call(a.verifySignature, key, false, false, 'data', Buffer.alloc(1)), TypeError);
  assert.throws(() => a.verifySignature(key, false, false, Buffer.alloc((1 << 20) + 1), Buffer.alloc(1)), RangeError);
  assert.throws(() => a.verifySignature(key, false, false, Buffer.alloc(1), Buffer.alloc(1025)), RangeError);
  // PSS asked of an ECDSA key is just a failed check.
  assert.equal(a.verifySignature(key, false, true, Buffer.alloc(1), Buffer.alloc(64)), false);
});

function failure(events: DtlsEvent[]): string | undefined {
  const f = events.find((e) => e.type === 'failed');
  return f?.type === 'failed' ? f.reason.code : undefined;
}

for (const suite of CIPHER_SUITES) {
  test(`${suite.name}: native peer keys on both sides connect, and refuse a signature by another key`, { skip }, () => {
    const peerKeys: PeerKeys = nativePeerKeys(addon());
    const certs = certsOf(suite.auth);
    const only = { cipherSuites: [suite.name] };
    const ok = makePair(`native-ok-${suite.name}`, {
      client: { remoteFingerprint: certs.server.fingerprint, peerKeys, ...only },
      server: { certificate: certs.server, peerKeys },
    });
    ok.client.start(0);
    drive(ok, { done: () => ok.client.state === 'connected' && ok.server.state === 'connected' });
    assert.equal(ok.client.state, 'connected');
    assert.equal(ok.server.state, 'connected');
    const ske = makePair(`native-ske-${suite.name}`, {
      client: { remoteFingerprint: certs.server.fingerprint, peerKeys, ...only },
      server: { certificate: { ...certs.server, privateKey: certs.other.privateKey }, peerKeys },
    });
    ske.client.start(0);
    drive(ske, { done: () => ske.server.state === 'failed' });
    assert.equal(failure(ske.clientEvents), 'ERR_DTLS_BAD_SIGNATURE');
    const clientCerts = certsOf(suite.auth === 'rsa' ? 'ecdsa' : 'rsa');
    const cv = makePair(`native-cv-${suite.name}`, {
      client: {
        certificate: { ...clientCerts.client, privateKey: clientCerts.other.privateKey },
        remoteFingerprint: certs.server.fingerprint,
        peerKeys,
        ...only,
      },
      server: { certificate: certs.server, remoteFingerprint: clientCerts.client.fingerprint, peerKeys },
    });
    cv.client.start(0);
    drive(cv, { done: () => cv.client.state === 'failed' });
    assert.equal(failure(cv.serverEvents), 'ERR_DTLS_BAD_SIGNATURE');
  });
}
