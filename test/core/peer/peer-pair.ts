// Two AudioPeers (lite ⇄ controlling) on the seeded netem and a manual clock: the transceiver's
// role against the client's, optionally with data channels (src/core/peer/peer-data.ts).
// `holdStunAnswers` holds the lite side's check answers (Binding success responses; its own
// request back goes, since its ClientHello waits for that request's answer) back until its first DTLS datagram has
// gone, so the ClientHello overtakes them. `ctlDeafUntilPath` loses DTLS that reaches the
// controlling side before its ICE connected (Pion's DTLS listens only on a nominated pair).
import type { TransportAddress } from '../../../src/core/address.ts';
import { classifyPacket, isRtcp } from '../../../src/core/demux.ts';
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { drain } from '../../../src/core/output.ts';
import { ADDRESS_PATHS, AudioPeer } from '../../../src/core/peer/index.ts';
import type { PeerDataOptions, PeerEvent } from '../../../src/core/peer/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { ManualClock } from '../../../src/common/clock.ts';
import { createCoreIce } from '../../../src/client/core-ice.ts';
import { Netem } from '../../support/netem.ts';
import type { LinkProfile } from '../../support/netem.ts';
import { progress } from '../../support/progress.ts';

/** RFC 8489 §5: Binding method, success class. */
const STUN_BINDING_SUCCESS = 0x0101;

export const LITE: TransportAddress = { address: '203.0.113.7', port: 3478, family: 'IPv4' };
export const CONTROLLING: TransportAddress = { address: '198.51.100.20', port: 50000, family: 'IPv4' };
const certLite = generateCertificate(seededRng('peer-lite-cert'));
const certControlling = generateCertificate(seededRng('peer-controlling-cert'));
const creds = {
  // The lite side's ufrag is a routing token on the transceiver: checks are the size real ones are
  // (which matters for what the lite agent may send toward an address not yet confirmed, issue #19).
  lite: { ufrag: 'liteufrag'.repeat(7), pwd: 'litepasswordlitepassword' },
  ctl: { ufrag: 'ctlufrag', pwd: 'ctlpasswordctlpassword00' },
};

export type Peer = AudioPeer<TransportAddress>;

export interface PairOptions {
  readonly liteRole: 'client' | 'server';
  readonly holdStunAnswers?: boolean;
  readonly ctlDeafUntilPath?: boolean;
  readonly seed?: number;
  readonly profile?: LinkProfile;
  /** Data channels on both peers. */
  readonly dataChannels?: PeerDataOptions;
}

export function pair(o: PairOptions) {
  const clock = new ManualClock(10_000);
  const net = new Netem({ seed: o.seed ?? 7, profile: o.profile ?? { latencyMs: 10 } });
  const lite: Peer = new AudioPeer({
    rng: seededRng('lite'),
    paths: ADDRESS_PATHS,
    dtlsRole: o.liteRole,
    certificate: certLite,
    remoteFingerprint: certControlling.fingerprint,
    ice: { role: 'lite', localUfrag: creds.lite.ufrag, localPwd: creds.lite.pwd, remoteUfrag: creds.ctl.ufrag, remotePwd: creds.ctl.pwd },
    ssrc: 1,
    cname: 'lite',
    payloadType: 111,
    dataChannels: o.dataChannels,
  });
  const agent = createCoreIce(
    {
      localUfrag: creds.ctl.ufrag,
      localPwd: creds.ctl.pwd,
      remoteUfrag: creds.lite.ufrag,
      remotePwd: creds.lite.pwd,
      remoteCandidates: [LITE],
      now: clock.now(),
    },
    seededRng('ctl-ice'),
  );
  const ctl: Peer = new AudioPeer({
    rng: seededRng('ctl'),
    paths: ADDRESS_PATHS,
    dtlsRole: o.liteRole === 'client' ? 'server' : 'client',
    certificate: certControlling,
    remoteFingerprint: certLite.fingerprint,
    ice: { role: 'controlling', agent },
    ssrc: 2,
    cname: 'ctl',
    payloadType: 111,
    dataChannels: o.dataChannels,
  });
  const events = { lite: [] as PeerEvent<TransportAddress>[], ctl: [] as PeerEvent<TransportAddress>[] };
  const held: Buffer[] = [];
  const stats = { held: 0, lostOnCtl: 0 };
  /** What the lite peer put on the wire per drain, in order: 'dtls' (SCTP once connected), 'rtp', 'rtcp', 'stun'; and the DTLS bytes. */
  const liteDrains: Array<{ at: number; kinds: string[]; dtlsBytes: number }> = [];
  let dtlsSent = false;
  const flush = (): void => {
    const now = clock.now();
    const kinds: string[] = [];
    let dtlsBytes = 0;
    drain(
      lite,
      (t) => {
        const kind = classifyPacket(t.data);
        kinds.push(kind === 'rtp' && isRtcp(t.data) ? 'rtcp' : kind);
        if (kind === 'dtls') dtlsBytes += t.data.length;
        // Hold the check's answers back until the first DTLS datagram has gone: the ClientHello overtakes them.
        if (o.holdStunAnswers && classifyPacket(t.data) === 'stun' && t.data.readUInt16BE(0) === STUN_BINDING_SUCCESS && !dtlsSent) {
          held.push(t.data);
          stats.held++;
          return;
        }
        net.send({ from: LITE, to: t.path, data: t.data }, now);
        if (classifyPacket(t.data) !== 'dtls') return;
        dtlsSent = true;
        for (const h of held.splice(0)) net.send({ from: LITE, to: t.path, data: h }, now);
      },
      (e) => events.lite.push(e),
    );
    if (kinds.length > 0) liteDrains.push({ at: now, kinds, dtlsBytes });
    drain(
      ctl,
      (t) => net.send({ from: CONTROLLING, to: t.path, data: t.data }, now),
      (e) => events.ctl.push(e),
    );
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
  return { clock, net, lite, ctl, events, run, flush, stats, liteDrains };
}
