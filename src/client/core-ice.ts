// The client's ICE agent: src/core/ice's IceControllingClient (RFC 8445 controlling, RFC 7675
// consent) adapted to IceAgentLike. It checks the answer's first (highest-priority) candidate;
// a lite server's other candidates are backups ClientCall does not need on one machine.
// checkNow() exists for NAT rebinding: right after the I/O shell moves to a new port, one
// nominating check (USE-CANDIDATE, RFC 8445 §7.3.1.5) moves the lite agent's selected pair at
// once instead of at the next consent check up to 6 s later. Its response is not the agent's
// transaction, so the agent counts and drops it; the StunRttMeter still times it.
import type { Rng } from '../core/rng.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../core/ice/binding-request.ts';
import { IceControllingClient } from '../core/ice/ice-controlling-client.ts';
import type { IceAgentLike, IceAgentParams, IceSignal } from './agents.ts';

export function createCoreIce(p: IceAgentParams, rng: Rng): IceAgentLike {
  const remote = p.remoteCandidates[0];
  const agent = new IceControllingClient({
    localUfrag: p.localUfrag, localPwd: p.localPwd, remoteUfrag: p.remoteUfrag, remotePwd: p.remotePwd, remote, rng,
  });
  agent.start(p.now);
  const extra: { to: typeof remote; data: Buffer }[] = [];
  return {
    handle: (packet, from, now) => agent.handle(packet, from, now),
    handleTimeout: (now) => agent.handleTimeout(now),
    pollTransmit: () => extra.shift() ?? agent.pollTransmit(),
    pollTimeout: () => agent.pollTimeout(),
    pollEvent(): IceSignal | undefined {
      const ev = agent.pollEvent();
      if (!ev) return undefined;
      if (ev.type === 'connected') return { type: 'connected', remote };
      return ev;
    },
    checkNow() {
      if (agent.state !== 'connected') return;
      extra.push({
        to: remote,
        data: connectivityCheck({
          transactionId: rng.bytes(12), localUfrag: p.localUfrag, remoteUfrag: p.remoteUfrag, remotePwd: p.remotePwd,
          priority: PEER_REFLEXIVE_PRIORITY, role: { controlling: true, tieBreaker: agent.tieBreaker }, useCandidate: true,
        }),
      });
    },
  };
}
