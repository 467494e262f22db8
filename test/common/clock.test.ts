// src/common/clock.ts: the manual clock runs due timers in deadline order, each at its own time,
// and the system clock is Node's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock, systemClock } from '../../src/common/clock.ts';

test('manual clock runs due timeouts in deadline order, each seeing its own deadline as now()', () => {
  const clock = new ManualClock(1000);
  const seen: [string, number][] = [];
  clock.timeout(30, () => seen.push(['c', clock.now()]));
  clock.timeout(10, () => seen.push(['a', clock.now()]));
  clock.timeout(10, () => seen.push(['b', clock.now()]));
  clock.advance(20);
  assert.deepEqual(seen, [
    ['a', 1010],
    ['b', 1010],
  ]);
  assert.equal(clock.now(), 1020);
  assert.equal(clock.nextDeadline(), 1030);
  clock.advance(100);
  assert.deepEqual(seen.at(-1), ['c', 1030]);
  assert.equal(clock.pendingTimers, 0);
});

test('manual clock intervals repeat until cancelled; cancel is idempotent', () => {
  const clock = new ManualClock();
  const at: number[] = [];
  const t = clock.interval(100, () => at.push(clock.now()));
  clock.advance(350);
  assert.deepEqual(at, [100, 200, 300]);
  t.cancel();
  t.cancel();
  clock.advance(1000);
  assert.deepEqual(at, [100, 200, 300]);
  assert.equal(clock.pendingTimers, 0);
});

test('a timer armed inside a callback runs in the same advance when it falls due', () => {
  const clock = new ManualClock();
  const at: number[] = [];
  clock.timeout(10, () => {
    at.push(clock.now());
    clock.timeout(5, () => at.push(clock.now()));
  });
  clock.advance(20);
  assert.deepEqual(at, [10, 15]);
});

test('wallNow follows now by a fixed offset', () => {
  const clock = new ManualClock(0, 1_700_000_000_000);
  clock.advance(1234);
  assert.equal(clock.wallNow(), 1_700_000_001_234);
});

test('advanceAsync lets awaiting code run between timers', async () => {
  const clock = new ManualClock();
  const log: string[] = [];
  const loop = (async () => {
    for (let i = 0; i < 3; i++) {
      await clock.sleep(100);
      log.push(`tick ${clock.now()}`);
    }
  })();
  await clock.advanceAsync(1000);
  await loop;
  assert.deepEqual(log, ['tick 100', 'tick 200', 'tick 300']);
});

test('system clock: timeout fires, cancel prevents, now is monotonic', async () => {
  const a = systemClock.now();
  let fired = 0;
  systemClock.timeout(1, () => fired++);
  const t = systemClock.timeout(1, () => (fired += 10));
  t.cancel();
  await systemClock.sleep(20);
  assert.equal(fired, 1);
  assert.ok(systemClock.now() >= a);
  assert.ok(Math.abs(systemClock.wallNow() - Date.now()) < 1000);
});
