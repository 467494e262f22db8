// The media endpoint serves its sessions in passes, not one wake-up per session: its one timer
// fires on a grid of timerSlackMs (deadlines a few ms apart — every paced call has its own 20 ms
// phase — are served by one pass), and sessions woken by their handlers in one event-loop turn are
// driven once each, together, after the turn's I/O. ManualClock for the timer: no sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { MediaEndpoint, TIMER_SLACK_MS } from '../../src/transceiver/media/endpoint.ts';
import { TEST_MEDIA_IO } from './helpers/media-io.ts';
import { sessionOptions } from './helpers/session-options.ts';
import { Session } from '../../src/transceiver/calls/session.ts';
import type { CloseReason } from '../../src/transceiver/calls/call-types.ts';
import { transceiverMetrics } from '../../src/transceiver/transceiver-metrics.ts';

/** A session that records each time the endpoint drives it by timeout or wake. */
class CountingSession extends Session {
  readonly driven: number[] = [];
  override handleTimeout(now: number): void {
    this.driven.push(now);
    super.handleTimeout(now);
  }
}

async function endpointOn(clock: ManualClock, timerSlackMs?: number): Promise<MediaEndpoint> {
  return MediaEndpoint.bind({
    bind: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    metrics: transceiverMetrics(new MetricsRegistry()),
    clock,
    io: TEST_MEDIA_IO,
    timerSlackMs,
  });
}

test('deadlines within one slack step are served by one timer pass at the grid point after them', async () => {
  assert.equal(TIMER_SLACK_MS, 5);
  const clock = new ManualClock(5_000);
  const endpoint = await endpointOn(clock);
  const closed: [string, CloseReason, number][] = [];
  endpoint.observe({ sessionClosed: (s, r) => closed.push([s.id, r, clock.now()]), sessionState: () => {} });
  const t0 = clock.now();
  // Setup deadlines at 5031, 5032 and 5034 ms: all in the grid step that ends at 5035.
  for (const [id, ms] of [
    ['a', 31],
    ['b', 32],
    ['c', 34],
  ] as const)
    endpoint.add(new Session(sessionOptions(id, t0, ms)));
  assert.equal(clock.pendingTimers, 1);
  assert.equal(clock.nextDeadline(), 5_035, 'armed to the earliest deadline rounded up to the grid');
  clock.advance(34);
  assert.equal(closed.length, 0, 'nothing is served before the grid point');
  clock.advance(1);
  assert.deepEqual(
    closed,
    [
      ['a', 'setup_timeout', 5_035],
      ['b', 'setup_timeout', 5_035],
      ['c', 'setup_timeout', 5_035],
    ],
    'one pass served all three, at most one slack step late',
  );
  assert.equal(clock.pendingTimers, 0);
  await endpoint.close();
});

test('a deadline on the grid is served on time, and timerSlackMs 0 serves each deadline at its own time', async () => {
  const clock = new ManualClock(5_000);
  const exact = await endpointOn(clock);
  exact.add(new Session(sessionOptions('on-grid', clock.now(), 40)));
  assert.equal(clock.nextDeadline(), 5_040);
  await exact.close();

  const clock0 = new ManualClock(5_000);
  const noSlack = await endpointOn(clock0, 0);
  const closed: number[] = [];
  noSlack.observe({ sessionClosed: () => closed.push(clock0.now()), sessionState: () => {} });
  noSlack.add(new Session(sessionOptions('x', clock0.now(), 31)));
  noSlack.add(new Session(sessionOptions('y', clock0.now(), 33)));
  assert.equal(clock0.nextDeadline(), 5_031);
  clock0.advance(33);
  assert.deepEqual(closed, [5_031, 5_033]);
  await noSlack.close();
});

test('sessions woken in one turn are driven once each in one pass after it; a removed one is not driven', async () => {
  const clock = new ManualClock(5_000);
  const endpoint = await endpointOn(clock);
  const a = new CountingSession(sessionOptions('wa', clock.now(), 10_000));
  const b = new CountingSession(sessionOptions('wb', clock.now(), 10_000));
  const gone = new CountingSession(sessionOptions('wgone', clock.now(), 10_000));
  for (const s of [a, b, gone]) endpoint.add(s);
  endpoint.wake(a);
  endpoint.wake(b);
  endpoint.wake(a);
  endpoint.wake(gone);
  endpoint.closeSession(gone, 'hangup');
  gone.driven.length = 0;
  await Promise.resolve();
  assert.deepEqual([a.driven, b.driven], [[], []], 'not driven from the waking stack or its microtasks');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(a.driven, [5_000], 'woken twice, driven once');
  assert.deepEqual(b.driven, [5_000]);
  assert.deepEqual(gone.driven, [], 'closed before the pass: not driven');
  // A later wake gets a pass of its own.
  endpoint.wake(b);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(b.driven, [5_000, 5_000]);
  for (const s of [a, b]) endpoint.closeSession(s, 'hangup');
  await endpoint.close();
});
