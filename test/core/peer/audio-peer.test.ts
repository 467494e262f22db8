// AudioPeer against AudioPeer (lite ⇄ controlling) on the netem and a manual clock, for what
// only the peer decides: a ClientHello that overtakes the check's answer is taken by the
// controlling DTLS server (RFC 5763 §5; the lite side selected the pair when it answered), frames
// queued before SRTP keys wait for them without holding a deadline, an unanswered ClientHello
// resent the moment the nomination arrives (RFC 8445 §7.3.1.5, DtlsEndpoint.retransmitNow), and
// close() with and without an RTCP BYE (RFC 3550 §6.6) before close_notify (RFC 5246 §7.2.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../../src/core/address.ts';
import { classifyPacket } from '../../../src/core/demux.ts';
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { INITIAL_RETRANSMIT_MS } from '../../../src/core/dtls/flight.ts';
import { drain } from '../../../src/core/output.ts';
import { ADDRESS_PATHS, AudioPeer } from '../../../src/core/peer/index.ts';
import type { PeerEvent } from '../../../src/core/peer/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { decodeStun, StunClass, StunDecodeError } from '../../../src/core/stun/index.ts';
import { ManualClock } from '../../../src/common/clock.ts';
import { createCoreIce } from '../../../src/client/core-ice.ts';
import { Netem } from '../../support/netem.ts';
import { progress } from '../../support/progress.ts';

const LITE: TransportAddress = { address: '203.0.113.7', port: 3478, family: 'IPv4' };
const CONTROLLING: TransportAddress = { address: '198.51.100.20', port: 50000, family: 'IPv4' };
const certLite = generateCertificate(seededRng('peer-lite-cert'));
const certControlling = generateCertificate(seededRng('peer-controlling-cert'));
const creds = { lite: { ufrag: 'liteufragliteufrag', pwd: 'litepasswordlitepassword' }, ctl: { ufrag: 'ctlufrag', pwd: 'ctlpasswordctlpassword00' } };

type Peer = AudioPeer<TransportAddress>;

/**
 * holdStunAnswers: the lite side's STUN waits behind its first DTLS datagram. ctlDeafUntilPath:
 * DTLS reaching the controlling side before its ICE connected is lost (Pion's DTLS listens only
 * on a nominated pair).
 */
function pair(o: { liteRole: 'client' | 'server'; holdStunAnswers?: boolean; ctlDeafUntilPath?: boolean }) {
  const clock = new ManualClock(10_000);
  const net = new Netem({ seed: 7, profile: { latencyMs: 10 } });
  const lite: Peer = new AudioPeer({
    rng: seededRng('lite'), paths: ADDRESS_PATHS, dtlsRole: o.liteRole, certificate: certLite, remoteFingerprint: certControlling.fingerprint,
    ice: { role: 'lite', localUfrag: creds.lite.ufrag, localPwd: creds.lite.pwd, remoteUfrag: creds.ctl.ufrag, remotePwd: creds.ctl.pwd },
    ssrc: 1, cname: 'lite', payloadType: 111,
  });
  const agent = createCoreIce({
    localUfrag: creds.ctl.ufrag, localPwd: creds.ctl.pwd, remoteUfrag: creds.lite.ufrag, remotePwd: creds.lite.pwd, remoteCandidates: [LITE], now: clock.now(),
  }, seededRng('ctl-ice'));
  const ctl: Peer = new AudioPeer({
    rng: seededRng('ctl'), paths: ADDRESS_PATHS, dtlsRole: o.liteRole === 'client' ? 'server' : 'client', certificate: certControlling,
    remoteFingerprint: certLite.fingerprint, ice: { role: 'controlling', agent }, ssrc: 2, cname: 'ctl', payloadType: 111,
  });
  const events = { lite: [] as PeerEvent<TransportAddress>[], ctl: [] as PeerEvent<TransportAddress>[] };
  const held: Buffer[] = [];
  const stats = { held: 0, lostOnCtl: 0 };
  /** When the lite side sent what: its DTLS datagrams and its STUN requests. */
  const liteSent = { dtls: [] as number[], stunRequests: [] as number[] };
  let dtlsSent = false;
  const flush = (): void => {
    const now = clock.now();
    drain(lite, (t) => {
      if (classifyPacket(t.data) === 'dtls') liteSent.dtls.push(now);
      const m = classifyPacket(t.data) === 'stun' ? decodeStun(t.data) : undefined;
      if (m && !(m instanceof StunDecodeError) && m.class === StunClass.Request) liteSent.stunRequests.push(now);
      // Hold the check's answers back until the first DTLS datagram has gone: the ClientHello overtakes them.
      if (o.holdStunAnswers && classifyPacket(t.data) === 'stun' && !dtlsSent) {
        held.push(t.data);
        stats.held++;
        return;
      }
      net.send({ from: LITE, to: t.path, data: t.data }, now);
      if (classifyPacket(t.data) !== 'dtls') return;
      dtlsSent = true;
      for (const h of held.splice(0)) net.send({ from: LITE, to: t.path, data: h }, now);
    }, (e) => events.lite.push(e));
    drain(ctl, (t) => net.send({ from: CONTROLLING, to: t.path, data: t.data }, now), (e) => events.ctl.push(e));
  };
  net.attach(LITE, (d, now) => {
    lite.handle(d.data, d.from, now);
    flush();
  });
  net.attach(CONTROLLING, (d, now) => {
    if (o.ctlDeafUntilPath && classifyPacket(d.data) === 'dtls' && !events.ctl.some((e) => e.type === 'path')) {
      stats.lostOnCtl++;
      return;
    }
    ctl.handle(d.data, d.from, now);
    flush();
  });
  const part = (p: Peer) => ({ nextDeadline: () => p.pollTimeout(), advance: (now: number) => (p.handleTimeout(now), flush()) });
  ctl.start(clock.now());
  flush();
  const run = (until: () => boolean, maxMs: number): void => void progress({ clock, parts: [part(lite), part(ctl), net], until, maxMs });
  return { clock, net, lite, ctl, events, run, flush, stats, liteSent };
}

