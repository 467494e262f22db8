// The public shapes of an AudioPeer: its options, what it emits, its statistics, and the two
// seams its owners fill — PeerPaths (what a "path" to the far end is: a bare address for the
// client, client address + relay for the transceiver) and ControllingIceAgent (the client's
// candidate failover around the controlling ICE agent). Types and constants only.
import type { TransportAddress } from '../address.ts';
import type { DtlsCertificate, DtlsCrypto, DtlsDropReason, DtlsState } from '../dtls/index.ts';
import type { IceLiteCounter } from '../ice/errors.ts';
import type { IceLiteDump, IceTransmit } from '../ice/ice-types.ts';
import type { Rng } from '../rng.ts';
import type { DataChannelEvent } from '../datachannel/index.ts';
import type { RtcpPacket } from '../rtp/index.ts';
import type { SrtpProfileName, SrtpTransformFactory } from '../srtp/index.ts';
import type { StunIntegrity } from '../stun/index.ts';
import type { PeerDrop, PeerDropReason } from './errors.ts';
import type { PeerDataOptions, PeerDataStats } from './peer-data.ts';
import type { AudioSource } from './rtp-sender.ts';

/**
 * How the peer reaches the far end. A path P names an address (what ICE sees) and whatever
 * else the owner needs to send there. The peer calls these on its receive path, so they must
 * not allocate per datagram.
 */
export interface PeerPaths<P> {
  /** Every STUN datagram's path, before ICE sees it, so an answer can find its way back. */
  remember(path: P): void;
  /** The path to an address ICE answers or selects, if one is known. */
  lookup(address: TransportAddress): P | undefined;
  /** After an authenticated datagram came by `path`: the path to use instead of `selected`, or undefined for no change. */
  follow(selected: P | undefined, path: P): P | undefined;
  address(path: P): TransportAddress;
}

/** The client's paths: a path is the far end's address, and only ICE moves it. */
export const ADDRESS_PATHS: PeerPaths<TransportAddress> = {
  remember: () => {},
  lookup: (address) => address,
  follow: () => undefined,
  address: (path) => path,
};

export type ControllingIceEvent =
  /** A pair was nominated and works: media goes to `remote` (again after a failover). */
  | { readonly type: 'connected'; readonly remote: TransportAddress }
  /** RFC 7675 §5.1: no authenticated response for the consent timeout. Terminal. */
  | { readonly type: 'consent_lost' }
  /** No candidate could be checked (RFC 8445 §7.2.5.2). Terminal. */
  | { readonly type: 'failed'; readonly reason: string };

/** A controlling ICE agent (RFC 8445 §7.2, §8.1.1) as the peer drives it. */
export interface ControllingIceAgent {
  handle(packet: Buffer, from: TransportAddress, now: number): void;
  handleTimeout(now: number): void;
  pollTransmit(): IceTransmit | undefined;
  pollEvent(): ControllingIceEvent | undefined;
  pollTimeout(): number | undefined;
  /** Sends a nominating check on the selected pair now (after the local address changed). */
  checkNow(now: number): void;
  /** Idempotent; later input is ignored. */
  close(): void;
}

/** ICE-lite (RFC 8445 §2.5), the transceiver's role: answers checks, follows nominations. */
export interface LiteIceOptions {
  readonly role: 'lite';
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly remoteUfrag: string;
  readonly remotePwd: string;
  /** RFC 7675 §5.1 (default 30 s). */
  readonly consentTimeoutMs?: number;
  /** The HMAC-SHA1 of STUN MESSAGE-INTEGRITY (IceLiteAgentOptions.integrity); default node:crypto's. */
  readonly integrity?: StunIntegrity;
}

export type PeerIce = LiteIceOptions | { readonly role: 'controlling'; readonly agent: ControllingIceAgent };

