// The seam where a voice agent meets a call: a MediaHandler receives the caller's Opus frames
// and may send Opus frames back. The session owns RTP: it stamps sequence numbers and
// timestamps and paces what a handler sends at one frame per 20 ms on the RTP clock, so a
// handler may produce audio in bursts (as a model's output arrives) without breaking playout.
// Handlers are registered by name and chosen per call (`?handler=` or config).
// Data channels (docs/media.md): the caller's channels reach the handler by onChannel(), and
// the handler may open its own with ctx.openChannel(); a HandlerChannel sends text or bytes and
// says when its buffer drained. Every callback runs inside the call's drive, contained like onAudio.
// OpenAI Realtime events (calls/oai-events.ts): the caller's `oai-events` channel is Parley's, not
// the handler's; well-formed client events reach onEvent() and ctx.sendEvent() answers.
import type { ChannelInit } from '../../core/datachannel/index.ts';

export type { ChannelInit };

/**
 * The handler API's version (docs/agents.md, "Handler API versions"): 2 added onDtmf, the PCM
 * layer (handlers/pcm.ts: PCM at 8/16/24/48 kHz, jitter buffer, write/flush/marks) and handler
 * modules; 3 added ctx.sendDtmf, hangup's detail, MediaHandler.stats, openChannel inside the
 * factory and, for PCM handlers, lost frames rebuilt from in-band FEC (PcmFrameInfo.fec). Each version only adds: a module may check `>=` before registering.
 */
export const HANDLER_API_VERSION = 3;

/** The close reasons a handler may give ctx.hangup() (each is a call close reason, calls/call-types.ts). */
export const AGENT_CLOSE_REASONS = ['agent_hangup', 'agent_closed', 'agent_error'] as const;
export type AgentCloseReason = (typeof AGENT_CLOSE_REASONS)[number];

/** One Opus packet from the caller, as received (after SRTP, in arrival order). */
export interface InboundOpusFrame {
  /** The Opus packet (RFC 7587): one frame of 20 ms for WebRTC voice. */
  readonly payload: Buffer;
  /** RTP timestamp (48 kHz clock, RFC 7587 §4.1). */
  readonly rtpTimestamp: number;
  /** RTP sequence number. */
  readonly sequence: number;
  /** Arrival time in ms on the transceiver's monotonic clock. */
  readonly receivedAt: number;
}

/** One RFC 4733 telephone-event from the caller (a key press), reported once when it starts. */
export interface DtmfEvent {
  /** '0'-'9', '*', '#', 'A'-'D' (RFC 4733 §3.2 events 0-15). */
  readonly digit: string;
  /** The event's RTP timestamp (48 kHz clock): equal for every packet of one key press. */
  readonly rtpTimestamp: number;
  /** Arrival time in ms on the transceiver's monotonic clock. */
  readonly receivedAt: number;
}

/** How ctx.sendDtmf plays each key press. */
export interface DtmfOptions {
  /** Tone length of each press in ms (default 100; 40..1000, rounded to 20 ms). */
  readonly durationMs?: number;
}

/** One OpenAI Realtime event (client or server): a JSON object with a string `type`. */
export type RealtimeEvent = { readonly type: string; readonly [key: string]: unknown };

/** What the client's request said about the call (never trusted for routing). */
export interface CallRequest {
  /** The POST's query parameters except `handler`, as strings (bounded: ≤ 32 keys, ≤ 1 KiB each). */
  readonly query: Readonly<Record<string, string>>;
  /**
   * The Realtime session config as the client asked: the ek_ client secret's `session`, then
   * the multipart `session` part on top (shallow merge), then every `session.update` the client
   * sent on `oai-events` (shallow merge). A JSON object; {} when none.
   */
  readonly session: Readonly<Record<string, unknown>>;
}

