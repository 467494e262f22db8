// ClientCall against our transceiver Session over the seeded netem on a manual clock
// (test/calls/call-pair.ts): connects in both DTLS roles, sends 20 ms Opus frames at real time,
// gets the echo back as the tone it sent, measures RTT from STUN and RTCP, moves to a new
// address mid-call (rebound(): NAT rebinding as `parley call --rebind` does it), falls over to a
// backup candidate, and fails cleanly when nobody answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../src/core/address.ts';
import { encodeTone, Recorder } from '../../src/client/audio.ts';
import { ClientErrorCode } from '../../src/client/errors.ts';
import { hasTone } from '../../src/media/analysis.ts';
import { CallPair, CLIENT_HOST, CLIENT_PUBLIC, RELAY_PUBLIC } from '../calls/call-pair.ts';
import type { CallPairOptions } from '../calls/call-pair.ts';

const tone = encodeTone(440, 1);
const RELAY = `${RELAY_PUBLIC.address}:${RELAY_PUBLIC.port}`;

const setup = (seed: string, o: Partial<CallPairOptions> = {}): CallPair => new CallPair({ seed, frames: tone, frameCount: 50, ...o });

function record(pair: CallPair): Recorder {
  const r = new Recorder();
  for (const ev of pair.clientAudio()) r.add(ev.timestamp, ev.payload);
  return r;
}

test('answer setup:active → the client is the DTLS server; the echoed tone comes back', () => {
  const pair = setup('a');
  pair.runUntil(pair.now + 2_000);
  const s = pair.client.stats();
  assert.equal(s.state, 'connected');
  assert.equal(s.dtlsRole, 'server');
  assert.equal(s.packetsSent, 50);
  assert.equal(s.packetsReceived, 50);
  assert.equal(s.packetsLost, 0);
  assert.equal(s.remoteAddress, RELAY);
  assert.ok(pair.clientEvents.some((e) => e.type === 'sending-done'));
  const pcm = record(pair).toPcm();
  const check = hasTone(pcm.samples, 440);
  assert.ok(check.found, JSON.stringify(check.analysis));
  // Four one-way hops of 10 ms: ICE check + response, then DTLS flights.
  assert.ok(s.iceMs! >= 20 && s.iceMs! < 100, `iceMs ${s.iceMs}`);
  // The first check's answer waits one round trip more, for the request back that confirms our
  // address (issue #19); the smoothed STUN RTT starts from that 40 ms sample.
  assert.ok(s.stunRttMs! > 19 && s.stunRttMs! < 41, `stun rtt ${s.stunRttMs}`);
  assert.ok(pair.session.stats().rtcpReceived >= 1, 'Sender Reports reach the server');
});

test('answer setup:passive → the client is the DTLS client and still connects', () => {
  const pair = setup('p', { sessionRole: 'server' });
  pair.runUntil(pair.now + 1_500);
  const s = pair.client.stats();
  assert.equal(s.state, 'connected');
  assert.equal(s.dtlsRole, 'client');
  assert.ok(s.packetsReceived >= 45, `received ${s.packetsReceived}`);
});

test('sending is paced at one frame per 20 ms on the clock', () => {
  const pair = setup('pace', { frameCount: 100 });
  pair.runUntil(pair.now + 500);
  const connectedAt = pair.client.stats().connectedAt!;
  pair.runUntil(connectedAt + 1_000 - 1);
  assert.equal(pair.client.stats().packetsSent, 50);
});

test('NAT rebinding: after the client moves to a new port and says so (rebound), the server follows at once and audio continues', () => {
  const pair = setup('rebind', { frameCount: 150 });
  pair.runUntil(pair.now + 1_500);
  const before = pair.client.stats().packetsReceived;
  assert.ok(before > 0);
  const moved: TransportAddress = { ...CLIENT_PUBLIC, port: CLIENT_PUBLIC.port + 1 };
  pair.net.nat(CLIENT_HOST, moved);
  pair.client.rebound(pair.now);
  pair.flushClient();
  pair.runUntil(pair.now + 2_000);
  const after = pair.client.stats().packetsReceived;
  assert.deepEqual(
    pair.pathEvents().map((e) => e.path.client.port),
    [CLIENT_PUBLIC.port, moved.port],
  );
  assert.ok(after - before > 50, `received ${after - before} after rebinding`);
});

test('a dead primary candidate: the backup candidate is tried next and the call connects through it', () => {
  // A higher-priority candidate nobody answers on: the primary relay location is down.
  const pair = setup('backup', {
    editAnswer: (a) => a.replace('a=candidate:', 'a=candidate:9 1 udp 2130706431 192.0.2.99 3478 typ host\r\na=candidate:'),
  });
  pair.runUntil(pair.now + 5_000);
  const s = pair.client.stats();
  assert.equal(s.state, 'connected');
  assert.equal(s.remoteAddress, RELAY);
  assert.ok(s.iceMs! > 2_500 && s.iceMs! < 4_000, `failed over after ${s.iceMs} ms`);
  assert.ok(s.packetsReceived > 0);
});

test('nobody answers the checks → failed with ERR_CLIENT_ICE_FAILED at the connect deadline', () => {
  const pair = setup('silent', { profile: { loss: 1 } });
  pair.runUntil(pair.now + 12_000);
  assert.equal(pair.client.state, 'failed');
  const failed = pair.clientEvents.find((e) => e.type === 'failed');
  assert.ok(failed && failed.type === 'failed');
  assert.ok(failed.error.code === ClientErrorCode.IceFailed || failed.error.code === ClientErrorCode.ConnectTimeout, failed.error.code);
  assert.equal(pair.client.pollTimeout(), undefined, 'a failed call holds no deadline');
});

test('close() is idempotent and stops all timers', () => {
  const pair = setup('close');
  pair.runUntil(pair.now + 500);
  pair.client.close(pair.now);
  pair.client.close(pair.now);
  assert.equal(pair.client.state, 'closed');
  assert.equal(pair.client.pollTimeout(), undefined);
});
