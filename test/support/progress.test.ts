// test/support/progress.ts: time jumps to the earliest deadline, only due parts run, the clock's
// own timers count, and a run that does not converge fails naming the bound it hit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { Netem } from './netem.ts';
import { progress, progressTo } from './progress.ts';
import type { Driven } from './progress.ts';

/** A part that is due every `period` ms and records when it ran. */
function ticker(period: number, start = 0): Driven & { ran: number[] } {
  let next = start + period;
  const ran: number[] = [];
  return {
    ran,
    nextDeadline: () => next,
    advance(now) {
      ran.push(now);
      next = now + period;
    },
  };
}

test('progress moves the clock to the earliest deadline and advances only the parts due there', () => {
  const clock = new ManualClock(1000);
  const a = ticker(30, 1000);
  const b = ticker(50, 1000);
  const r = progress({ clock, parts: [a, b], until: () => clock.now() >= 1150, maxMs: 1000 });
  assert.deepEqual(a.ran, [1030, 1060, 1090, 1120, 1150]);
  assert.deepEqual(b.ran, [1050, 1100, 1150]);
  assert.equal(clock.now(), 1150);
  assert.deepEqual(r, { steps: 7, elapsedMs: 150 });
  assert.deepEqual(progress({ clock, parts: [a], until: () => true, maxMs: 0 }), { steps: 0, elapsedMs: 0 });
});

test("the clock's own timers are deadlines too", () => {
  const clock = new ManualClock();
  let fired = 0;
  clock.timeout(400, () => fired++);
  const r = progress({ clock, parts: [], until: () => fired > 0, maxMs: 1000 });
  assert.deepEqual(r, { steps: 1, elapsedMs: 400 });
});

test('progress fails naming maxMs when the condition is not met in time', () => {
  const clock = new ManualClock();
  assert.throws(
    () => progress({ clock, parts: [ticker(10)], until: () => false, maxMs: 100, what: 'never' }),
    /progress \(never\): maxMs 100 reached/,
  );
  assert.equal(clock.now(), 100, 'it stops at the last deadline inside the bound');
});

test('progress fails naming maxSteps when a part never clears its deadline', () => {
  const clock = new ManualClock();
  const stuck: Driven = { nextDeadline: () => 0, advance: () => {} };
  assert.throws(() => progress({ clock, parts: [stuck], until: () => false, maxMs: 1000, maxSteps: 50 }), /maxSteps 50 reached/);
});

test('progress fails when nothing has a deadline and the condition does not hold', () => {
  const clock = new ManualClock();
  const idle: Driven = { nextDeadline: () => undefined, advance: () => assert.fail('not due') };
  assert.throws(() => progress({ clock, parts: [idle], until: () => false, maxMs: 1000 }), /stalled at t=0/);
});

test('a Netem is a part: a ping-pong over 20 ms each way takes 40 ms per round', () => {
  const clock = new ManualClock();
  const net = new Netem({ seed: 1, profile: { latencyMs: 20 } });
  const A: TransportAddress = { address: '10.0.0.1', port: 1, family: 'IPv4' };
  const B: TransportAddress = { address: '10.0.0.2', port: 2, family: 'IPv4' };
  let rounds = 0;
  net.attach(B, (d, now) => net.send({ from: B, to: A, data: d.data }, now));
  net.attach(A, (d, now) => {
    rounds++;
    net.send({ from: A, to: B, data: d.data }, now);
  });
  net.send({ from: A, to: B, data: Buffer.from('ball') }, clock.now());
  const r = progress({ clock, parts: [net], until: () => rounds === 10, maxMs: 10_000 });
  assert.deepEqual(r, { steps: 20, elapsedMs: 400 });
});

test('progressTo runs every deadline up to and including t, and leaves the clock at t', () => {
  const clock = new ManualClock();
  const a = ticker(40);
  const r = progressTo({ clock, parts: [a], t: 120 });
  assert.deepEqual(a.ran, [40, 80, 120]);
  assert.equal(clock.now(), 120);
  assert.equal(r.elapsedMs, 120);
  progressTo({ clock, parts: [a], t: 150 });
  assert.deepEqual(a.ran, [40, 80, 120]);
  assert.equal(clock.now(), 150, 'the clock reaches t with nothing due there');
  progressTo({ clock, parts: [], t: 100 });
  assert.equal(clock.now(), 150, 'never backwards');
});
