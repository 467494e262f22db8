// One call driven in memory on a manual clock: our own caller (IceControllingClient, DTLS,
// SRTP) against a transceiver Session over a 10 ms simulated relay. Checks the life of a call:
// ICE-lite nomination → DTLS (both roles) → SRTP echo, RTCP with RTT, consent loss after 30 s
// (RFC 7675 §5.1), the ~10 s setup timeout, NAT rebinding (RFC 8445 §7.3.1.5), max duration,
// agent hang-up and close() sending BYE + close_notify.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../src/core/address.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import type { MediaHandlerFactory } from '../../src/transceiver/media-handler.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { Session } from '../../src/transceiver/session.ts';
import type { SessionEvent, SessionOptions } from '../../src/transceiver/session.ts';
import { TestCaller } from './helpers/test-caller.ts';
import { Sim } from './helpers/sim.ts';

const CLIENT: TransportAddress = { address: '198.51.100.20', port: 50000, family: 'IPv4' };
const RELAY: TransportAddress = { address: '203.0.113.7', port: 3478, family: 'IPv4' };
const T0 = 1_000_000;
const serverCert = generateCertificate(seededRng('server-cert'));

function setup(o: { seed: string; sessionRole?: 'client' | 'server'; handler?: MediaHandlerFactory; extra?: Partial<SessionOptions> }) {
  const rng = seededRng(o.seed);
  const sessionRole = o.sessionRole ?? 'client';
  const caller = new TestCaller({ rng, relay: RELAY, dtlsRole: sessionRole === 'client' ? 'server' : 'client' });
  const server = { ufrag: 'AQFserverufragserverufrag', pwd: 'serverpasswordserverpass' };
  const session = new Session({
    id: 'rtc_test', now: T0, rng, localUfrag: server.ufrag, localPwd: server.pwd, remoteUfrag: caller.ufrag, remotePwd: caller.pwd,
    dtlsRole: sessionRole, certificate: serverCert, remoteFingerprint: caller.certificate.fingerprint,
    ssrc: 0x5eed0001, cname: 'parley-test', opusPayloadType: 111, handlerFactory: o.handler ?? createEchoHandler,
    wallClockOffsetMs: 1_700_000_000_000, maxDurationMs: 3_600_000, ...o.extra,
  });
  const sim = new Sim({ session, caller, now: T0, client: CLIENT, relay: RELAY });
  caller.start({ ...server, fingerprint: serverCert.fingerprint }, T0);
  return { sim, session, caller };
}

function events(session: Session): SessionEvent[] {
  const out: SessionEvent[] = [];
  for (let e = session.pollEvent(); e; e = session.pollEvent()) out.push(e);
  return out;
}

const talk = (caller: TestCaller) => (now: number) => {
  if (caller.connected) caller.sendOpus(Buffer.from(`frame@${now}`));
};

for (const sessionRole of ['client', 'server'] as const) {
  test(`ICE-lite nomination → DTLS (session is DTLS ${sessionRole}) → connected, and echo returns every frame`, () => {
    const { sim, session, caller } = setup({ seed: `echo-${sessionRole}`, sessionRole });
    sim.run(T0 + 1000);
    assert.equal(session.state, 'connected');
    const ev = events(session);
    assert.deepEqual(ev.filter((e) => e.type === 'state').map((e) => e.type === 'state' && e.state), ['connecting', 'connected']);
    const path = ev.find((e) => e.type === 'path');
    assert.ok(path && path.type === 'path' && path.path.client.port === CLIENT.port && path.previous === undefined);
    assert.ok(caller.connected, 'the caller derived SRTP keys too');
    sim.run(T0 + 3000, talk(caller));
    const got = caller.received.filter((p) => p.header.ssrc === 0x5eed0001);
    assert.ok(got.length >= 90, `echoed ${got.length} frames in 2 s`);
    assert.ok(got.every((p) => p.payload.toString().startsWith('frame@')));
    assert.equal(got[0].header.marker, true);
    for (let i = 1; i < got.length; i++) {
      assert.equal(got[i].header.sequenceNumber, (got[i - 1].header.sequenceNumber + 1) & 0xffff);
      assert.equal(got[i].header.timestamp, (got[i - 1].header.timestamp + 960) >>> 0);
    }
    const s = session.stats();
    assert.ok(s.packetsReceived >= 90 && s.packetsSent >= 90 && s.bytesReceived > 0 && s.bytesSent > 0);
    assert.equal(s.packetsDropped, 0);
  });
}

