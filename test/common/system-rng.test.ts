// The production Rng (src/common/system-rng.ts) draws the OS CSPRNG through a pool: every
// request gets fresh bytes of its own (never a view another caller shares), requests that cross
// the pool's end and large ones bypassing it work alike, and bad lengths throw as randomBytes does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { systemRng } from '../../src/common/system-rng.ts';

test('system Rng: each request is its own buffer of the asked length, with bytes no other request got', () => {
  const seen = new Set<string>();
  // 300 × 32 bytes crosses the 4 KiB pool's refill twice; 600 and 5000 bytes bypass it.
  for (const n of [...Array<number>(300).fill(32), 7, 600, 5000, 1]) {
    const b = systemRng.bytes(n);
    assert.equal(b.length, n);
    if (n >= 16) {
      const hex = b.toString('hex');
      assert.ok(!seen.has(hex), 'a repeated 16+-byte output');
      seen.add(hex);
    }
  }
  const a = systemRng.bytes(32);
  const b = systemRng.bytes(32);
  a.fill(0);
  assert.notDeepEqual(b, Buffer.alloc(32), 'writing one result must not touch the next');
  // Not all zero and not constant: the pool is filled, not just allocated.
  const big = Buffer.concat(Array.from({ length: 64 }, () => systemRng.bytes(32)));
  assert.ok(new Set(big).size > 200, 'the bytes look like random ones');
});

test('system Rng: a negative, fractional or NaN length throws ERR_OUT_OF_RANGE, as randomBytes does', () => {
  for (const n of [-1, 1.5, Number.NaN]) assert.throws(() => systemRng.bytes(n), { code: 'ERR_OUT_OF_RANGE' });
  assert.equal(systemRng.bytes(0).length, 0);
});