export interface MediaHandlerContext {
  /** The call's id, as in `Location: /v1/realtime/calls/{id}`. */
  readonly callId: string;
  /** What the client asked; `session` is live (updated by session.update). */
  readonly request: CallRequest;
  /**
   * Sends one server event (JSON object with a string `type`) to the caller on `oai-events`.
   * Before the channel opens events are queued (bounded, counted when dropped); false when
   * dropped (no data channel in the offer, channel closed, or its buffer is full).
   */
  sendEvent(event: RealtimeEvent): boolean;
  /**
   * Queues one 20 ms Opus packet for the caller. The session sends queued frames one per
   * 20 ms; the queue holds 60 s (3000 frames, a ring), so a model that streams faster than real
   * time loses nothing; past that the oldest frame is dropped and counted.
   */
  send(opusPacket: Buffer): void;
  /** Frames queued for the caller and not yet sent. */
  readonly queuedFrames: number;
  /** Frames sent to the caller since the call started (each is 20 ms of played audio). */
  readonly framesSent: number;
  /** Drops every queued frame (barge-in); returns how many. Pending marks resolve with played=false. */
  clearAudio(): number;
  /**
   * Runs `done(true)` once every frame queued before this call has been sent, or `done(false)`
   * when clearAudio() drops them or the call ends first. (Twilio marks, Realtime `stopped`.)
   */
  mark(done: (played: boolean) => void): void;
  /**
   * Ends the call from the agent's side; reason is one of the CLOSE_REASONS an agent may give
   * ('agent_hangup' default, 'agent_closed' when the agent's connection went away, 'agent_error').
   * `detail` is free text for people (≤ 200 characters, control characters removed:
   * calls/close-detail.ts): GET's `closeDetail`, the `call closed` log line and the demo page show it.
   */
  hangup(reason?: AgentCloseReason, detail?: string): void;
  /**
   * Sends key presses to the caller as RFC 4733 telephone-events ('0'-'9', '*', '#', 'A'-'D'),
   * one after the other in the next 20 ms slots, each `durationMs` long (default 100, 40..1000)
   * with a 60 ms pause; they replace the caller's audio while they play. False when the offer had
   * no telephone-event/48000, the call ended, or 64 presses are already waiting. Throws
   * ERR_HANDLER_BAD_OPTION for another character or a duration out of range.
   */
  sendDtmf(digits: string, options?: DtmfOptions): boolean;
  /** Whether the offer carried a data channel and the answer took it (openChannel works). */
  readonly dataChannels: boolean;
  /**
   * Opens a channel toward the caller (DCEP, RFC 8832); it is `connecting` until SCTP is up,
   * then onOpen runs. Throws ERR_DATACHANNEL_INVALID_CHANNEL without data channels, past the
   * per-call channel limit, or for invalid options.
   */
  openChannel(init: ChannelInit): HandlerChannel;
}

export type HandlerChannelState = 'connecting' | 'open' | 'closing' | 'closed';

/** One data channel as a handler sees it (the W3C RTCDataChannel's shape, callbacks in camelCase). */
export interface HandlerChannel {
  readonly id: number;
  readonly label: string;
  readonly protocol: string;
  readonly ordered: boolean;
  readonly maxRetransmits: number | undefined;
  readonly maxPacketLifeTime: number | undefined;
  /** Opened by the caller (true) or by the handler. */
  readonly remote: boolean;
  readonly readyState: HandlerChannelState;
  /** Bytes queued for this channel and not yet acknowledged by the caller. */
  readonly bufferedAmount: number;
  /** onBufferedAmountLow runs when bufferedAmount falls to this or below (default 0). */
  bufferedAmountLowThreshold: number;
  /**
   * Queues one message (a string goes as text, a Buffer as binary). False when it was not queued:
   * the channel is not open, or the call's send buffer is full (wait for onBufferedAmountLow).
   * Throws ERR_SCTP_MESSAGE_TOO_LARGE past the caller's a=max-message-size.
   */
  send(data: string | Buffer): boolean;
  /** Closes the channel (stream reset, RFC 8831 §6.7); onClose runs once both directions are. Idempotent. */
  close(): void;
  onOpen: (() => void) | undefined;
  onMessage: ((data: string | Buffer) => void) | undefined;
  onBufferedAmountLow: (() => void) | undefined;
  onClose: (() => void) | undefined;
}

/**
 * A handler's own counters for GET's `stats.handler` (JSON: numbers, or one level of numbers by
 * reason). Process-wide metrics are the handler's to count (transceiver-metrics.ts).
 */
export type HandlerStats = Readonly<Record<string, number | Readonly<Record<string, number>>>>;

export interface MediaHandler {
  /** Called for every Opus packet the caller sends. Must not throw; errors are contained and counted. */
  onAudio(frame: InboundOpusFrame): void;
  /** This call's counters, read by GET while the call runs and once when it ends (contained like the rest). */
  stats?(): HandlerStats;
  /** Called once when the call ends, whatever the reason. */
  close(): void;
  /** Each key the caller pressed (RFC 4733 telephone-event, negotiated when offered), in order. */
  onDtmf?(event: DtmfEvent): void;
  /** Called for each channel the caller opens (already open), except `oai-events`; set its callbacks here. */
  onChannel?(channel: HandlerChannel): void;
  /**
   * Client events from `oai-events`: every well-formed event (a JSON object with a string `type`,
   * ≤ the channel's max message size), including `session.update` after Parley merged it into
   * request.session and answered `session.updated` itself. Malformed ones never reach the handler:
   * Parley answers them with an `error` event.
   */
  onEvent?(event: RealtimeEvent): void;
}

/**
 * A factory may be async (dial the agent while the POST is handled): if it rejects, or takes
 * longer than the handler setup deadline (default 5 s), the POST is refused 502 (refusal
 * `agent_unavailable`, ERR_SIGNALING_AGENT_UNAVAILABLE with the reason) — no 201 for a dead call.
 */
export type MediaHandlerFactory = (ctx: MediaHandlerContext) => MediaHandler | Promise<MediaHandler>;