test('the controlling DTLS server takes a ClientHello that overtakes the answer to its check, and connects', () => {
  const p = pair({ liteRole: 'client', holdStunAnswers: true });
  p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected' && p.events.ctl.some((e) => e.type === 'path'), 2_000);
  assert.ok(p.stats.held > 0, 'the answer to the check was held back behind the ClientHello');
  // The ClientHello arrived before ICE connected: answered where it came from, not dropped.
  assert.equal(p.ctl.stats().drops.not_ready, 0);
  assert.deepEqual(p.ctl.selectedPath, LITE);
});

test('an unanswered ClientHello goes again when the nomination arrives, long before the retransmission timer', () => {
  const p = pair({ liteRole: 'client', ctlDeafUntilPath: true });
  const t0 = p.clock.now();
  p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected', 2_000);
  // t0: check; +10: answer, one request back, provisional selection, first ClientHello (lost);
  // +20: the answer reaches the controlling side, which nominates; +30: the nomination arrives
  // and the ClientHello goes again at that instant, not at +10 + INITIAL_RETRANSMIT_MS.
  assert.deepEqual(p.liteSent.stunRequests, [t0 + 10], 'one Binding request back, right after the first answer');
  assert.equal(p.stats.lostOnCtl, 1, 'the first ClientHello was lost on a far end not listening yet');
  assert.deepEqual(p.liteSent.dtls.slice(0, 2), [t0 + 10, t0 + 30], 'resent when the nomination arrived');
  assert.ok(p.clock.now() < t0 + 10 + INITIAL_RETRANSMIT_MS, `connected at t0+${p.clock.now() - t0} ms`);
  assert.equal(p.lite.dump().ice?.stats.response_to_our_check, 1, 'the far end answered our request');
});

test('frames queued before SRTP keys hold no deadline, and leave one per 20 ms once connected', () => {
  const p = pair({ liteRole: 'client' });
  const frames = [Buffer.from('a'), Buffer.from('b'), Buffer.from('c')];
  p.lite.queueAudio(frames, p.clock.now());
  const due = p.lite.pollTimeout();
  assert.ok(due === undefined || due > p.clock.now(), 'no deadline at once for frames that cannot go yet');
  p.run(() => p.events.ctl.filter((e) => e.type === 'audio').length === 3, 2_000);
  const audio = p.events.ctl.flatMap((e) => (e.type === 'audio' ? [e] : []));
  assert.deepEqual(audio.map((a) => a.payload.toString()), ['a', 'b', 'c']);
  assert.deepEqual([audio[1].receivedAt - audio[0].receivedAt, audio[2].receivedAt - audio[1].receivedAt], [20, 20]);
});

for (const bye of ['hangup', undefined]) {
  test(`close(now${bye ? `, '${bye}'` : ''}): ${bye ? 'an SRTCP BYE, then' : 'no BYE, only'} close_notify; idempotent`, () => {
    const p = pair({ liteRole: 'server' });
    p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected', 2_000);
    p.lite.close(p.clock.now(), bye);
    p.lite.close(p.clock.now(), bye);
    p.flush();
    p.run(() => p.ctl.state === 'failed', 1_000);
    const byes = p.events.ctl.filter((e) => e.type === 'rtcp' && e.packets.some((q) => q.type === 'bye'));
    assert.equal(byes.length, bye ? 1 : 0);
    const failed = p.events.ctl.find((e) => e.type === 'failed');
    assert.ok(failed && failed.type === 'failed' && failed.reason === 'dtls-closed');
    assert.equal(p.lite.state, 'closed');
    assert.equal(p.lite.pollTimeout(), undefined);
    assert.equal(p.ctl.pollTimeout(), undefined, 'a failed peer holds no deadline');
  });
}
