// The two protocol machines a ClientCall drives, as the narrow shapes it needs: a controlling
// ICE agent (RFC 8445, checks with USE-CANDIDATE, RFC 7675 consent) and a DTLS-SRTP endpoint
// (RFC 5764). ClientCall takes factories for both so tests can substitute scripted peers; the
// production factories over src/core live in ./core-agents.ts. Types only.
import type { TransportAddress } from '../core/address.ts';
import type { SrtpProfileName } from '../core/srtp/index.ts';

export type IceSignal =
  | { readonly type: 'connected'; readonly remote: TransportAddress }
  | { readonly type: 'consent-lost' }
  | { readonly type: 'failed'; readonly reason: string };

export interface IceAgentLike {
  handle(packet: Buffer, from: TransportAddress, now: number): void;
  handleTimeout(now: number): void;
  pollTransmit(): { readonly to: TransportAddress; readonly data: Buffer } | undefined;
  pollEvent(): IceSignal | undefined;
  pollTimeout(): number | undefined;
  /** Sends a Binding Request on the selected pair now (after the local port changed). */
  checkNow(now: number): void;
}

export interface IceAgentParams {
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly remoteUfrag: string;
  readonly remotePwd: string;
  readonly remoteCandidates: readonly TransportAddress[];
  readonly now: number;
}

export type DtlsSignal =
  | { readonly type: 'connected'; readonly srtpProfile: SrtpProfileName; readonly keyingMaterial: Buffer }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'closed' };

export interface DtlsEndpointLike {
  start(now: number): void;
  handle(datagram: Buffer, now: number): void;
  handleTimeout(now: number): void;
  pollTransmit(): Buffer | undefined;
  pollEvent(): DtlsSignal | undefined;
  pollTimeout(): number | undefined;
  /** Sends close_notify (RFC 5246 §7.2.1); idempotent. */
  close(now: number): void;
}

export interface DtlsEndpointParams {
  readonly role: 'client' | 'server';
  /** The peer's a=fingerprint value ('AB:CD:…', sha-256). */
  readonly remoteFingerprint: string;
}

export interface CallAgents {
  createIce(p: IceAgentParams): IceAgentLike;
  createDtls(p: DtlsEndpointParams): DtlsEndpointLike;
  /** Our certificate's sha-256 fingerprint, for the offer. */
  readonly fingerprint: string;
}