test('RTCP: SR/RR with SDES CNAME every few seconds; RTT from the caller RR ≈ 2 × 10 ms; loss counted', () => {
  const { sim, session, caller } = setup({ seed: 'rtcp' });
  sim.run(T0 + 1000);
  let n = 0;
  sim.run(T0 + 8000, (now) => {
    if (!caller.connected) return;
    if (++n % 50 === 0) caller.skipSequence(); // lose 2 %
    caller.sendOpus(Buffer.from(`f${now}`));
  });
  const reports = caller.rtcp.filter((c) => c.some((p) => p.type === 'sr'));
  assert.ok(reports.length >= 2, `${reports.length} SRs in 7 s`);
  const sdes = reports[0].find((p) => p.type === 'sdes');
  assert.ok(sdes && sdes.type === 'sdes' && sdes.chunks[0].items[0].text === 'parley-test');
  const s = session.stats();
  assert.ok(s.rttMs !== undefined && Math.abs(s.rttMs - 20) < 2, `rtt ${s.rttMs}`);
  assert.ok(s.packetsLost >= 5, `lost ${s.packetsLost}`);
  assert.ok(s.rtcpReceived >= 2 && s.rtcpSent >= 2);
  const last = reports[reports.length - 1].find((p) => p.type === 'sr');
  assert.ok(last && last.type === 'sr' && last.reports[0].ssrc === caller.ssrc && last.reports[0].cumulativeLost >= 5);
});

test('RFC 7675 §5.1: when the caller vanishes, consent is lost and the call closes 30 s after the last check', () => {
  const { sim, session, caller } = setup({ seed: 'consent' });
  sim.run(T0 + 1000);
  assert.equal(session.state, 'connected');
  const goneAt = sim.now;
  caller.vanish();
  sim.run(goneAt + 29_000);
  assert.equal(session.state, 'connected', 'still within 30 s of the last valid check');
  sim.run(goneAt + 31_000);
  assert.equal(session.state, 'closed');
  assert.equal(session.closeReason, 'consent-lost');
  assert.ok(session.closedAt! - goneAt <= 30_000 && session.closedAt! - goneAt > 24_000);
  assert.equal(session.pollTimeout(), undefined);
});

test('setup timeout: no ICE at all → closed after 10 s with reason setup-timeout', () => {
  const { sim, session } = setup({ seed: 'setup-none' });
  sim.blackhole = true;
  sim.run(T0 + 9_999);
  assert.equal(session.state, 'created');
  sim.run(T0 + 10_001);
  assert.equal(session.state, 'closed');
  assert.equal(session.closeReason, 'setup-timeout');
  assert.equal(session.closedAt, T0 + 10_000);
});

test('setup timeout: ICE nominates but DTLS never completes (wrong fingerprint) → closed, not connected', () => {
  const wrong = generateCertificate(seededRng('someone-else')).fingerprint;
  const rng = seededRng('setup-dtls');
  const caller = new TestCaller({ rng, relay: RELAY, dtlsRole: 'server' });
  const session = new Session({
    id: 'rtc_x', now: T0, rng, localUfrag: 'AQFserverufragserverufrag', localPwd: 'serverpasswordserverpass', remoteUfrag: caller.ufrag,
    remotePwd: caller.pwd, dtlsRole: 'client', certificate: serverCert, remoteFingerprint: wrong, ssrc: 1, cname: 'c', opusPayloadType: 111,
    handlerFactory: createEchoHandler,
  });
  const sim = new Sim({ session, caller, now: T0, client: CLIENT, relay: RELAY });
  caller.start({ ufrag: 'AQFserverufragserverufrag', pwd: 'serverpasswordserverpass', fingerprint: serverCert.fingerprint }, T0);
  sim.run(T0 + 11_000);
  assert.equal(session.state, 'closed');
  assert.ok(session.closeReason === 'dtls-failed' || session.closeReason === 'setup-timeout', session.closeReason);
  assert.equal(session.connectedAt, undefined);
});

