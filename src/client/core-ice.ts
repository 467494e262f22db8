// The client's ICE agent: src/core/ice's IceControllingClient (RFC 8445 controlling, RFC 7675
// consent) with candidate failover, as the peer's ControllingIceAgent (src/core/peer). The answer may list several relay candidates (DESIGN.md:
// the nearest location first, a backup at lower priority). They are tried one at a time, in
// priority order: an agent per candidate, the next started only when the previous failed, so
// two relays are never nominated at once (a lite agent moves its selection to whichever
// nomination came last, RFC 8445 §7.3.1.5). Every candidate but the last gets fewer
// retransmissions (5: gives up after ~3 s) so a dead primary leaves time for the backup.
// Mid-call failover: while a backup candidate remains, the connected pair is checked every
// ~0.5 s (instead of RFC 7675's ~5 s consent interval) and, when nothing has answered for
// 1.5 s, the agent moves on to the next candidate (check + nominate, then the call goes on
// there): a relay location that dies costs ~1.5–2 s of audio, not a 30 s consent timeout.
// checkNow() exists for NAT rebinding: right after the I/O shell moves to a new port, one
// nominating check moves the lite agent's selected pair at once instead of at the next consent
// check up to 6 s later. Its response is not the agent's transaction, so the agent counts and
// drops it; the StunRttMeter still times it.
import type { TransportAddress } from '../core/address.ts';
import type { Rng } from '../core/rng.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../core/ice/binding-request.ts';
import { IceControllingClient } from '../core/ice/ice-controlling-client.ts';
import type { ControllingIceAgent, ControllingIceEvent } from '../core/peer/index.ts';
import type { IceAgentParams } from './agents.ts';

/** RFC 8489 §6.2.1 Rc for a candidate that has a backup after it: 100+200+400+800 ms, then 16 × RTO. */
const TRANSMISSIONS_WITH_BACKUP = 5;
/** With a backup left: liveness check interval on the connected pair, and silence that fails it over. */
const LIVENESS_INTERVAL_MS = 500;
export const FAILOVER_AFTER_MS = 1500;

export function createCoreIce(p: IceAgentParams, rng: Rng): ControllingIceAgent {
  const candidates = p.remoteCandidates;
  let index = 0;
  let lastNow = p.now;
  const failures: string[] = [];
  const start = (i: number, now: number): IceControllingClient => {
    const a = new IceControllingClient({
      localUfrag: p.localUfrag,
      localPwd: p.localPwd,
      remoteUfrag: p.remoteUfrag,
      remotePwd: p.remotePwd,
      remote: candidates[i],
      rng,
      maxTransmissions: i < candidates.length - 1 ? TRANSMISSIONS_WITH_BACKUP : undefined,
      consentIntervalMs: i < candidates.length - 1 ? LIVENESS_INTERVAL_MS : undefined,
    });
    a.start(now);
    return a;
  };
  let agent = start(0, p.now);
  const remote = (): TransportAddress => candidates[index];
  const extra: { to: TransportAddress; data: Buffer }[] = [];
  const hasBackup = (): boolean => index + 1 < candidates.length;
  const failoverAt = (): number | undefined =>
    agent.state === 'connected' && hasBackup() ? agent.lastResponseAt + FAILOVER_AFTER_MS : undefined;
  return {
    handle(packet, from, now) {
      lastNow = now;
      agent.handle(packet, from, now);
    },
    handleTimeout(now) {
      lastNow = now;
      const at = failoverAt();
      if (at !== undefined && now >= at) {
        failures.push(`${candidates[index].address}:${candidates[index].port} silent for ${FAILOVER_AFTER_MS} ms`);
        agent.close();
        agent = start(++index, now);
        return;
      }
      agent.handleTimeout(now);
    },
    pollTransmit: () => extra.shift() ?? agent.pollTransmit(),
    pollTimeout: () => {
      const t = agent.pollTimeout();
      const at = failoverAt();
      return t === undefined || (at !== undefined && at < t) ? at : t;
    },
    pollEvent(): ControllingIceEvent | undefined {
      for (;;) {
        const ev = agent.pollEvent();
        if (!ev) return undefined;
        if (ev.type === 'connected') return { type: 'connected', remote: remote() };
        if (ev.type === 'failed' && index + 1 < candidates.length) {
          failures.push(`${candidates[index].address}:${candidates[index].port} ${ev.reason}`);
          agent.close();
          agent = start(++index, lastNow);
          continue;
        }
        if (ev.type === 'failed' && failures.length > 0) {
          return {
            type: 'failed',
            reason: [...failures, `${candidates[index].address}:${candidates[index].port} ${ev.reason}`].join('; '),
          };
        }
        return ev;
      }
    },
    close() {
      agent.close();
      extra.length = 0;
    },
    checkNow() {
      if (agent.state !== 'connected') return;
      extra.push({
        to: remote(),
        data: connectivityCheck({
          transactionId: rng.bytes(12),
          localUfrag: p.localUfrag,
          remoteUfrag: p.remoteUfrag,
          remotePwd: p.remotePwd,
          priority: PEER_REFLEXIVE_PRIORITY,
          role: { controlling: true, tieBreaker: agent.tieBreaker },
          useCandidate: true,
        }),
      });
    },
  };
}
