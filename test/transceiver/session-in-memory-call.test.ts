// One call driven in memory on a manual clock: our own client (ClientCall) against a
// transceiver Session over the seeded netem with 10 ms each way (test/calls/call-pair.ts).
// Checks the life of a call: ICE-lite nomination → DTLS (both roles) → SRTP echo, RTCP with RTT,
// consent loss after 30 s (RFC 7675 §5.1), the ~10 s setup timeout, a relay that moved, max
// duration, agent hang-up and close() sending BYE + close_notify. NAT rebinding: test/calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { ClientErrorCode } from '../../src/client/errors.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import type { MediaHandlerFactory } from '../../src/transceiver/handlers/media-handler.ts';
import { CallPair, CLIENT_HOST, CLIENT_PUBLIC, numberedFrames, SESSION_CNAME, SESSION_SSRC, T0 } from '../calls/call-pair.ts';
import type { CallPairOptions } from '../calls/call-pair.ts';

/** A client that talks for a minute unless the test stops it. */
const talking = (seed: string, o: Partial<CallPairOptions> = {}): CallPair =>
  new CallPair({ seed, frames: numberedFrames(50), frameCount: 3_000, ...o });

for (const sessionRole of ['client', 'server'] as const) {
  test(`ICE-lite nomination → DTLS (session is DTLS ${sessionRole}) → connected, and echo returns every frame`, () => {
    const pair = new CallPair({ seed: `echo-${sessionRole}`, sessionRole });
    pair.runUntil(T0 + 1000);
    assert.equal(pair.session.state, 'connected');
    const states = pair.sessionEvents.flatMap((e) => (e.type === 'state' ? [e.state] : []));
    assert.deepEqual(states, ['connecting', 'connected']);
    const [path] = pair.pathEvents();
    assert.ok(path && path.path.client.port === CLIENT_PUBLIC.port && path.previous === undefined);
    assert.equal(pair.client.state, 'connected', 'the client derived SRTP keys too');
  });
}

test('echo: every frame comes back under the session SSRC, seq +1 and ts +960, the first with the marker', () => {
  const pair = talking('echo-stream');
  pair.runUntil(T0 + 3000);
  const got = pair.sessionRtpDelivered.map((r) => r.header).filter((h) => h.ssrc === SESSION_SSRC);
  assert.ok(got.length >= 90, `echoed ${got.length} frames in 2 s`);
  assert.ok(pair.clientAudio().every((a) => a.payload.toString().startsWith('f')));
  assert.equal(got[0].marker, true);
  for (let i = 1; i < got.length; i++) {
    assert.equal(got[i].sequenceNumber, (got[i - 1].sequenceNumber + 1) & 0xffff);
    assert.equal(got[i].timestamp, (got[i - 1].timestamp + 960) >>> 0);
  }
  const s = pair.session.stats();
  assert.ok(s.packetsReceived >= 90 && s.packetsSent >= 90 && s.bytesReceived > 0 && s.bytesSent > 0);
  assert.equal(s.packetsDropped, 0);
});

test('RTCP: SR/RR with SDES CNAME every few seconds; RTT from the caller RR ≈ 2 × 10 ms; loss counted', () => {
  const pair = talking('rtcp');
  // The client's media loses 3 %: the session's report blocks must show it.
  pair.net.setProfile({ latencyMs: 10, loss: 0.03 }, { from: CLIENT_HOST });
  pair.runUntil(T0 + 8000);
  const reports = pair.clientEvents.flatMap((e) => (e.type === 'rtcp' && e.packets.some((p) => p.type === 'sr') ? [e.packets] : []));
  assert.ok(reports.length >= 2, `${reports.length} SRs in 7 s`);
  const sdes = reports[0].find((p) => p.type === 'sdes');
  assert.ok(sdes && sdes.type === 'sdes' && sdes.chunks[0].items[0].text === SESSION_CNAME);
  const s = pair.session.stats();
  assert.ok(s.rttMs !== undefined && Math.abs(s.rttMs - 20) < 2, `rtt ${s.rttMs}`);
  assert.ok(s.packetsLost >= 5, `lost ${s.packetsLost}`);
  assert.ok(s.rtcpReceived >= 2 && s.rtcpSent >= 2);
  const clientSsrc = pair.clientRtpSent[0].header.ssrc;
  const last = reports[reports.length - 1].find((p) => p.type === 'sr');
  assert.ok(last && last.type === 'sr' && last.reports[0].ssrc === clientSsrc && last.reports[0].cumulativeLost >= 5);
});

test('RFC 7675 §5.1: when the caller vanishes, consent is lost and the call closes 30 s after the last check', () => {
  const pair = new CallPair({ seed: 'consent' });
  pair.runUntil(T0 + 1000);
  assert.equal(pair.session.state, 'connected');
  const goneAt = pair.now;
  pair.net.setProfile({ loss: 1 });
  pair.runUntil(goneAt + 29_000);
  assert.equal(pair.session.state, 'connected', 'still within 30 s of the last valid check');
  pair.runUntil(goneAt + 31_000);
  assert.equal(pair.session.state, 'closed');
  assert.equal(pair.session.closeReason, 'consent_lost');
  assert.ok(pair.session.closedAt! - goneAt <= 30_000 && pair.session.closedAt! - goneAt > 24_000);
  assert.equal(pair.session.pollTimeout(), undefined);
});

