// Issue #18: the media endpoint runs a new session's idle work (Session.prepare: the DTLS client's
// ClientHello built ahead) after the turn that added it — after the signaling code answered the
// offer in that turn — never on the adding stack, and not for a session closed before then — one
// piece per turn (the first request back, then the ClientHello); and again after a check that
// left idle work (the held answer to sign, the next request back).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { once } from 'node:events';
import { connectivityCheck } from '../../src/core/ice/binding-request.ts';
import { encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { seededRng } from '../../src/core/rng.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { bindLoopbackEndpoint } from './helpers/media-io.ts';
import { SERVER_PWD, sessionOptions } from './helpers/session-options.ts';
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
  assert.deepEqual(a.prepared, [7_003], 'one piece per turn: the first request back');
  assert.equal(a.preparable, true, 'the ClientHello is left');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(a.prepared, [7_003, 7_003], 'then the ClientHello, a turn later');
  assert.equal(a.preparable, false);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(a.prepared, [7_003, 7_003], 'and no more passes');
  assert.deepEqual(gone.prepared, []);
  assert.equal(a.state, 'created', 'preparing changes no state and sends nothing');
  endpoint.closeSession(a, 'hangup');
  await endpoint.close();
});

test('a first check that leaves idle work (the held answer, the nudge request) gets one more prepare pass, after its turn', async () => {
  const clock = new ManualClock(9_000);
  const endpoint = await bindLoopbackEndpoint(clock);
  const session = new PreparingSession(sessionOptions('pcheck', clock.now(), 10_000));
  endpoint.add(session);
  await new Promise((resolve) => setImmediate(resolve));
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(session.prepared, [9_000, 9_000]);
  assert.equal(session.preparable, false, 'the first request back is built: nothing left before a check');
  const relay = createSocket('udp4');
  await new Promise<void>((resolve) => relay.bind(0, '127.0.0.1', resolve));
  try {
    const check = connectivityCheck({
      transactionId: seededRng('check').bytes(12),
      localUfrag: 'abcd',
      remoteUfrag: 'ufragpcheck',
      remotePwd: SERVER_PWD,
      priority: 1,
      role: { controlling: true, tieBreaker: 7n },
    });
    const header = encodeRelayHeader(
      { address: '192.0.2.9', port: 4000, family: 'IPv4' },
      { address: '198.51.100.1', port: 3478, family: 'IPv4' },
    );
    clock.advance(5);
    const reply = once(relay, 'message');
    relay.send(Buffer.concat([header, check]), endpoint.address.port, '127.0.0.1');
    await reply; // the request back
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(session.prepared, [9_000, 9_000, 9_005], 'once more, after the check');
    assert.equal(session.preparable, false, 'and nothing is left');
  } finally {
    relay.close();
    endpoint.closeSession(session, 'hangup');
    await endpoint.close();
  }
});
