// The native X25519 (native/src/dtls_crypto.c through src/transceiver/media/dtls-crypto-native.ts)
// against RFC 7748's vectors (§5.2 the function itself, §6.1 the Diffie-Hellman example), against
// node:crypto's X25519 on random scalars and peer values, on small-order points (rejected, and a
// handshake offering one fails with illegal_parameter), on hostile arguments (wrong lengths and
// types, a foreign object as key: TypeError/RangeError, never a crash), and in DTLS handshakes
// where one or both sides use it. Also run under ASan/UBSan by `npm run test:native-asan`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { generateEphemeral, nodeX25519 } from '../../src/core/dtls/ecdhe.ts';
import { NamedGroup } from '../../src/core/dtls/extensions.ts';
import { seededRng } from '../../src/core/rng.ts';
import { addon, handshakeEvents, skip } from './dtls-crypto-native-support.ts';
import { nativeX25519 } from '../../src/transceiver/media/dtls-crypto-native.ts';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

/** X25519(scalar, u) as RFC 7748 §5 defines it: the key's agreement with the point u. */
function x25519(scalar: Buffer, u: Buffer): Buffer | undefined {
  return addon().x25519Agree(addon().x25519Key(scalar, Buffer.alloc(32)), u);
}

/** RFC 7748 §5.2: [scalar, input u-coordinate, output u-coordinate]. */
const FUNCTION_VECTORS = [
  [
    'a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4',
    'e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c',
    'c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552',
  ],
  [
    '4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d',
    'e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493',
    '95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957',
  ],
] as const;

test('RFC 7748 §5.2: the two X25519 test vectors (non-canonical high bit in the second u)', { skip }, () => {
  for (const [scalar, u, out] of FUNCTION_VECTORS) assert.equal(x25519(hex(scalar), hex(u))?.toString('hex'), out);
});

test('RFC 7748 §6.1: Alice and Bob derive the published public keys and the same shared secret', { skip }, () => {
  const x = nativeX25519(addon());
  const alice = x.keyPair(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  const bob = x.keyPair(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
  assert.equal(alice.publicKey.toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(bob.publicKey.toString('hex'), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const k = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(alice.agree(bob.publicKey)?.toString('hex'), k);
  assert.equal(bob.agree(alice.publicKey)?.toString('hex'), k);
});

test('native X25519 equals node:crypto on 300 random scalars and peer values (random bytes as points too)', { skip }, () => {
  const x = nativeX25519(addon());
  const rng = seededRng('x25519-cross');
  for (let i = 0; i < 300; i++) {
    const scalar = rng.bytes(32);
    const a = x.keyPair(scalar);
    const b = nodeX25519.keyPair(scalar);
    assert.deepEqual(a.publicKey, b.publicKey);
    // Half the time another key's public value, half the time 32 arbitrary bytes (any u is a
    // point on the curve or its twist, RFC 7748 §5; both must agree on it, or both refuse).
    const peer = i % 2 ? nodeX25519.keyPair(rng.bytes(32)).publicKey : rng.bytes(32);
    assert.deepEqual(a.agree(peer), b.agree(peer));
  }
});

test('small-order points (RFC 7748 §6.1): no secret; the handshake fails with illegal_parameter', { skip }, () => {
  const x = nativeX25519(addon());
  const key = x.keyPair(seededRng('small').bytes(32));
  // u = 0, u = 1 and a point of order 8 (from the list of Bernstein's Curve25519 page and
  // libsodium's blocklist); each gives the all-zero result, which OpenSSL refuses.
  for (const u of ['00'.repeat(32), '01' + '00'.repeat(31), 'e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800']) {
    assert.equal(key.agree(hex(u)), undefined, u);
    const eph = generateEphemeral(NamedGroup.x25519, seededRng('e'), x);
    assert.throws(() => eph.agree(hex(u)), { code: 'ERR_DTLS_ILLEGAL_PARAMETER' });
  }
  const eph = generateEphemeral(NamedGroup.x25519, seededRng('e'), x);
  assert.throws(() => eph.agree(Buffer.alloc(31, 9)), { code: 'ERR_DTLS_ILLEGAL_PARAMETER' });
});

test('hostile arguments: wrong lengths are RangeErrors, wrong types and foreign keys TypeErrors', { skip }, () => {
  const a = addon();
  const out = Buffer.alloc(32);
  for (const n of [0, 31, 33, 64]) {
    assert.throws(() => a.x25519Key(Buffer.alloc(n, 1), out), RangeError);
    assert.throws(() => a.x25519Key(Buffer.alloc(32, 1), Buffer.alloc(n)), RangeError);
  }
  const key = a.x25519Key(Buffer.alloc(32, 1), out);
  for (const n of [0, 1, 31, 33, 65]) assert.throws(() => a.x25519Agree(key, Buffer.alloc(n, 9)), RangeError);
  for (const bad of ['x'.repeat(32), 32, undefined, null, {}, new Uint16Array(16), new ArrayBuffer(32)]) {
    assert.throws(() => a.x25519Key(bad as never, out), TypeError);
    assert.throws(() => a.x25519Agree(key, bad as never), TypeError);
  }
  // Not a key of ours: a plain object, a Buffer, another addon's external.
  for (const foreign of [{}, Buffer.alloc(32), () => {}, 5]) assert.throws(() => a.x25519Agree(foreign, out), TypeError);
  // A Uint8Array view into a larger buffer is read at its offset, not at the buffer's start.
  const big = Buffer.alloc(64, 0xaa);
  const scalar = seededRng('view').bytes(32);
  scalar.copy(big, 16);
  const viaView = Buffer.alloc(32);
  a.x25519Key(new Uint8Array(big.buffer, big.byteOffset + 16, 32), viaView);
  assert.deepEqual(viaView, nodeX25519.keyPair(scalar).publicKey);
});

test('keys never used for agreement are freed by their finalizer (thousands of keys, then GC)', { skip }, async () => {
  const a = addon();
  const rng = seededRng('gc');
  for (let i = 0; i < 5000; i++) a.x25519Key(rng.bytes(32), Buffer.alloc(32));
  await new Promise((r) => setImmediate(r));
  globalThis.gc?.();
  const x = nativeX25519(a).keyPair(rng.bytes(32));
  assert.equal(x.publicKey.length, 32);
});

test('DTLS handshakes connect with native X25519 on either side or both (node:crypto on the other)', { skip }, () => {
  const x = nativeX25519(addon());
  for (const [clientX, serverX] of [
    [x, undefined],
    [undefined, x],
    [x, x],
  ] as const) {
    const events = handshakeEvents({ x25519: clientX }, { x25519: serverX });
    assert.deepEqual(
      events.map((e) => e.type),
      ['connected', 'connected'],
    );
    const [c, s] = events.map((e) => (e.type === 'connected' ? e.keyingMaterial.toString('hex') : ''));
    assert.equal(c, s, 'both sides export the same SRTP keying material');
  }
});
