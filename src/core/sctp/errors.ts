// The SCTP error catalog (STYLE.md rules 6 and 14): stable codes for how an association ends
// badly or is misused, the snake_case reasons a received packet or chunk is dropped (counted per
// association, never thrown: STYLE.md rule 4), and the RFC 9260 §3.3.10 error cause codes we send
// and recognise.
import { ParleyError, errorCatalog, reasonCatalog, type CodeOf } from '../errors.ts';

/** Stable codes for how an association ends badly or is misused (docs/errors.md). */
export const SCTP_ERRORS = errorCatalog('SCTP', {
  handshakeTimeout: ['ERR_SCTP_HANDSHAKE_TIMEOUT', 'T1-init ran out of retransmissions: the peer never answered INIT or COOKIE-ECHO'],
  peerUnreachable: ['ERR_SCTP_PEER_UNREACHABLE', 'Association.Max.Retrans consecutive T3-rtx, heartbeat or T2 timeouts (RFC 9260 §8.1)'],
  peerAbort: ['ERR_SCTP_PEER_ABORT', 'the peer sent ABORT'],
  protocolViolation: [
    'ERR_SCTP_PROTOCOL_VIOLATION',
    'we aborted: the peer broke the protocol (a message over max-message-size, DATA with no user data)',
  ],
  userAbort: ['ERR_SCTP_USER_ABORT', 'the local user called abort() or close()'],
  // API misuse: thrown to the caller.
  invalidOptions: ['ERR_SCTP_INVALID_OPTIONS', 'bad association options (thrown to the caller)'],
  notConnected: ['ERR_SCTP_NOT_CONNECTED', 'send before the association is established or after shutdown began (thrown to the caller)'],
  invalidStream: ['ERR_SCTP_INVALID_STREAM', 'send on a stream past the negotiated count or being reset (thrown to the caller)'],
  messageTooLarge: ['ERR_SCTP_MESSAGE_TOO_LARGE', "a message larger than the peer's max-message-size (thrown to the caller)"],
  emptyMessage: [
    'ERR_SCTP_EMPTY_MESSAGE',
    'SCTP carries no empty message (RFC 9260 §6.2); DCEP sends one byte with PPID 56/57 (thrown to the caller)',
  ],
});
export const SctpCode = SCTP_ERRORS.codes;
export type SctpCode = CodeOf<typeof SCTP_ERRORS>;

/** Why a received packet or chunk was dropped (RFC 9260 §8.4/§8.5 silent discards, and ours). */
export const SCTP_DROPS = reasonCatalog('sctp', {
  malformed_packet: 'shorter than the common header or a chunk header, or a chunk runs past the end',
  bad_checksum: 'CRC32c mismatch (RFC 9260 §6.8)',
  wrong_port: "source or destination port is not the association's",
  bad_verification_tag: 'verification tag does not match (RFC 9260 §8.5)',
  malformed_chunk: 'a chunk value does not parse (lengths, counts, mandatory parameters)',
  bundled_control: 'INIT, INIT-ACK or SHUTDOWN-COMPLETE bundled with other chunks (RFC 9260 §6.10)',
  invalid_init: 'INIT or INIT-ACK with a zero initiate tag or zero stream counts (RFC 9260 §3.3.2)',
  bad_cookie: 'State Cookie with a bad MAC or version',
  stale_cookie: 'State Cookie older than its lifetime (RFC 9260 §5.1.5)',
  restart_refused: 'an INIT or cookie that would restart an established association (a restarted peer restarts DTLS)',
  unexpected_chunk: 'a chunk not valid in the association state (DATA before established, ...)',
  unknown_chunk: 'a chunk type we do not know (reported with ERROR when its upper bits ask, RFC 9260 §3.2)',
  invalid_stream: 'DATA on a stream at or above the negotiated inbound count (acknowledged, reported, discarded)',
  receive_window_full: 'DATA past the reassembly limit or the shared budget',
  tsn_out_of_window: 'DATA more than 65535 TSNs past the cumulative point',
  invalid_sack: 'SACK acknowledging TSNs we never sent',
  invalid_forward_tsn: 'FORWARD-TSN further ahead than any real sender can be',
  invalid_reconfig: 'RE-CONFIG we cannot parse',
  unknown_heartbeat_ack: 'HEARTBEAT-ACK answering no heartbeat of ours',
  out_of_the_blue: 'a packet for no association, or after it ended (RFC 9260 §8.4)',
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

export class SctpError extends ParleyError<SctpCode> {
  constructor(code: SctpCode, message: string) {
    super(code, message);
  }
}