test('NAT rebinding: a nominating check from a new address moves media there (and to the relay it used)', () => {
  const { sim, session, caller } = setup({ seed: 'rebind' });
  sim.run(T0 + 1000, talk(caller));
  events(session);
  const moved: TransportAddress = { address: '198.51.100.99', port: 61000, family: 'IPv4' };
  sim.clientAddress = moved;
  // The next consent check (4-6 s later) comes from the new mapping and carries USE-CANDIDATE.
  sim.run(T0 + 8000, talk(caller));
  const ev = events(session).filter((e) => e.type === 'path');
  assert.equal(ev.length, 1);
  const e = ev[0];
  assert.ok(e.type === 'path');
  assert.equal(e.path.client.address, moved.address);
  assert.equal(e.previous?.client.address, CLIENT.address);
  assert.equal(session.selectedPath?.client.port, 61000);
  assert.equal(session.state, 'connected');
  const before = caller.received.length;
  sim.run(T0 + 9000, talk(caller));
  assert.ok(caller.received.length - before >= 40, 'echo continues on the new address');
});

test('max duration ends the call; close() is idempotent and sends RTCP BYE and DTLS close_notify', () => {
  const { sim, session, caller } = setup({ seed: 'max', extra: { maxDurationMs: 5000 } });
  sim.run(T0 + 4000, talk(caller));
  assert.equal(session.state, 'connected');
  sim.run(T0 + 6000, talk(caller));
  assert.equal(session.closeReason, 'max-duration');
  assert.equal(session.closedAt, T0 + 5000);
  assert.ok(caller.rtcp.some((c) => c.some((p) => p.type === 'bye')), 'BYE received');
  assert.ok(caller.events.includes('dtls:closed'), 'close_notify received');
  session.close('hangup', sim.now);
  assert.equal(session.closeReason, 'max-duration');
});

test('the handler can hang up (agent-hangup) and its errors are contained and reported', () => {
  const errors: string[] = [];
  let frames = 0;
  const handler: MediaHandlerFactory = (ctx) => ({
    onAudio() {
      if (++frames === 3) throw new Error('boom');
      if (frames === 10) ctx.hangup('done');
    },
    close() {},
  });
  const { sim, session, caller } = setup({ seed: 'agent', handler, extra: { onHandlerError: (m) => errors.push(m) } });
  sim.run(T0 + 3000, talk(caller));
  assert.deepEqual(errors, ['onAudio']);
  assert.equal(session.closeReason, 'agent-hangup');
});

test('audio queued outside handle() wakes the endpoint, and is paced from the next drive', () => {
  let wakes = 0;
  let ctxSend: ((b: Buffer) => void) | undefined;
  const handler: MediaHandlerFactory = (ctx) => {
    ctxSend = (b) => ctx.send(b);
    return { onAudio() {}, close() {} };
  };
  const { sim, session, caller } = setup({ seed: 'wake', handler, extra: { onWake: () => wakes++ } });
  sim.run(T0 + 1000);
  for (let i = 0; i < 10; i++) ctxSend!(Buffer.from([i]));
  assert.equal(wakes, 1, 'one wake for a burst');
  session.handleTimeout(sim.now);
  sim.run(T0 + 1300);
  assert.equal(caller.received.length, 10);
});

test('a push-only handler (echo) does not keep a 20 ms tick alive when the caller is silent', () => {
  const { sim, session } = setup({ seed: 'idle' });
  sim.run(T0 + 2000);
  assert.equal(session.state, 'connected');
  const next = session.pollTimeout()!;
  assert.ok(next - sim.now > 100, `next deadline in ${next - sim.now} ms`);
});

test('same client address through another relay (a relay moved): replies follow the relay the client last used', () => {
  const { sim, session, caller } = setup({ seed: 'relay-moved' });
  sim.run(T0 + 1000, talk(caller));
  events(session);
  const newRelaySocket = { address: '10.0.0.3', port: 40001, family: 'IPv4' as const };
  sim.relaySocket = newRelaySocket;
  sim.run(T0 + 1100, talk(caller));
  assert.equal(session.selectedPath?.relaySocket.address, '10.0.0.3');
  const moved = events(session).filter((e) => e.type === 'path');
  assert.equal(moved.length, 1, 'one path event, not one per packet');
});

test('a pulled handler (tone) is asked every 20 ms once connected: ~50 frames per second without inbound audio', async () => {
  const { defaultHandlers } = await import('../../src/transceiver/handlers/registry.ts');
  const { sim, session, caller } = setup({ seed: 'tone', handler: defaultHandlers().get('tone')! });
  sim.run(T0 + 1000);
  assert.equal(session.state, 'connected');
  const start = caller.received.length;
  sim.run(T0 + 3000);
  const n = caller.received.length - start;
  assert.ok(n >= 98 && n <= 101, `${n} frames in 2 s`);
  session.close('hangup', sim.now);
});
