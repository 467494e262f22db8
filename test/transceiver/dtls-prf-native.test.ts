// The native TLS 1.2 PRF (native/src/dtls_crypto.c through src/transceiver/media/dtls-crypto-native.ts)
// against the published TLS 1.2 PRF vectors (P_SHA256 and P_SHA384, the ones circulated on the
// IETF TLS list that Go's crypto/tls tests also use), against the TypeScript PRF (node:crypto's
// HMACs, src/core/dtls/prf.ts) on random secrets, labels, seeds and lengths, on hostile arguments
// (wrong types, empty or oversized inputs, bad lengths: TypeError/RangeError, never a crash), and
// in DTLS handshakes where one or both sides use it, every suite. Also run under ASan/UBSan by
// `npm run test:native-asan`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prf } from '../../src/core/dtls/prf.ts';
import { CIPHER_SUITES } from '../../src/core/dtls/suites.ts';
import { seededRng } from '../../src/core/rng.ts';
import { addon, handshakeEvents, skip } from './dtls-crypto-native-support.ts';
import { nativePrf } from '../../src/transceiver/media/dtls-crypto-native.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** [hash, secret, seed, output] with the label "test label". */
const VECTORS = [
  [
    'sha256',
    '9bbe436ba940f017b17652849a71db35',
    'a0ba9f936cda311827a6f796ffd5198c',
    'e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff70187347b66',
  ],
  [
    'sha384',
    'b80b733d6ceefcdc71566ea48e5567df',
    'cd665cf6a8447dd6ff8b27555edb7465',
    '7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cde9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d9184259b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee691c8f3a26854308d5eaa3be85e0990703d73e56f',
  ],
] as const;

test('the published TLS 1.2 PRF vectors, P_SHA256 (100 bytes) and P_SHA384 (148 bytes)', { skip }, () => {
  const p = nativePrf(addon());
  for (const [hash, secret, seed, out] of VECTORS) {
    assert.equal(p(hex(secret), 'test label', hex(seed), out.length / 2, hash).toString('hex'), out);
    // Every shorter length is a prefix (the callers take 12, 48, 40…88 and 60 bytes).
    for (const n of [1, 12, 31, 32, 33, 48, 60])
      assert.equal(p(hex(secret), 'test label', hex(seed), n, hash).toString('hex'), out.slice(0, 2 * n));
  }
});

test('native PRF equals the TypeScript PRF on 400 random secrets (1–200 bytes), labels, seeds and lengths', { skip }, () => {
  const p = nativePrf(addon());
  const rng = seededRng('prf-native');
  for (let i = 0; i < 400; i++) {
    const hash = i % 2 === 0 ? 'sha256' : 'sha384';
    const secret = rng.bytes(1 + (rng.bytes(1)[0] % 200));
    const label = rng.bytes(1 + (rng.bytes(1)[0] % 40)).toString('latin1');
    const seed = rng.bytes(rng.bytes(1)[0] % 130);
    const length = 1 + ((rng.bytes(1)[0] << 2) % 700);
    assert.equal(
      p(secret, label, seed, length, hash).toString('hex'),
      prf(secret, label, seed, length, hash).toString('hex'),
      `${hash} secret ${secret.length} label ${label.length} seed ${seed.length} length ${length}`,
    );
  }
});

test('the PRF reads a Buffer view at its offset (a subarray of a larger buffer)', { skip }, () => {
  const p = nativePrf(addon());
  const big = seededRng('views').bytes(300);
  const secret = big.subarray(7, 55);
  const seed = big.subarray(101, 165);
  assert.deepEqual(p(secret, 'key expansion', seed, 72, 'sha256'), prf(Buffer.from(secret), 'key expansion', Buffer.from(seed), 72));
});

test('hostile arguments throw TypeError or RangeError and never reach OpenSSL', { skip }, () => {
  const a = addon();
  const ok = Buffer.alloc(16, 1);
  const label = Buffer.from('l');
  const cases: [unknown[], typeof TypeError | typeof RangeError][] = [
    [[], TypeError],
    [[false, ok, label, ok], TypeError],
    [['yes', ok, label, ok, 16], TypeError],
    [[false, 'secret', label, ok, 16], TypeError],
    [[false, ok, 'label', ok, 16], TypeError],
    [[false, ok, label, [1, 2], 16], TypeError],
    [[false, new Uint16Array(8), label, ok, 16], TypeError],
    [[false, ok, label, ok, '16'], TypeError],
    [[false, ok, label, ok, 16n], TypeError],
    [[false, ok, label, ok, 0], RangeError],
    [[false, ok, label, ok, -1], RangeError],
    [[false, ok, label, ok, 1.5], RangeError],
    [[false, ok, label, ok, Number.NaN], RangeError],
    [[false, ok, label, ok, Infinity], RangeError],
    [[false, ok, label, ok, 65536], RangeError],
    [[false, ok, label, ok, 2 ** 32 + 16], RangeError],
    [[false, Buffer.alloc(0), label, ok, 16], RangeError],
    [[false, Buffer.alloc(65536), label, ok, 16], RangeError],
    [[false, ok, Buffer.alloc(0), ok, 16], RangeError],
    [[false, ok, Buffer.alloc(65536), ok, 16], RangeError],
    [[false, ok, label, Buffer.alloc(65536), 16], RangeError],
  ];
  const call = a.tls12Prf as (...args: unknown[]) => Buffer;
  for (const [args, type] of cases) assert.throws(() => call(...args), type, `tls12Prf(${args.map(String).join(', ')})`);
  // The limits themselves are accepted.
  assert.equal(a.tls12Prf(true, Buffer.alloc(65535, 2), Buffer.alloc(65535, 3), Buffer.alloc(65535, 4), 65535).length, 65535);
  assert.equal(a.tls12Prf(false, Buffer.alloc(1), Buffer.alloc(1), Buffer.alloc(0), 1).length, 1);
});

test('DTLS handshakes connect with the native PRF on either side or both, every ECDSA suite (SHA-256 and SHA-384 PRFs)', { skip }, () => {
  const p = nativePrf(addon());
  const suites = CIPHER_SUITES.filter((s) => s.auth === 'ecdsa');
  assert.ok(suites.some((s) => s.prfHash === 'sha384'));
  for (const suite of suites) {
    for (const [clientPrf, serverPrf] of [
      [p, undefined],
      [undefined, p],
      [p, p],
    ] as const) {
      const events = handshakeEvents({ prf: clientPrf, cipherSuites: [suite.name] }, { prf: serverPrf });
      assert.deepEqual(
        events.map((e) => (e.type === 'connected' ? e.cipherSuite : e.type)),
        [suite.name, suite.name],
      );
      const [c, s] = events.map((e) => (e.type === 'connected' ? e.keyingMaterial.toString('hex') : ''));
      assert.equal(c, s, 'both sides export the same SRTP keying material');
    }
  }
});
