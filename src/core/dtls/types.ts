// The public types of the DTLS endpoint, and the narrow interface between the endpoint (record
// layer, flights, events) and the client or server handshake logic that runs inside it.
import type { Rng } from '../rng.ts';
import type { X25519 } from './ecdhe.ts';
import type { Tls12Prf } from './prf.ts';
import type { DtlsCertificate, PeerKeys } from './certificate.ts';
import type { DtlsDropReason, DtlsFailure } from './errors.ts';
import type { SrtpProfileName } from './extensions.ts';
import type { FlightEntry } from './flight.ts';
import type { HandshakeMessage } from './reassembly.ts';
import type { RecordAeadFactory } from './record.ts';
import type { Signer } from './signature.ts';
import type { AuthKind, CipherSuite } from './suites.ts';

export type { DtlsCertificate, DtlsFailure, SrtpProfileName };

export interface DtlsOptions {
  role: 'client' | 'server';
  /** Our certificate: ECDSA P-256 (generateCertificate()) or RSA 2048..4096 (generateCertificate(rng, 'rsa')). */
  certificate: DtlsCertificate;
  /** The peer's certificate fingerprint from SDP, 'AB:CD:…': SHA-256, or SHA-1/384/512 (told apart by length). */
  remoteFingerprint: string;
  rng: Rng;
  /** In preference order (the server picks by its own order). Default: AES-CM-SHA1-80, AEAD-GCM. */
  srtpProfiles?: SrtpProfileName[];
  /**
   * The cipher suites we offer (client) or accept (server), by name; the order is always ours
   * (suites.ts). Default: all of them. For tests and operators that must exclude one.
   */
  cipherSuites?: string[];
  /** Largest datagram we send, default 1200. */
  mtu?: number;
  /**
   * Server only: answer a ClientHello that carries no valid cookie with a HelloVerifyRequest
   * first (RFC 6347 §4.2.1). A function is asked at each such ClientHello, so the owner can skip
   * the round trip when it knows the client receives at its address (ICE proved it). Default false.
   */
  cookie?: boolean | (() => boolean);
  /** Told of every record dropped (the `drops` counters as they happen), for process metrics. */
  onDrop?: (reason: DtlsDropReason) => void;
  /** The X25519 implementation (./ecdhe.ts). Default: node:crypto's. */
  x25519?: X25519;
  /** The TLS 1.2 PRF (./prf.ts): the native one of the transceiver. Default: node:crypto's HMACs. */
  prf?: Tls12Prf;
  /** Reads the peer certificate's key (./certificate.ts): the native one of the transceiver. Default: node:crypto's X509Certificate. */
  peerKeys?: PeerKeys;
  /** Signs with our certificate's key (./signature.ts): the native one of the transceiver. Default: node:crypto's sign. */
  signer?: Signer;
  /** The record AEAD (the native addon); default node:crypto. */
  recordAead?: RecordAeadFactory;
}

/**
 * The handshake's and records' crypto an owner may swap in (the transceiver's native addon),
 * carried as one bundle from the transceiver down to each peer's DtlsEndpoint; each part
 * defaults to node:crypto's.
 */
export type DtlsCrypto = Pick<DtlsOptions, 'x25519' | 'prf' | 'peerKeys' | 'signer' | 'recordAead'>;

export type DtlsEvent =
  | { type: 'connected'; srtpProfile: SrtpProfileName; keyingMaterial: Buffer; cipherSuite: string }
  | { type: 'data'; data: Buffer }
  | { type: 'failed'; reason: DtlsFailure }
  | { type: 'closed' };

export type DtlsState = 'new' | 'handshaking' | 'connected' | 'failed' | 'closed';

/** The result of a completed handshake that the endpoint needs for records and export. */
export interface SessionSecrets {
  suite: CipherSuite;
  masterSecret: Buffer;
  clientRandom: Buffer;
  serverRandom: Buffer;
}

/** What the handshake logic may ask of the endpoint. */
export interface HandshakeHost {
  readonly certificate: DtlsCertificate;
  /** The kind of our certificate's key. */
  readonly certificateKind: AuthKind;
  readonly remoteFingerprint: Buffer;
  readonly rng: Rng;
  readonly x25519: X25519;
  readonly prf: Tls12Prf;
  readonly peerKeys: PeerKeys;
  readonly signer: Signer;
  readonly srtpProfiles: readonly number[];
  /** Whether a ClientHello without a valid cookie gets a HelloVerifyRequest (asked per ClientHello). */
  readonly cookie: () => boolean;
  /** The suites we offer or accept, in our preference order. */
  readonly cipherSuites: readonly CipherSuite[];
  /** Allocates the next outgoing message_seq. */
  nextMessageSeq(): number;
  /** Sets the next outgoing message_seq (a server mirrors the ClientHello's, RFC 6347 §4.2.2). */
  setMessageSeq(seq: number): void;
  /** Sends a new flight; with `awaitReply` it is retransmitted on timeout until the next one. */
  sendFlight(entries: FlightEntry[], now: number, awaitReply: boolean): void;
  /**
   * Sends a HelloVerifyRequest without remembering it, in a record whose sequence number is the
   * ClientHello's (RFC 6347 §4.2.1).
   */
  sendHelloVerifyRequest(entry: FlightEntry, recordSeq: number): void;
  /** Installs epoch 1 record protection in both directions. */
  installKeys(secrets: SessionSecrets): void;
  /** The handshake is complete and verified. */
  connected(profile: SrtpProfileName, secrets: SessionSecrets): void;
}

export interface HandshakeRole {
  /** True while a server still waits for a ClientHello it accepts (any message_seq restarts). */
  readonly awaitingFirstHello: boolean;
  start(now: number): void;
  /** Idle work while the first flight waits (DtlsEndpoint.prepare): the client makes its X25519 key share ahead. */
  prepareAhead?(): void;
  /** One complete handshake message, in message_seq order. Throws DtlsError on failure. */
  onMessage(msg: HandshakeMessage, now: number): void;
}
