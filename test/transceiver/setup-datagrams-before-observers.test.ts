// Issue #18: a session's state change is a step of the call's setup (the first valid check, the
// last DTLS flight), and what the session queued for it must leave before the endpoint's state
// observers run (the call registry's log line and metrics), not at the end of the socket's batch
// after them. A relay on a thread of its own stamps when the answer to a first check arrives;
// the observer of that check's state change holds the transceiver's thread for 100 ms: the answer
// must have arrived well before the observer returns. Real sockets, the production media socket
// (native where built; dgram sends at once anyway).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Worker } from 'node:worker_threads';
import { ManualClock } from '../../src/common/clock.ts';
import { connectivityCheck } from '../../src/core/ice/binding-request.ts';
import { encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { bindLoopbackEndpoint } from './helpers/media-io.ts';
import { SERVER_PWD, sessionOptions } from './helpers/session-options.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Session } from '../../src/transceiver/calls/session.ts';

const HOLD_MS = 100;

test('the datagrams of a setup step leave before the state observers run', { timeout: 30_000 }, async () => {
  const clock = new ManualClock(5_000);
  const endpoint = await bindLoopbackEndpoint(clock);
  const session = new Session(sessionOptions('call', clock.now(), 10_000));
  let observerDoneAt: number | undefined;
  const states: string[] = [];
  endpoint.observe({
    sessionClosed: () => {},
    sessionState: (s) => {
      states.push(s.state);
      if (observerDoneAt !== undefined) return;
      // A slow observer (a log sink that blocks): the transceiver's thread is busy meanwhile.
      const until = performance.now() + HOLD_MS;
      while (performance.now() < until);
      observerDoneAt = performance.timeOrigin + performance.now();
    },
  });
  endpoint.add(session);

  const check = connectivityCheck({
    transactionId: seededRng('tid').bytes(12),
    localUfrag: 'abcd',
    remoteUfrag: 'ufragcall',
    remotePwd: SERVER_PWD,
    priority: 1,
    role: { controlling: true, tieBreaker: 7n },
  });
  const datagram = Buffer.concat([
    encodeRelayHeader({ address: '192.0.2.9', port: 4000, family: 'IPv4' }, { address: '198.51.100.1', port: 3478, family: 'IPv4' }),
    check,
  ]);
  const arrived = new Float64Array(new SharedArrayBuffer(8));
  // The relay: sends the check from a socket of its own and stamps when the first reply arrives.
  const relay = new Worker(
    `const dgram = require('node:dgram');
    const { workerData: { port, datagram, arrived } } = require('node:worker_threads');
    const s = dgram.createSocket('udp4');
    s.on('message', () => { arrived[0] = performance.timeOrigin + performance.now(); s.close(); });
    s.bind(0, '127.0.0.1', () => s.send(datagram, port, '127.0.0.1'));`,
    { eval: true, workerData: { port: endpoint.address.port, datagram, arrived } },
  );
  try {
    const deadline = Date.now() + 10_000;
    while ((arrived[0] === 0 || observerDoneAt === undefined) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(states.slice(0, 1), ['connecting'], 'the first valid check is a state change');
    assert.ok(arrived[0] > 0, 'the relay got the answer to its check');
    assert.ok(
      arrived[0] < observerDoneAt! - HOLD_MS / 2,
      `the answer arrived ${(observerDoneAt! - arrived[0]).toFixed(1)} ms before the observer returned (> ${HOLD_MS / 2} ms expected)`,
    );
  } finally {
    await relay.terminate();
    endpoint.closeSession(session, 'hangup');
    await endpoint.close();
  }
});
