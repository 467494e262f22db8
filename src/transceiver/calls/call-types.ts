// Public types of a call, shared by the session (which produces them), the call registry and
// the signaling API (which serves them as JSON from GET /v1/realtime/calls/{id}).
import { reasonCatalog } from '../../core/errors.ts';
import { AGENT_CLOSE_REASONS } from '../handlers/media-handler.ts';
import type { AgentCloseReason, CallRequest, HandlerStats } from '../handlers/media-handler.ts';
import type { OaiEventStats, SidebandHandle, SidebandSink } from './oai-events.ts';

/** created → connecting (first valid ICE check) → connected (SRTP keys) → closed. */
export type CallState = 'created' | 'connecting' | 'connected' | 'closed';

/** Why a call ended. Stable strings: metrics label them and GET returns them. */
export const CLOSE_REASONS = [
  'hangup', // DELETE or POST …/hangup from the client or app server
  'agent_hangup', // the media handler called ctx.hangup()
  'agent_closed', // the agent's connection went away mid-call (the realtime handler's model WebSocket closed)
  'agent_error', // the agent failed mid-call (a protocol error from the model, a handler that gave up)
  'consent_lost', // RFC 7675: no valid check for 30 s
  'setup_timeout', // ICE + DTLS did not complete in time
  'dtls_failed', // handshake failure, bad fingerprint, or an alert
  'dtls_closed', // the client sent close_notify
  'max_duration', // --max-call-seconds
  'server_drain', // the process is shutting down
  'internal_error', // a bug surfaced while handling this call; logged, the process carries on
] as const;
export type CloseReason = (typeof CLOSE_REASONS)[number];
/** The close reasons a media handler may give to ctx.hangup(). */
export { AGENT_CLOSE_REASONS };
export type { AgentCloseReason };
/** Every reason a handler may give is a close reason (checked by the compiler). */
export const AGENT_REASONS_ARE_CLOSE_REASONS: readonly CloseReason[] = AGENT_CLOSE_REASONS;

export interface SessionStats {
  /** SRTP packets accepted from the client (after authentication). */
  readonly packetsReceived: number;
  readonly bytesReceived: number;
  readonly packetsSent: number;
  readonly bytesSent: number;
  /** RFC 3550 §6.4.1 cumulative loss and interarrival jitter of the client's stream. */
  readonly packetsLost: number;
  readonly jitterMs: number;
  /** Round trip from the client's RTCP RR (LSR/DLSR, RFC 3550 §6.4.1), when known. */
  readonly rttMs: number | undefined;
  /** What the client reports about our stream (RR fraction lost, 0..1), when known. */
  readonly remoteFractionLost: number | undefined;
  readonly rtcpSent: number;
  readonly rtcpReceived: number;
  /** Handler frames dropped because the outbound queue was full. */
  readonly framesDropped: number;
  /** Packets dropped: SRTP auth/replay failures, unknown payload types, malformed. */
  readonly packetsDropped: number;
  /** The call's data channels, when the answer took the offer's data section. */
  readonly dataChannels?: DataChannelStats;
  /** OpenAI Realtime events on `oai-events` (calls/oai-events.ts), with data channels. */
  readonly oaiEvents?: OaiEventStats;
  /** The media handler's own counters (MediaHandler.stats: the PCM layer's jitter buffer, media-stream messages and drops), when it has any. */
  readonly handler?: HandlerStats;
}

/** A call's data channels (GET …/calls/{id} `stats.dataChannels`; summed in /metrics). */
export interface DataChannelStats {
  /** The SCTP association's state (closed before DTLS connects and after it ends). */
  readonly sctpState: string;
  /** Channels open or opening now. */
  readonly channels: number;
  readonly channelsOpened: number;
  readonly channelsClosed: number;
  /** User messages and their bytes, by direction (DCEP not counted). */
  readonly messagesIn: number;
  readonly messagesOut: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly sctpRetransmits: number;
  /** SCTP packets/chunks and channel messages dropped (all reasons; /metrics has them by reason). */
  readonly sctpDrops: number;
  /** Handler sends refused because the call's send buffer was full. */
  readonly sendBufferFull: number;
  /** Caller channels closed at once because the call had MAX_CHANNELS_PER_CALL. */
  readonly tooManyChannels: number;
}

