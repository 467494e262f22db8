// The transceiver's pool of DTLS client starts (issue #18): filled one start per event-loop turn up
// to its size, each start handed out once, none handed out at or past its age limit (dropped,
// spent), the pool made full again when the oldest ages out and when asked after a take, nothing
// made or kept once closed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { DtlsClientStart } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { CLIENT_START_MAX_AGE_MS, CLIENT_START_POOL_SIZE, DtlsClientStartPool } from '../../src/transceiver/media/dtls-client-starts.ts';

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

async function turns(n: number): Promise<void> {
  for (let i = 0; i < n; i++) await turn();
}

test('the pool fills one start per turn up to its size, and hands each start out once', async () => {
  const clock = new ManualClock(1_000);
  const pool = new DtlsClientStartPool({ rng: seededRng('fill'), clock });
  assert.equal(CLIENT_START_POOL_SIZE, 2);
  assert.equal(pool.take(clock.now()), undefined, 'empty until refilled');
  pool.refill();
  pool.refill(); // once however often asked
  assert.equal(pool.size, 0, 'nothing made on the asking stack');
  await turn();
  assert.equal(pool.size, 1);
  await turns(3);
  assert.equal(pool.size, 2, 'and no more than its size');
  const taken = new Set<DtlsClientStart>();
  for (let round = 0; round < 3; round++) {
    const a = pool.take(clock.now());
    const b = pool.take(clock.now());
    assert.ok(a && b);
    assert.equal(pool.take(clock.now()), undefined, 'two, then none');
    for (const s of [a, b]) {
      assert.equal(taken.has(s), false, 'never the same start twice');
      assert.equal(s.spent, false, 'unspent when handed out');
      taken.add(s);
    }
    assert.equal(pool.size, 0);
    await turns(3);
    assert.equal(pool.size, 0, 'a take does not refill by itself');
    pool.refill();
    await turns(3);
    assert.equal(pool.size, 2, 'refilled when asked');
  }
  pool.close();
});

test('no start is handed out at or past its age limit; the aged are dropped and the pool refills itself', async (t) => {
  const clock = new ManualClock(5_000);
  const pool = new DtlsClientStartPool({ rng: seededRng('age'), clock });
  pool.refill();
  await turn();
  const first = pool.take(clock.now());
  assert.ok(first);
  assert.equal(first.madeAt, 5_000);
  pool.refill();
  await turns(3);
  assert.equal(pool.size, 2);
  clock.advance(CLIENT_START_MAX_AGE_MS - 1);
  const young = pool.take(clock.now());
  assert.ok(young, 'one ms before the limit it is handed out');
  assert.equal(clock.now() - young.madeAt, CLIENT_START_MAX_AGE_MS - 1);
  const drops = t.mock.method(DtlsClientStart.prototype, 'drop');
  const held = pool.take(clock.now() + 1);
  assert.equal(held, undefined, 'at the limit it is not');
  assert.equal(drops.mock.callCount(), 1, 'it is dropped');
  assert.equal((drops.mock.calls[0].this as DtlsClientStart).spent, true);
  drops.mock.restore();
  // The expiry timer drops the aged start and refills with new ones.
  pool.refill();
  await turns(3);
  const fresh = pool.take(clock.now());
  assert.ok(fresh);
  assert.equal(fresh.madeAt, clock.now());
  await turns(3);
  const before = pool.size;
  assert.ok(before >= 1);
  clock.advance(CLIENT_START_MAX_AGE_MS);
  assert.equal(pool.size, 0, 'the timer dropped every start at its limit');
  await turns(3);
  assert.equal(pool.size, 2, 'and made the pool full again');
  const renewed = pool.take(clock.now());
  assert.ok(renewed);
  assert.equal(renewed.madeAt, clock.now());
  pool.close();
});

test('close drops the starts (spent) and stops refilling; taking from a closed pool gives nothing', async (t) => {
  const clock = new ManualClock(0);
  const pool = new DtlsClientStartPool({ rng: seededRng('close'), clock, size: 1 });
  pool.refill();
  await turn();
  const kept = pool.take(0);
  assert.ok(kept);
  pool.refill();
  await turn();
  assert.equal(pool.size, 1);
  const drops = t.mock.method(DtlsClientStart.prototype, 'drop');
  pool.close();
  pool.close();
  assert.equal(drops.mock.callCount(), 1, 'the held start is dropped');
  assert.equal((drops.mock.calls[0].this as DtlsClientStart).spent, true);
  assert.equal(pool.size, 0);
  assert.equal(pool.take(0), undefined);
  pool.refill();
  await turns(2);
  assert.equal(pool.size, 0, 'no refill once closed');
  clock.advance(10 * CLIENT_START_MAX_AGE_MS);
  assert.equal(pool.size, 0, 'and no timer left to refill it');
  assert.equal(kept.spent, false, "a start handed out before close is its taker's");
});

test('a refill asked before close and run after it makes nothing', async () => {
  const clock = new ManualClock(0);
  const pool = new DtlsClientStartPool({ rng: seededRng('late'), clock });
  pool.refill();
  pool.close();
  await turns(2);
  assert.equal(pool.size, 0);
});
