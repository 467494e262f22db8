// ClientCall against an in-memory ICE-lite + DTLS + SRTP echo server built from src/core, over
// a simulated network on a manual clock: connects in both DTLS roles, sends 20 ms Opus frames
// at real time, gets the echo back as the tone it sent, measures RTT from STUN and RTCP, moves
// to a new address mid-call (NAT rebinding), and fails cleanly when nobody answers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../src/core/rng.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { encodeTone, Recorder } from '../../src/client/audio.ts';
import { hasTone } from '../../src/media/analysis.ts';
import { ClientErrorCode } from '../../src/client/errors.ts';
import { LoopbackServer } from './loopback-server.ts';
import { SimNet } from './sim-net.ts';

const tone = encodeTone(440, 1);
const agents = createCoreAgents(seededRng('client-cert'));

function setup(seed: string, opts: { passive?: boolean; frames?: number; deadPrimary?: boolean } = {}): SimNet {
  const call = new ClientCall({
    rng: seededRng(seed), agents, localAddress: { address: '198.51.100.7', port: 40000, family: 'IPv4' },
    frames: tone, frameCount: opts.frames ?? 50, deliverAudio: true,
  });
  const server = new LoopbackServer(`server-${seed}`, opts.passive);
  const net = new SimNet(call, server);
  let answer = server.answer(call.offer);
  // A higher-priority candidate nobody answers on: the primary relay location is down.
  if (opts.deadPrimary) answer = answer.replace('a=candidate:', 'a=candidate:9 1 udp 2130706431 192.0.2.99 3478 typ host\r\na=candidate:');
  call.acceptAnswer(answer, net.now);
  return net;
}

function record(net: SimNet): Recorder {
  const r = new Recorder();
  for (const ev of net.events) if (ev.type === 'audio') r.add(ev.timestamp, ev.payload);
  return r;
}

test('answer setup:active → the client is the DTLS server; the echoed tone comes back', () => {
  const net = setup('a');
  net.runUntil(net.now + 2_000);
  const s = net.call.stats();
  assert.equal(s.state, 'connected');
  assert.equal(s.dtlsRole, 'server');
  assert.equal(s.packetsSent, 50);
  assert.equal(s.packetsReceived, 50);
  assert.equal(s.packetsLost, 0);
  assert.equal(s.remoteAddress, '192.0.2.10:3478');
  assert.ok(net.events.some((e) => e.type === 'sending-done'));
  const pcm = record(net).toPcm();
  const check = hasTone(pcm.samples, 440);
  assert.ok(check.found, JSON.stringify(check.analysis));
  // Four one-way hops of 10 ms: ICE check + response, then DTLS flights.
  assert.ok(s.iceMs! >= 20 && s.iceMs! < 100, `iceMs ${s.iceMs}`);
  assert.ok(Math.abs(s.stunRttMs! - 20) < 1, `stun rtt ${s.stunRttMs}`);
  assert.ok(net.server.rtcpReceived >= 1, 'Sender Reports reach the server');
});

test('answer setup:passive → the client is the DTLS client and still connects', () => {
  const net = setup('p', { passive: true });
  net.runUntil(net.now + 1_500);
  const s = net.call.stats();
  assert.equal(s.state, 'connected');
  assert.equal(s.dtlsRole, 'client');
  assert.ok(s.packetsReceived >= 45, `received ${s.packetsReceived}`);
});

test('sending is paced at one frame per 20 ms on the clock', () => {
  const net = setup('pace', { frames: 100 });
  net.runUntil(net.now + 500);
  const connectedAt = net.call.stats().connectedAt!;
  net.runUntil(connectedAt + 1_000 - 1);
  assert.equal(net.call.stats().packetsSent, 50);
});

test('NAT rebinding: after the client address changes, the server follows and audio continues', () => {
  const net = setup('rebind', { frames: 150 });
  net.runUntil(net.now + 1_500);
  const before = net.call.stats().packetsReceived;
  assert.ok(before > 0);
  net.clientAddress = { address: '198.51.100.7', port: 40001, family: 'IPv4' };
  net.call.rebound(net.now);
  net.runUntil(net.now + 2_000);
  const after = net.call.stats().packetsReceived;
  assert.deepEqual(net.server.selections, ['198.51.100.7:40000', '198.51.100.7:40001']);
  assert.ok(after - before > 50, `received ${after - before} after rebinding`);
});

test('a dead primary candidate: the backup candidate is tried next and the call connects through it', () => {
  const net = setup('backup', { deadPrimary: true });
  net.runUntil(net.now + 5_000);
  const s = net.call.stats();
  assert.equal(s.state, 'connected');
  assert.equal(s.remoteAddress, '192.0.2.10:3478');
  assert.ok(s.iceMs! > 2_500 && s.iceMs! < 4_000, `failed over after ${s.iceMs} ms`);
  assert.ok(s.packetsReceived > 0);
});

test('nobody answers the checks → failed with ERR_CLIENT_ICE_FAILED at the connect deadline', () => {
  const net = setup('silent');
  net.drop = () => true;
  net.runUntil(net.now + 12_000);
  assert.equal(net.call.state, 'failed');
  const failed = net.events.find((e) => e.type === 'failed');
  assert.ok(failed && failed.type === 'failed');
  assert.ok(failed.error.code === ClientErrorCode.IceFailed || failed.error.code === ClientErrorCode.ConnectTimeout, failed.error.code);
  assert.equal(net.call.pollTimeout(), undefined, 'a failed call holds no deadline');
});

test('close() is idempotent and stops all timers', () => {
  const net = setup('close');
  net.runUntil(net.now + 500);
  net.call.close(net.now);
  net.call.close(net.now);
  assert.equal(net.call.state, 'closed');
  assert.equal(net.call.pollTimeout(), undefined);
});
