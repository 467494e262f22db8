// What a ClientCall needs besides its own options: the DTLS certificate it offers (one per
// process: `parley load` shares it between calls, WebRTC trusts it only through the offer's
// fingerprint, RFC 8827 §6.5), a factory for its controlling ICE agent, the candidate
// failover around src/core/ice's agent (./core-ice.ts; ./core-agents.ts builds both), and the
// SRTP cipher (the native addon's where it loads, as the transceiver's). Types only.
import type { TransportAddress } from '../core/address.ts';
import type { DtlsCertificate } from '../core/dtls/index.ts';
import type { ControllingIceAgent } from '../core/peer/index.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';

export interface IceAgentParams {
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly remoteUfrag: string;
  readonly remotePwd: string;
  readonly remoteCandidates: readonly TransportAddress[];
  readonly now: number;
}

export interface CallAgents {
  readonly certificate: DtlsCertificate;
  createIce(p: IceAgentParams): ControllingIceAgent;
  /** The SRTP cipher of every call (default: src/core/srtp's TypeScript and node:crypto). */
  readonly srtpTransform?: SrtpTransformFactory;
}
