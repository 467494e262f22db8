// The lite peer as DTLS client resends its unanswered ClientHello the moment the far end's
// nomination arrives (RFC 8445 §7.3.1.5; DtlsEndpoint.retransmitNow), instead of waiting out the
// 400 ms retransmission timer (RFC 6347 §4.2.4.1). The far end here behaves like Pion: its DTLS
// listens only once its ICE agent has a nominated pair, so the first ClientHello — sent when the
// lite side selected the pair provisionally — is lost on it. Netem with 10 ms latency, manual clock.
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
const LATENCY_MS = 10;
const T0 = 10_000;
const certLite = generateCertificate(seededRng('resend-lite-cert'));
const certControlling = generateCertificate(seededRng('resend-controlling-cert'));
const creds = { lite: { ufrag: 'liteufragliteufrag', pwd: 'litepasswordlitepassword' }, ctl: { ufrag: 'ctlufrag', pwd: 'ctlpasswordctlpassword00' } };

type Peer = AudioPeer<TransportAddress>;

test('an unanswered ClientHello goes again when the nomination arrives, and the call connects long before the retransmission timer', () => {
  const clock = new ManualClock(T0);
  const net = new Netem({ seed: 11, profile: { latencyMs: LATENCY_MS } });
  const lite: Peer = new AudioPeer({
    rng: seededRng('lite'), paths: ADDRESS_PATHS, dtlsRole: 'client', certificate: certLite, remoteFingerprint: certControlling.fingerprint,
    ice: { role: 'lite', localUfrag: creds.lite.ufrag, localPwd: creds.lite.pwd, remoteUfrag: creds.ctl.ufrag, remotePwd: creds.ctl.pwd },
    ssrc: 1, cname: 'lite', payloadType: 111,
  });
  const agent = createCoreIce({
    localUfrag: creds.ctl.ufrag, localPwd: creds.ctl.pwd, remoteUfrag: creds.lite.ufrag, remotePwd: creds.lite.pwd, remoteCandidates: [LITE], now: clock.now(),
  }, seededRng('ctl-ice'));
  const ctl: Peer = new AudioPeer({
    rng: seededRng('ctl'), paths: ADDRESS_PATHS, dtlsRole: 'server', certificate: certControlling,
    remoteFingerprint: certLite.fingerprint, ice: { role: 'controlling', agent }, ssrc: 2, cname: 'ctl', payloadType: 111,
  });
  const events = { lite: [] as PeerEvent<TransportAddress>[], ctl: [] as PeerEvent<TransportAddress>[] };
  const liteDtlsAt: number[] = [];
  const liteRequestsAt: number[] = [];
  let ignoredByCtl = 0;
  const flush = (): void => {
    const now = clock.now();
    drain(lite, (t) => {
      if (classifyPacket(t.data) === 'dtls') liteDtlsAt.push(now);
      if (classifyPacket(t.data) === 'stun') {
        const m = decodeStun(t.data);
        if (!(m instanceof StunDecodeError) && m.class === StunClass.Request) liteRequestsAt.push(now);
      }
      net.send({ from: LITE, to: t.path, data: t.data }, now);
    }, (e) => events.lite.push(e));
    drain(ctl, (t) => net.send({ from: CONTROLLING, to: t.path, data: t.data }, now), (e) => events.ctl.push(e));
  };
  net.attach(LITE, (d, now) => {
    lite.handle(d.data, d.from, now);
    flush();
  });
  net.attach(CONTROLLING, (d, now) => {
    // Pion-like: DTLS that arrives before the controlling agent's nomination succeeded is lost.
    if (classifyPacket(d.data) === 'dtls' && !events.ctl.some((e) => e.type === 'path')) {
      ignoredByCtl++;
      return;
    }
    ctl.handle(d.data, d.from, now);
    flush();
  });
  const part = (p: Peer) => ({ nextDeadline: () => p.pollTimeout(), advance: (now: number) => (p.handleTimeout(now), flush()) });
  ctl.start(clock.now());
  flush();
  progress({ clock, parts: [part(lite), part(ctl), net], until: () => lite.state === 'connected' && ctl.state === 'connected', maxMs: 5_000 });

  // t0: check; t0+10: answered, one request back, provisional selection and the first ClientHello;
  // t0+20: the check's answer reaches the controlling side, which nominates; t0+30: the
  // nomination reaches the lite side, and the ClientHello goes again at that instant.
  assert.deepEqual(liteRequestsAt, [T0 + LATENCY_MS], 'one Binding request back, right after the first answer');
  assert.equal(ignoredByCtl, 1, 'the first ClientHello was lost on a far end not listening yet');
  assert.deepEqual(liteDtlsAt.slice(0, 2), [T0 + LATENCY_MS, T0 + 3 * LATENCY_MS], 'resent when the nomination arrived');
  assert.ok(clock.now() < T0 + LATENCY_MS + INITIAL_RETRANSMIT_MS, `connected at t0+${clock.now() - T0} ms, before the first retransmission timer would fire`);
  assert.equal(lite.dump().ice?.stats.response_to_our_check, 1, 'the far end answered our request');
  for (const p of [lite, ctl]) p.close(clock.now());
});