test('setup timeout: no ICE at all → closed after 10 s with reason setup_timeout', () => {
  const pair = new CallPair({ seed: 'setup-none', profile: { loss: 1 } });
  pair.runUntil(T0 + 9_999);
  assert.equal(pair.session.state, 'created');
  pair.runUntil(T0 + 10_001);
  assert.equal(pair.session.state, 'closed');
  assert.equal(pair.session.closeReason, 'setup_timeout');
  assert.equal(pair.session.closedAt, T0 + 10_000);
});

test('setup timeout: ICE nominates but DTLS never completes (wrong fingerprint) → closed, not connected', () => {
  const wrong = generateCertificate(seededRng('someone-else')).fingerprint;
  const pair = new CallPair({ seed: 'setup-dtls', session: { remoteFingerprint: wrong } });
  pair.runUntil(T0 + 11_000);
  assert.equal(pair.session.state, 'closed');
  assert.ok(pair.session.closeReason === 'dtls_failed' || pair.session.closeReason === 'setup_timeout', pair.session.closeReason);
  assert.equal(pair.session.connectedAt, undefined);
});

test('max duration ends the call; close() is idempotent and sends RTCP BYE and DTLS close_notify', () => {
  const pair = talking('max', { session: { maxDurationMs: 5000 } });
  pair.runUntil(T0 + 4000);
  assert.equal(pair.session.state, 'connected');
  pair.runUntil(T0 + 6000);
  assert.equal(pair.session.closeReason, 'max_duration');
  assert.equal(pair.session.closedAt, T0 + 5000);
  assert.ok(
    pair.clientEvents.some((e) => e.type === 'rtcp' && e.packets.some((p) => p.type === 'bye')),
    'BYE received',
  );
  assert.equal(pair.client.error?.code, ClientErrorCode.RemoteClosed, 'close_notify received');
  pair.session.close('hangup', pair.now);
  assert.equal(pair.session.closeReason, 'max_duration');
});

test('the handler can hang up (agent_hangup) and its errors are contained and reported', () => {
  const errors: string[] = [];
  let frames = 0;
  const handler: MediaHandlerFactory = (ctx) => ({
    onAudio() {
      if (++frames === 3) throw new Error('boom');
      if (frames === 10) ctx.hangup();
    },
    close() {},
  });
  const pair = talking('agent', { handler, session: { onHandlerError: (m) => errors.push(m) } });
  pair.runUntil(T0 + 3000);
  assert.deepEqual(errors, ['onAudio']);
  assert.equal(pair.session.closeReason, 'agent_hangup');
});

test('audio queued outside handle() wakes the endpoint, and is paced from the next drive', () => {
  let ctxSend: ((b: Buffer) => void) | undefined;
  const handler: MediaHandlerFactory = (ctx) => {
    ctxSend = (b) => ctx.send(b);
    return { onAudio() {}, close() {} };
  };
  const pair = new CallPair({ seed: 'wake', handler });
  pair.runUntil(T0 + 1000);
  for (let i = 0; i < 10; i++) ctxSend!(Buffer.from([i]));
  assert.equal(pair.wakes, 1, 'one wake for a burst');
  pair.runUntil(T0 + 1300);
  assert.equal(pair.clientAudio().length, 10);
});

test('a push-only handler (echo) does not keep a 20 ms tick alive when the caller is silent', () => {
  const pair = new CallPair({ seed: 'idle' });
  pair.runUntil(T0 + 2000);
  assert.equal(pair.session.state, 'connected');
  const next = pair.session.pollTimeout()!;
  assert.ok(next - pair.now > 100, `next deadline in ${next - pair.now} ms`);
});

test('same client address through another relay (a relay moved): replies follow the relay the client last used', () => {
  const pair = talking('relay-moved');
  pair.runUntil(T0 + 1000);
  const before = pair.pathEvents().length;
  pair.relaySocket = { address: '10.0.0.3', port: 40001, family: 'IPv4' };
  pair.runUntil(T0 + 1100);
  assert.equal(pair.session.selectedPath?.relaySocket.address, '10.0.0.3');
  assert.equal(pair.pathEvents().length - before, 1, 'one path event, not one per packet');
});

test('a pulled handler (tone) is asked every 20 ms once connected: ~50 frames per second without inbound audio', () => {
  const pair = new CallPair({ seed: 'tone', handler: defaultHandlers().get('tone')! });
  pair.runUntil(T0 + 1000);
  assert.equal(pair.session.state, 'connected');
  const start = pair.clientAudio().length;
  pair.runUntil(T0 + 3000);
  const n = pair.clientAudio().length - start;
  assert.ok(n >= 98 && n <= 101, `${n} frames in 2 s`);
  pair.session.close('hangup', pair.now);
});

test('echo over a jittery link holds no frame: a frame that came late does not delay the frames after it', () => {
  // Latency 10 ± 8 ms: every frame arrives up to 16 ms off the 20 ms grid its predecessors set.
  const pair = talking('echo-jitter', { profile: { latencyMs: 10, jitterMs: 8 } });
  pair.runUntil(T0 + 5000);
  const arrived = pair.clientRtpDelivered.map((r) => r.at);
  const left = pair.sessionRtpSent.filter((r) => r.header.ssrc === SESSION_SSRC).map((r) => r.at);
  assert.ok(left.length >= 150, `echoed ${left.length} frames`);
  // The echo sends each frame as it is handled, so the i-th frame out is the i-th frame in.
  const held = left.map((t, i) => t - arrived[i]);
  assert.equal(
    Math.max(...held),
    0,
    `frames held up to ${Math.max(...held).toFixed(1)} ms (${held.filter((h) => h > 0).length} of ${held.length})`,
  );
});
