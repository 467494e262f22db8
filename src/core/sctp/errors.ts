// The SCTP error catalog (STYLE.md rules 6 and 14): stable codes for how an association ends
// badly or is misused, the snake_case reasons a received packet or chunk is dropped (counted per
// association, never thrown: STYLE.md rule 4), and the RFC 9260 §3.3.10 error cause codes we send
// and recognise.
import { ParleyError } from '../errors.ts';

export const SctpCode = {
  /** T1-init ran out of retransmissions: the peer never answered INIT or COOKIE-ECHO. */
  handshakeTimeout: 'ERR_SCTP_HANDSHAKE_TIMEOUT',
  /** Association.Max.Retrans consecutive T3-rtx / heartbeat / T2 expiries (RFC 9260 §8.1). */
  peerUnreachable: 'ERR_SCTP_PEER_UNREACHABLE',
  /** The peer sent ABORT. */
  peerAbort: 'ERR_SCTP_PEER_ABORT',
  /** We aborted because the peer broke the protocol (message over max size, no user data...). */
  protocolViolation: 'ERR_SCTP_PROTOCOL_VIOLATION',
  /** The local user called abort(). */
  userAbort: 'ERR_SCTP_USER_ABORT',
  // API misuse: thrown to the caller.
  invalidOptions: 'ERR_SCTP_INVALID_OPTIONS',
  notConnected: 'ERR_SCTP_NOT_CONNECTED',
  invalidStream: 'ERR_SCTP_INVALID_STREAM',
  messageTooLarge: 'ERR_SCTP_MESSAGE_TOO_LARGE',
  /** SCTP carries no empty user message (RFC 9260 §6.2); DCEP sends one byte with PPID 56/57. */
  emptyMessage: 'ERR_SCTP_EMPTY_MESSAGE',
} as const;
export type SctpCode = (typeof SctpCode)[keyof typeof SctpCode];

/** Why a received packet or chunk was dropped (RFC 9260 §8.4/§8.5 silent discards and ours). */
export const SctpDrop = {
  /** Shorter than the 12-byte common header or a chunk header, or a chunk runs past the end. */
  malformedPacket: 'malformed_packet',
  badChecksum: 'bad_checksum',
  /** Source or destination port is not the association's (RFC 8261 §5: both 5000 by default). */
  wrongPort: 'wrong_port',
  /** Verification tag does not match (RFC 9260 §8.5). */
  badVerificationTag: 'bad_verification_tag',
  /** A chunk's value does not parse (lengths, counts, mandatory parameters). */
  malformedChunk: 'malformed_chunk',
  /** INIT, INIT-ACK or SHUTDOWN-COMPLETE bundled with other chunks (RFC 9260 §6.10). */
  bundledControl: 'bundled_control',
  /** INIT with a zero initiate tag or zero stream counts (RFC 9260 §3.3.2). */
  invalidInit: 'invalid_init',
  /** State cookie with a bad signature or version. */
  badCookie: 'bad_cookie',
  /** State cookie older than its lifetime (RFC 9260 §5.1.5 step 3). */
  staleCookie: 'stale_cookie',
  /** A cookie or INIT that would restart an established association (unsupported: DTLS restarts). */
  restartRefused: 'restart_refused',
  /** A chunk that is not valid in the association's state (DATA before established, ...). */
  unexpectedChunk: 'unexpected_chunk',
  /** A chunk type we do not know whose upper bits say "stop processing" (RFC 9260 §3.2). */
  unknownChunk: 'unknown_chunk',
  /** DATA on a stream at or above the negotiated inbound stream count. */
  invalidStream: 'invalid_stream',
  /** DATA that would take reassembly past its per-association limit or the process budget. */
  receiveWindowFull: 'receive_window_full',
  /** DATA with a TSN too far ahead of the cumulative ack point to be a real sender's. */
  tsnOutOfWindow: 'tsn_out_of_window',
  /** SACK whose cumulative TSN acks data we never sent, or is behind our ack point. */
  invalidSack: 'invalid_sack',
  /** FORWARD-TSN that moves past data we never got acked by a real sender (> window). */
  invalidForwardTsn: 'invalid_forward_tsn',
  /** RE-CONFIG parameter we cannot parse or do not support. */
  invalidReconfig: 'invalid_reconfig',
  /** HEARTBEAT-ACK that does not answer a heartbeat we sent. */
  unknownHeartbeatAck: 'unknown_heartbeat_ack',
  /** A packet for an association that no longer exists (out of the blue, RFC 9260 §8.4). */
  outOfTheBlue: 'out_of_the_blue',
} as const;
export type SctpDropReason = (typeof SctpDrop)[keyof typeof SctpDrop];

/** RFC 9260 §3.3.10 error cause codes (RFC 6525 adds none we use). */
export const ErrorCause = {
  invalidStreamIdentifier: 1,
  missingMandatoryParameter: 2,
  staleCookie: 3,
  outOfResource: 4,
  unrecognizedChunkType: 6,
  invalidMandatoryParameter: 7,
  unrecognizedParameters: 8,
  noUserData: 9,
  cookieWhileShuttingDown: 10,
  userInitiatedAbort: 12,
  protocolViolation: 13,
} as const;

/** What the `closed` event carries when the association did not end by SHUTDOWN. */
export interface SctpFailure {
  code: string;
  message: string;
}

export class SctpError extends ParleyError {
  constructor(code: SctpCode, message: string) {
    super(code, message);
  }
}
