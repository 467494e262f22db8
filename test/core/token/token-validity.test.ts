// Time: a token opens from (issue time − clock skew) until (issue time + lifetime), exclusive,
// with issue time kept to the second. Defaults: 24 h lifetime, 60 s skew; both configurable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, mint, open } from '../../../src/core/token/index.ts';
import { T0, V4, ring } from './helpers.ts';

const kr = ring(1);
const ufrag = mint(V4, kr, T0 + 999, seededRng('time')).ufrag; // issued at T0 (floored to the second)

test('defaults: 24 h lifetime and 60 s clock-skew allowance', () => {
  assert.equal(DEFAULT_TOKEN_LIFETIME_MS, 86_400_000);
  assert.equal(DEFAULT_CLOCK_SKEW_MS, 60_000);
});

test('expiry boundary: opens 1 ms before issuedAt + lifetime, expired at it', () => {
  const last = open(ufrag, kr, T0 + DEFAULT_TOKEN_LIFETIME_MS - 1);
  assert.ok(last.ok);
  assert.equal(last.expiresAt, T0 + DEFAULT_TOKEN_LIFETIME_MS);
  assert.deepEqual(open(ufrag, kr, T0 + DEFAULT_TOKEN_LIFETIME_MS), { ok: false, reason: 'expired' });
  assert.deepEqual(open(ufrag, kr, T0 + 10 * DEFAULT_TOKEN_LIFETIME_MS), { ok: false, reason: 'expired' });
});

test('not_yet_valid boundary: opens up to the skew allowance before issue, refused 1 ms earlier', () => {
  assert.ok(open(ufrag, kr, T0 - DEFAULT_CLOCK_SKEW_MS).ok);
  assert.deepEqual(open(ufrag, kr, T0 - DEFAULT_CLOCK_SKEW_MS - 1), { ok: false, reason: 'not_yet_valid' });
});

test('lifetime and skew are configurable per open', () => {
  const opts = { lifetimeMs: 3_600_000, clockSkewMs: 5_000 };
  const r = open(ufrag, kr, T0 + 3_599_999, opts);
  assert.ok(r.ok);
  assert.equal(r.expiresAt, T0 + 3_600_000);
  assert.deepEqual(open(ufrag, kr, T0 + 3_600_000, opts), { ok: false, reason: 'expired' });
  assert.ok(open(ufrag, kr, T0 - 5_000, opts).ok);
  assert.deepEqual(open(ufrag, kr, T0 - 5_001, opts), { ok: false, reason: 'not_yet_valid' });
});

test('the tag is checked before time: a tampered expired token says bad_tag, not expired', () => {
  const b = Buffer.from(ufrag, 'base64');
  b[40] ^= 1;
  const forged = b.toString('base64');
  assert.deepEqual(open(forged, kr, T0 + 2 * DEFAULT_TOKEN_LIFETIME_MS), { ok: false, reason: 'bad_tag' });
});

test('fails closed on a NaN clock or NaN options (a caller bug must not accept every token)', () => {
  assert.equal(open(ufrag, kr, Number.NaN).ok, false);
  assert.equal(open(ufrag, kr, T0, { lifetimeMs: Number.NaN }).ok, false);
  assert.equal(open(ufrag, kr, T0, { clockSkewMs: Number.NaN }).ok, false);
  assert.deepEqual(open(ufrag, kr, T0, { lifetimeMs: -1 }), { ok: false, reason: 'expired' });
});
