// Issue #18: the media endpoint runs a new session's idle work (Session.prepare: the DTLS client's
// ClientHello built ahead) after the turn that added it — after the signaling code answered the
// offer in that turn — never on the adding stack, and not for a session closed before then.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { bindLoopbackEndpoint } from './helpers/media-io.ts';
import { sessionOptions } from './helpers/session-options.ts';
import { Session } from '../../src/transceiver/calls/session.ts';

class PreparingSession extends Session {
  readonly prepared: number[] = [];
  override prepare(now: number): void {
    this.prepared.push(now);
    super.prepare(now);
  }
}

test('a session added to the endpoint is prepared once, after the turn; a session closed first is not', async () => {
  const clock = new ManualClock(7_000);
  const endpoint = await bindLoopbackEndpoint(clock);
  const a = new PreparingSession(sessionOptions('pa', clock.now(), 10_000));
  const gone = new PreparingSession(sessionOptions('pgone', clock.now(), 10_000));
  endpoint.add(a);
  endpoint.add(gone);
  endpoint.closeSession(gone, 'hangup');
  await Promise.resolve();
  assert.deepEqual(a.prepared, [], 'not on the adding stack or its microtasks');
  clock.advance(3);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(a.prepared, [7_003], 'once, at the time of the pass');
  assert.deepEqual(gone.prepared, []);
  assert.equal(a.state, 'created', 'preparing changes no state and sends nothing');
  endpoint.closeSession(a, 'hangup');
  await endpoint.close();
});
