// The public vocabulary of Parley's SCTP association: its options (every limit with its default
// and why), what send() takes, and the events it emits. Not here: the machine (association.ts).
import type { Rng } from '../rng.ts';
import type { SctpBudget } from './budget.ts';
import type { SctpDropReason, SctpFailure } from './errors.ts';
import type { DelayControlOptions } from './delay-control.ts';
import type { RtoOptions } from './rto.ts';

export interface SctpOptions {
  rng: Rng;
  /** Our SCTP port and the peer's (RFC 8841 a=sctp-port; 5000 when SDP says nothing). */
  port?: number;
  remotePort?: number;
  /** Largest SCTP packet we send. Default 1200: what WebRTC stacks use under DTLS over UDP. */
  mtu?: number;
  /** Inbound streams we accept (MIS in our INIT) — the per-association stream state limit. Default 1024. */
  maxInboundStreams?: number;
  /** Outbound streams we ask for (OS in our INIT). Default 1024. */
  outboundStreams?: number;
  /** Largest message we reassemble; a peer that sends more is aborted. Default 256 KiB (RFC 8841 max-message-size). */
  maxMessageSize?: number;
  /**
   * Bytes held for reassembly and ordered delivery, chunk overhead included; also our advertised
   * receive window. Default 1 MiB (four largest messages).
   */
  maxReassemblyBytes?: number;
  /** Bytes queued or unacknowledged on send; send() returns false past it. Default 1 MiB. */
  maxSendBufferBytes?: number;
  /** `send_buffer_low` fires when the association's buffered bytes fall to this or below from above. Default 256 KiB. */
  sendBufferLowBytes?: number;
  /** The ceiling shared with other associations; default: the process-wide `processBudget`. */
  budget?: SctpBudget;
  rto?: Partial<RtoOptions>;
  /** Association.Max.Retrans (RFC 9260 §16): consecutive timeouts before the peer is unreachable. Default 10. */
  maxRetransmissions?: number;
  /** Max.Init.Retransmits (RFC 9260 §16). Default 8. */
  maxInitRetransmissions?: number;
  /** HB.interval (RFC 9260 §8.3). Default 30 s. */
  heartbeatIntervalMs?: number;
  /** Valid.Cookie.Life (RFC 9260 §16). Default 60 s. */
  cookieLifetimeMs?: number;
  /** Delayed SACK (RFC 9260 §6.2): at most this long, or every second packet. Default 200 ms. */
  delayedAckMs?: number;
  /**
   * In-order SACKs at least this far apart (ms; each then covers more packets, up to 16): fewer
   * small datagrams into a fast sender's socket. Gaps and duplicates are still SACKed at once.
   * Default 2; 0: every second packet (RFC 9260 §6.2).
   */
  minSackIntervalMs?: number;
  /**
   * Delay-based control on top of loss-based congestion control (delay-control.ts): the window
   * backs off when queueing delay over the base RTT passes targetMs or the queue passes
   * maxQueueBytes, and past minQueueMs. Default { targetMs: 20, maxQueueBytes: 48 KiB, minQueueMs: 3 };
   * false: loss-based only.
   */
  delayControl?: Partial<DelayControlOptions> | false;
  /** HMAC key for state cookies; default 32 bytes from rng. */
  cookieSecret?: Buffer;
  /** Told of every packet or chunk dropped (the `drops` counters as they happen), for process metrics. */
  onDrop?: (reason: SctpDropReason) => void;
}

export interface SendOptions {
  /** Unordered delivery (U bit, RFC 9260 §6.6). */
  unordered?: boolean;
  /** Partial reliability by count (RFC 3758, WebRTC maxRetransmits): retransmit at most this often. */
  maxRetransmits?: number;
  /** Partial reliability by time (RFC 3758 timed reliability, WebRTC maxPacketLifeTime), in ms. */
  maxLifetimeMs?: number;
}

export type SctpState =
  | 'closed'
  | 'cookie_wait'
  | 'cookie_echoed'
  | 'established'
  | 'shutdown_pending'
  | 'shutdown_sent'
  | 'shutdown_received'
  | 'shutdown_ack_sent';

export type SctpEvent =
  | { type: 'connected' }
  | { type: 'message'; streamId: number; ppid: number; data: Buffer; unordered: boolean }
  /** The peer reset its outgoing streams: our inbound SSNs for them start again at 0 (RFC 6525 §5.2.2). */
  | { type: 'stream_reset'; streamIds: number[] }
  /** Our outgoing reset request was answered (ok: performed; otherwise denied). */
  | { type: 'stream_reset_done'; streamIds: number[]; ok: boolean }
  /** A stream's buffered bytes fell to its threshold (setBufferedAmountLowThreshold) or below. */
  | { type: 'buffered_low'; streamId: number }
  /** The association's buffered bytes fell to sendBufferLowBytes or below. */
  | { type: 'send_buffer_low' }
  /** The association ended: by SHUTDOWN (no error) or abort/failure (error). */
  | { type: 'closed'; error?: SctpFailure };

/** Counters for metrics and tests (STYLE.md rule 4). */
export interface SctpStats {
  packetsIn: number;
  packetsOut: number;
  dataChunksIn: number;
  dataChunksOut: number;
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  retransmits: number;
  fastRetransmits: number;
  t3Expiries: number;
  /** Window cuts by delay-based control (delay-control.ts): a queue building before any loss. */
  delayCuts: number;
  duplicateTsnsIn: number;
  abandonedMessages: number;
  forwardTsnsOut: number;
  sacksOut: number;
}

/** A snapshot of what the association holds (tests count it; operations print it). */
export interface SctpDump {
  state: SctpState;
  streams: number;
  reassemblyBytes: number;
  bufferedBytes: number;
  queuedMessages: number;
  outstandingChunks: number;
  cwnd: number;
  ssthresh: number;
  rto: number;
  srtt: number | undefined;
  peerRwnd: number;
}
