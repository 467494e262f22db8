// Any change to a token is detected: every bit flip of its bytes, every character change of its
// text, every truncation and extension, and arbitrary hostile strings are rejected without
// throwing. Also: unknown and retired keys, and a forged header version.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring, mint, open, derivePassword, TokenKey } from '../../../src/core/token/index.ts';
import type { TokenRejection } from '../../../src/core/token/index.ts';
import { T0, V4, V6, decode, encode, ring, secret } from './helpers.ts';

const ICE = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function rejected(ufrag: string, kr = ring(1, 2)): TokenRejection {
  const r = open(ufrag, kr, T0);
  assert.equal(r.ok, false, `accepted a changed token ${ufrag}`);
  return (r as { reason: TokenRejection }).reason;
}

for (const [name, dest] of [
  ['IPv4', V4],
  ['IPv6', V6],
] as const) {
  test(`every single-bit flip of an ${name} token's bytes is rejected`, () => {
    const kr = ring(1, 3);
    const bytes = decode(mint(dest, kr, T0, seededRng(name)).ufrag);
    const reasons = new Set<TokenRejection>();
    for (let bit = 0; bit < bytes.length * 8; bit++) {
      const b = Buffer.from(bytes);
      b[bit >> 3] ^= 0x80 >> (bit & 7);
      reasons.add(rejected(encode(b), kr));
    }
    // Version bits → unsupported_version; key-id bits → unknown_key, or bad_tag when the
    // flipped id is 3 (also in the ring: a real key that did not sign it); the rest → bad_tag.
    assert.deepEqual([...reasons].sort(), ['bad_tag', 'unknown_key', 'unsupported_version']);
  });
}

test('every single-character change of the ufrag text is rejected', () => {
  const kr = ring(1, 2);
  const ufrag = mint(V6, kr, T0, seededRng('chars')).ufrag;
  let tried = 0;
  for (let i = 0; i < ufrag.length; i++) {
    for (const c of ICE + '=-_ .é\0') {
      if (c === ufrag[i]) continue;
      rejected(ufrag.slice(0, i) + c + ufrag.slice(i + 1), kr);
      tried++;
    }
  }
  assert.equal(tried, 64 * (64 - 1 + 7));
});

test('every truncation and every extension is rejected', () => {
  const kr = ring(1);
  const ufrag = mint(V4, kr, T0, seededRng('trunc')).ufrag;
  for (let n = 0; n < ufrag.length; n++) {
    const reason = rejected(ufrag.slice(0, n), kr);
    // Short of the 4-char minimum or the 2-byte header it is malformed; otherwise truncated = bad tag.
    assert.equal(reason, n < 4 ? 'malformed' : 'bad_tag', `prefix of ${n}`);
    rejected(ufrag.slice(ufrag.length - n), kr);
  }
  assert.equal(rejected(ufrag + 'A', kr), 'malformed'); // 65 chars: over the 64 limit
  assert.equal(rejected(ufrag.slice(0, 60) + 'AAAA', kr), 'bad_tag');
});

test('a token for an unknown key id is rejected as unknown_key, and derivePassword gives undefined', () => {
  const ufrag = mint(V4, ring(9), T0, seededRng(1)).ufrag;
  assert.deepEqual(open(ufrag, ring(1, 2), T0), { ok: false, reason: 'unknown_key' });
  assert.equal(derivePassword(ufrag, ring(1, 2)), undefined);
});

test('same key id with a different secret is a forgery (bad_tag)', () => {
  const ufrag = mint(V4, ring(1), T0, seededRng(1)).ufrag;
  const impostor = new Keyring([{ id: 1, secret: secret('other') }]);
  assert.deepEqual(open(ufrag, impostor, T0), { ok: false, reason: 'bad_tag' });
});

test('rotation: a token minted by an older, still-listed key opens; once retired it is rejected', () => {
  const before = ring(1);
  const during = ring(2, 1); // key 2 now mints, key 1 still opens
  const after = ring(2);
  const old = mint(V4, before, T0, seededRng('old')).ufrag;
  const fresh = mint(V4, during, T0, seededRng('new'));
  assert.equal(fresh.keyId, 2);
  assert.ok(open(old, during, T0).ok);
  assert.equal(derivePassword(old, during), derivePassword(old, before));
  assert.ok(open(fresh.ufrag, after, T0).ok);
  assert.deepEqual(open(old, after, T0), { ok: false, reason: 'unknown_key' });
});

test('a future version byte is rejected as unsupported_version before any key lookup', () => {
  const b = decode(mint(V4, ring(1), T0, seededRng(1)).ufrag);
  b[0] = 2;
  assert.equal(rejected(encode(b), ring(1)), 'unsupported_version');
  assert.equal(derivePassword(encode(b), ring(1)), undefined);
});

test('an authentic token with an unknown family or non-zero IPv4 padding is still refused', () => {
  const key = new TokenKey(1, secret('1'));
  const header = Buffer.from([1, 1]);
  const pt = Buffer.alloc(30);
  pt.writeUInt16BE(1000, 17);
  pt.writeUInt32BE(T0 / 1000, 19);
  pt[0] = 5;
  assert.equal(rejected(encode(key.seal(header, pt)), ring(1)), 'unsupported_version');
  pt[0] = 4;
  pt[10] = 1;
  assert.equal(rejected(encode(key.seal(header, pt)), ring(1)), 'malformed');
  pt[10] = 0;
  assert.ok(open(encode(key.seal(header, pt)), ring(1), T0).ok);
});

test('property: hostile strings never throw and never open', () => {
  const kr = ring(1);
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 300 }), fc.stringMatching(/^[A-Za-z0-9+/]{0,70}$/)), (s) => {
      assert.equal(open(s, kr, T0).ok, false);
      derivePassword(s, kr);
    }),
    { numRuns: 5000, seed: 7 },
  );
});

test('property: random header-valid byte strings never open (forgery without the key)', () => {
  const kr = ring(1);
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 46, maxLength: 46 }), (body) => {
      assert.equal(open(encode(Buffer.concat([Buffer.from([1, 1]), body])), kr, T0).ok, false);
    }),
    { numRuns: 5000, seed: 8 },
  );
});
