// A minted token opens to the same destination, key and issue time, for IPv4 and IPv6, and
// always fits RFC 8839's ice-char alphabet and our 4..64 length (property test).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRng } from '../../../src/core/rng.ts';
import { addressFromBytes } from '../../../src/core/address.ts';
import { mint, open, derivePassword, TOKEN_CHARS } from '../../../src/core/token/index.ts';
import { T0, V4, V6, ring } from './helpers.ts';

const ICE = /^[A-Za-z0-9+/]{4,64}$/;

test('IPv4 destination round-trips with key id and issue time', () => {
  const kr = ring(1);
  const t = mint(V4, kr, T0 + 456, seededRng('v4'));
  const r = open(t.ufrag, kr, T0 + 1000);
  assert.deepEqual(r, { ok: true, destination: V4, keyId: 1, issuedAt: T0, expiresAt: T0 + 86_400_000 });
  assert.equal(t.keyId, 1);
});

test('IPv6 destination round-trips', () => {
  const kr = ring(200);
  const t = mint(V6, kr, T0, seededRng('v6'));
  const r = open(t.ufrag, kr, T0);
  assert.ok(r.ok);
  assert.deepEqual(r.destination, V6);
  assert.equal(r.keyId, 200);
});

test('IPv4-mapped IPv6 stays IPv6 (family is encoded, not guessed)', () => {
  const kr = ring(1);
  const dest = { address: '::ffff:10.1.2.3', port: 9, family: 'IPv6' } as const;
  const r = open(mint(dest, kr, T0, seededRng(1)).ufrag, kr, T0);
  assert.ok(r.ok);
  assert.deepEqual(r.destination, dest);
});

test('mint refuses what it cannot encode: host names, family mismatch, port 0, bad time', () => {
  const kr = ring(1);
  const rng = seededRng(1);
  assert.throws(() => mint({ address: 'localhost', port: 1, family: 'IPv4' }, kr, T0, rng), RangeError);
  assert.throws(() => mint({ address: '::1', port: 1, family: 'IPv4' }, kr, T0, rng), RangeError);
  assert.throws(() => mint({ address: '1.2.3.4', port: 1, family: 'IPv6' }, kr, T0, rng), RangeError);
  assert.throws(() => mint({ ...V4, port: 0 }, kr, T0, rng), RangeError);
  assert.throws(() => mint({ ...V4, port: 65536 }, kr, T0, rng), RangeError);
  assert.throws(() => mint(V4, kr, -1000, rng), RangeError);
  assert.throws(() => mint(V4, kr, Number.NaN, rng), RangeError);
});

const destinations = fc
  .oneof(
    fc.tuple(fc.uint8Array({ minLength: 4, maxLength: 4 }), fc.integer({ min: 1, max: 65535 })),
    fc.tuple(fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.integer({ min: 1, max: 65535 })),
  )
  .map(([ip, port]) => addressFromBytes(ip, port));

test('property: every token is 64 ice-chars, opens to its destination, and has a 24-char ice-pwd', () => {
  const kr = ring(3, 4);
  const rng = seededRng('property');
  fc.assert(
    fc.property(destinations, fc.integer({ min: 0, max: 0xffffffff }), (dest, seconds) => {
      const now = seconds * 1000;
      const t = mint(dest, kr, now, rng);
      assert.match(t.ufrag, ICE);
      assert.equal(t.ufrag.length, TOKEN_CHARS);
      assert.match(t.pwd, /^[A-Za-z0-9+/]{22,256}$/);
      assert.equal(t.pwd, derivePassword(t.ufrag, kr));
      const r = open(t.ufrag, kr, now);
      assert.ok(r.ok, `${JSON.stringify(dest)} → ${JSON.stringify(r)}`);
      assert.deepEqual(r.destination, dest);
      assert.equal(r.issuedAt, now);
    }),
    { numRuns: 2000, seed: 42 },
  );
});
