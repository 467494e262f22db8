// The media endpoint's one-timer loop and its containment: a session that throws (a bug) is
// closed with reason internal_error and reported, other sessions keep their timers, and close()
// leaves no timer or socket behind. The endpoint's timer runs on a ManualClock: no sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { bindLoopbackEndpoint } from './helpers/media-io.ts';
import { sessionOptions } from './helpers/session-options.ts';
import { Session } from '../../src/transceiver/calls/session.ts';
import type { CloseReason } from '../../src/transceiver/calls/call-types.ts';

const options = sessionOptions;

class BrokenSession extends Session {
  override handleTimeout(): void {
    throw new Error('a bug');
  }
}

test('a throwing session ends as internal_error; a healthy one still times out on schedule', async () => {
  const closed: [string, CloseReason][] = [];
  const clock = new ManualClock(5_000);
  const endpoint = await bindLoopbackEndpoint(clock);
  endpoint.observe({ sessionClosed: (s, r) => closed.push([s.id, r]), sessionState: () => {} });
  const t0 = clock.now();
  endpoint.add(new BrokenSession(options('broken', t0, 30)));
  endpoint.add(new Session(options('healthy', t0, 80)));
  assert.equal(endpoint.sessionCount, 2);
  assert.equal(clock.pendingTimers, 1, 'one timer for both sessions');
  clock.advance(29);
  assert.deepEqual(closed, []);
  clock.advance(1);
  assert.deepEqual(closed, [['broken', 'internal_error']]);
  assert.equal(clock.nextDeadline(), t0 + 80, 're-armed to the healthy session');
  clock.advance(50);
  assert.deepEqual(closed, [
    ['broken', 'internal_error'],
    ['healthy', 'setup_timeout'],
  ]);
  assert.equal(endpoint.sessionCount, 0);
  assert.equal(clock.pendingTimers, 0, 'no deadline left, no timer');
  await endpoint.close();
  await endpoint.close();
});