export interface AudioPeerOptions<P> {
  readonly rng: Rng;
  readonly ice: PeerIce;
  readonly paths: PeerPaths<P>;
  /** RFC 5763 §5: from the answer's a=setup (active = DTLS client). */
  readonly dtlsRole: 'client' | 'server';
  readonly certificate: DtlsCertificate;
  /** The far end's certificate fingerprint from SDP (SHA-256, or SHA-1/384/512). */
  readonly remoteFingerprint: string;
  /** SrtpSessionOptions.createTransform (the native transform); default the TypeScript ones. */
  readonly srtpTransform?: SrtpTransformFactory;
  /** DtlsOptions' x25519, prf, peerKeys and recordAead (the native addon's); each defaults to node:crypto's. */
  readonly dtlsCrypto?: DtlsCrypto;
  readonly ssrc: number;
  readonly cname: string;
  /** The negotiated Opus payload type: only it is delivered as audio and counted in RTCP. */
  readonly payloadType: number;
  /** RFC 4733 telephone-event's payload type, when negotiated: its packets become `dtmf` events. */
  readonly telephoneEventPayloadType?: number;
  /** Asked for a frame in each 20 ms slot the queue leaves empty, from connect on. */
  readonly source?: AudioSource;
  /** RtpSenderOptions.maxLagMs. */
  readonly maxLagMs?: number;
  readonly rtcpIntervalMs?: number;
  readonly firstReportMs?: number;
  /** RtcpSessionOptions.wallClockOffsetMs. */
  readonly wallClockOffsetMs?: number;
  /** Told of every datagram the peer drops, e.g. 'srtp_replayed' (a process-wide metric). */
  readonly onDrop?: (reason: PeerDropReason) => void;
  /** Told of every STUN packet's result in the lite role (ICE_LITE_RESULTS; a process-wide metric). */
  readonly onIceCheck?: (result: IceLiteCounter) => void;
  /** Told of every DTLS record dropped without ending the association (a process-wide metric). */
  readonly onDtlsDrop?: (reason: DtlsDropReason) => void;
  /** Data channels over the DTLS (SDP negotiated an m=application section); none when absent. */
  readonly dataChannels?: PeerDataOptions;
}

/** new → connecting (ICE selected a path, DTLS runs) → connected (SRTP keys) → failed | closed. */
export type PeerState = 'new' | 'connecting' | 'connected' | 'failed' | 'closed';

/** Why a peer stopped by itself. Stable strings. */
export const PEER_FAILURES = ['consent_lost', 'ice_failed', 'dtls_failed', 'dtls_closed'] as const;
export type PeerFailure = (typeof PEER_FAILURES)[number];

export interface PeerTransmit<P> {
  readonly path: P;
  /** STUN, DTLS, SRTP or SRTCP. */
  readonly data: Buffer;
}

/** One authenticated packet of the far end's Opus stream, in arrival order (a media handler's InboundOpusFrame). */
export interface PeerAudio {
  readonly type: 'audio';
  readonly payload: Buffer;
  readonly rtpTimestamp: number;
  readonly sequence: number;
  readonly receivedAt: number;
}

export type PeerEvent<P> =
  /** Media now goes by `path`: ICE selected it (first, rebinding, failover) or the path followed a relay. */
  | { readonly type: 'path'; readonly path: P; readonly previous: P | undefined }
  /**
   * Lite role: the client address of `path` proved it receives what we send (it answered the
   * lite agent's request back, or the DTLS handshake completed over it). Issue #19: an owner
   * may give such an address to no other call.
   */
  | { readonly type: 'confirmed'; readonly path: P }
  | { readonly type: 'connected'; readonly srtpProfile: SrtpProfileName }
  | PeerAudio
  /** One key press of the far end (RFC 4733), once, at its first packet. */
  | { readonly type: 'dtmf'; readonly digit: string; readonly rtpTimestamp: number; readonly receivedAt: number }
  /** One authenticated compound RTCP packet from the far end (its SR/RR, SDES, BYE), after the RTCP session read it. */
  | { readonly type: 'rtcp'; readonly packets: readonly RtcpPacket[] }
  /** Something a data channel or the SCTP association did (an SCTP close ends nothing else). */
  | { readonly type: 'datachannel'; readonly event: DataChannelEvent }
  | { readonly type: 'failed'; readonly reason: PeerFailure; readonly detail: string };

export interface PeerStats {
  /** Authenticated RTP packets of any payload type, and their SRTP bytes. */
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  /** RFC 3550 Appendix A statistics of the far end's Opus stream. */
  readonly audio: { readonly received: number; readonly expected: number; readonly lost: number; readonly jitterMs: number };
  readonly packetsSent: number;
  /** Payload octets sent (the SR's octet count) and SRTP bytes sent. */
  readonly octetsSent: number;
  readonly bytesSent: number;
  /** Queued frames dropped because the queue was full. */
  readonly framesDropped: number;
  /** RTCP round trip of our stream (RFC 3550 §6.4.1), when the far end has reported on it. */
  readonly rttMs: number | undefined;
  readonly remoteFractionLost: number | undefined;
  readonly rtcpSent: number;
  readonly rtcpReceived: number;
  readonly drops: Readonly<Record<PeerDrop, number>>;
  /** Data channels and their association, when negotiated. */
  readonly data: PeerDataStats | undefined;
}

/** AudioPeer.dump(): state for tests and operations. No secrets. */
export interface PeerDump {
  readonly state: PeerState;
  readonly selected: string | undefined;
  readonly dtls: DtlsState | undefined;
  readonly srtpProfile: SrtpProfileName | undefined;
  readonly drops: Readonly<Record<PeerDrop, number>>;
  readonly ice: IceLiteDump | undefined;
}
