// The SCTP error catalog (STYLE.md rules 6 and 14): stable codes for how an association ends
// badly or is misused, the snake_case reasons a received packet or chunk is dropped (counted per
// association, never thrown: STYLE.md rule 4), and the RFC 9260 §3.3.10 error cause codes we send
// and recognise.
import { ParleyError, errorCatalog, reasonCatalog, type CodeOf } from '../errors.ts';

export const SCTP_ERRORS = errorCatalog('SCTP', {
  handshakeTimeout: ['ERR_SCTP_HANDSHAKE_TIMEOUT', 'T1-init ran out of retransmissions: the peer never answered INIT or COOKIE-ECHO'],
  peerUnreachable: ['ERR_SCTP_PEER_UNREACHABLE', 'Association.Max.Retrans consecutive T3-rtx / heartbeat / T2 expiries (RFC 9260 §8.1)'],
  peerAbort: ['ERR_SCTP_PEER_ABORT', 'the peer sent ABORT'],
  protocolViolation: ['ERR_SCTP_PROTOCOL_VIOLATION', 'we aborted because the peer broke the protocol (message over max size, no user data...)'],
  userAbort: ['ERR_SCTP_USER_ABORT', 'the local user called abort()'],
  invalidOptions: ['ERR_SCTP_INVALID_OPTIONS', 'an association was built with options out of range'],
  notConnected: ['ERR_SCTP_NOT_CONNECTED', 'send or reset before the association is established, or after it ended'],
  invalidStream: ['ERR_SCTP_INVALID_STREAM', 'a stream id outside the negotiated outbound streams'],
  messageTooLarge: ['ERR_SCTP_MESSAGE_TOO_LARGE', "a message over the maximum message size (ours, or the peer's a=max-message-size)"],
  emptyMessage: ['ERR_SCTP_EMPTY_MESSAGE', 'SCTP carries no empty user message (RFC 9260 §6.2); DCEP sends one byte with PPID 56/57'],
});
export const SctpCode = SCTP_ERRORS.codes;
export type SctpCode = CodeOf<typeof SCTP_ERRORS>;

/** Why a received packet or chunk was dropped (RFC 9260 §8.4/§8.5 silent discards and ours). */
export const SCTP_DROPS = reasonCatalog('sctp', {
  malformed_packet: 'shorter than the 12-byte common header or a chunk header, or a chunk runs past the end',
  bad_checksum: 'the CRC32c does not match (RFC 9260 §6.8)',
  wrong_port: "source or destination port is not the association's (RFC 8261 §5: both 5000 by default)",
  bad_verification_tag: 'verification tag does not match (RFC 9260 §8.5)',
  malformed_chunk: "A chunk's value does not parse (lengths, counts, mandatory parameters)",
  bundled_control: 'INIT, INIT-ACK or SHUTDOWN-COMPLETE bundled with other chunks (RFC 9260 §6.10)',
  invalid_init: 'INIT with a zero initiate tag or zero stream counts (RFC 9260 §3.3.2)',
  bad_cookie: 'state cookie with a bad signature or version',
  stale_cookie: 'state cookie older than its lifetime (RFC 9260 §5.1.5 step 3)',
  restart_refused: 'A cookie or INIT that would restart an established association (unsupported: DTLS restarts)',
  unexpected_chunk: "A chunk that is not valid in the association's state (DATA before established, ...)",
  unknown_chunk: 'A chunk type we do not know whose upper bits say "stop processing" (RFC 9260 §3.2)',
  invalid_stream: 'DATA on a stream at or above the negotiated inbound stream count',
  receive_window_full: 'DATA that would take reassembly past its per-association limit or the process budget',
  tsn_out_of_window: "DATA with a TSN too far ahead of the cumulative ack point to be a real sender's",
  invalid_sack: 'SACK whose cumulative TSN acks data we never sent, or is behind our ack point',
  invalid_forward_tsn: 'FORWARD-TSN that moves past data we never got acked by a real sender (> window)',
  invalid_reconfig: 'RE-CONFIG parameter we cannot parse or do not support',
  unknown_heartbeat_ack: 'HEARTBEAT-ACK that does not answer a heartbeat we sent',
  out_of_the_blue: 'A packet for an association that no longer exists (out of the blue, RFC 9260 §8.4)',
});
export type SctpDropReason = (typeof SCTP_DROPS.reasons)[number];

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

export class SctpError extends ParleyError<SctpCode> {}
