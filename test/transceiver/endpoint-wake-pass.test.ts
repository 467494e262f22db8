// The media endpoint drives sessions woken by their handlers in one event-loop turn once each,
// together, after the turn's I/O — not one microtask per wake (an agent's messages for many calls
// arrive as separate socket reads of one turn; one pass sends their frames in one batch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import type { MediaEndpoint } from '../../src/transceiver/media/endpoint.ts';
import { bindLoopbackEndpoint } from './helpers/media-io.ts';
import { sessionOptions } from './helpers/session-options.ts';
import { Session } from '../../src/transceiver/calls/session.ts';

/** A session that records each time the endpoint drives it by timeout or wake. */
class CountingSession extends Session {
  readonly driven: number[] = [];
  override handleTimeout(now: number): void {
    this.driven.push(now);
    super.handleTimeout(now);
  }
}

async function endpointOn(clock: ManualClock): Promise<MediaEndpoint> {
  return bindLoopbackEndpoint(clock);
}

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