/** A call's quality (GET `quality`, the `call closed` log line); computed by calls/call-quality.ts. */
export interface CallQuality {
  /** Answer → SRTP keys (ICE + DTLS), when the call connected. */
  readonly setupMs: number | undefined;
  /** From the client's RTCP receiver reports (RFC 3550 §6.4.1), when one arrived. */
  readonly rttMs: number | undefined;
  /** Interarrival jitter of the client's stream. */
  readonly jitterMs: number;
  /** Client → server: packets lost / expected, 0..1. */
  readonly lossRatio: number;
  /** Server → client, as the client's last receiver report says, 0..1 (when known). */
  readonly remoteLossRatio: number | undefined;
  /** E-model R factor and its MOS (1..4.5); undefined before any audio arrived. */
  readonly rFactor: number | undefined;
  readonly mos: number | undefined;
}

export interface CallInfo {
  readonly id: string;
  readonly state: CallState;
  readonly closeReason: CloseReason | undefined;
  /** The agent's words with its hang-up (ctx.hangup's detail, a media-stream agent's close code and reason), made safe. */
  readonly closeDetail: string | undefined;
  readonly handler: string;
  /** ISO 8601 times on the wall clock. */
  readonly createdAt: string;
  readonly connectedAt: string | undefined;
  readonly closedAt: string | undefined;
  /** The client's address as the relay saw it, and the relay public address it used. */
  readonly client: string | undefined;
  readonly relay: string | undefined;
  readonly stats: SessionStats;
  /** RTT, jitter, loss and the estimated MOS (calls/call-quality.ts). */
  readonly quality: CallQuality;
}

export type Admission = 'open' | 'full' | 'draining';

/**
 * Why the registry refuses an offer, in its own terms (the HTTP layer maps each to an
 * ERR_SIGNALING_… code; the same strings label parley_transceiver_calls_rejected_total{reason}).
 */
export const CALL_REFUSAL_REASONS = reasonCatalog('call_refusal', {
  unknown_handler: '?handler= or --handler names no registered handler',
  bad_sdp: 'the offer does not parse as SDP, or lacks what every offer must carry',
  sdp_not_acceptable: 'a readable offer we cannot answer (no audio, no Opus, wrong transport)',
  agent_unavailable: 'the media handler could not reach its agent (its factory rejected or missed the setup deadline)',
});
export const CALL_REFUSALS = CALL_REFUSAL_REASONS.reasons;
export type CallRefusal = (typeof CALL_REFUSALS)[number];

export type CreateCallResult =
  | { readonly ok: true; readonly id: string; readonly answer: string }
  | { readonly ok: false; readonly refusal: CallRefusal; readonly message: string };

export interface CreateCallOptions {
  readonly handler?: string;
  readonly regionHint?: string;
  /** What the client asked (query, session config) as the handler sees it; none: empty. */
  readonly request?: CallRequest;
  /**
   * Called once the call is accepted (nothing after it refuses), with its id and answer, before
   * the call's session is added to the media endpoint: the caller sends the answer here, so the
   * session's start is not on the answer's path (issue #18). The result carries both as well.
   */
  readonly accepted?: (id: string, answer: string) => void;
}

/** What the signaling API needs from the call registry; tests substitute their own. */
export interface CallService {
  admission(): Admission;
  createCall(offer: string, options: CreateCallOptions): Promise<CreateCallResult>;
  getCall(id: string): CallInfo | undefined;
  /** Ends a call; false when the id is unknown. Ending a closed call is not an error. */
  endCall(id: string, reason: CloseReason): boolean;
  /** A sideband on a call's event stream; undefined when the call is unknown, closed, or has its sidebands. */
  attachSideband?(id: string, sink: SidebandSink): SidebandHandle | undefined;
}
