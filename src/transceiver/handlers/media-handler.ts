// The seam where a voice agent meets a call: a MediaHandler receives the caller's Opus frames
// and may send Opus frames back. The session owns RTP: it stamps sequence numbers and
// timestamps and paces what a handler sends at one frame per 20 ms on the RTP clock, so a
// handler may produce audio in bursts (as a model's output arrives) without breaking playout.
// Handlers are registered by name and chosen per call (`?handler=` or config).

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

export interface MediaHandlerContext {
  /** The call's id, as in `Location: /v1/realtime/calls/{id}`. */
  readonly callId: string;
  /**
   * Queues one 20 ms Opus packet for the caller. The session sends queued frames one per
   * 20 ms; when the queue is full (about one second) the oldest frame is dropped and counted.
   */
  send(opusPacket: Buffer): void;
  /** Ends the call from the agent's side (for example when the conversation is over). */
  hangup(reason?: string): void;
}

export interface MediaHandler {
  /** Called for every Opus packet the caller sends. Must not throw; errors are contained and counted. */
  onAudio(frame: InboundOpusFrame): void;
  /** Called once when the call ends, whatever the reason. */
  close(): void;
}

export type MediaHandlerFactory = (ctx: MediaHandlerContext) => MediaHandler;
