// A MediaHandlerContext that records what a handler does, and an open caller channel whose
// send() is the test's, for handler and oai-events tests.
import type { HandlerChannel, InboundOpusFrame, MediaHandlerContext, RealtimeEvent } from '../../src/transceiver/handlers/media-handler.ts';

export interface RecordingContext extends MediaHandlerContext {
  readonly sent: Buffer[];
  readonly hangups: Array<string | undefined>;
  /** The detail given with each hang-up, in the same order. */
  readonly hangupDetails: Array<string | undefined>;
  readonly events: RealtimeEvent[];
}

export function recordingContext(callId = 'call-test'): RecordingContext {
  const sent: Buffer[] = [];
  const hangups: Array<string | undefined> = [];
  const hangupDetails: Array<string | undefined> = [];
  const events: RealtimeEvent[] = [];
  return {
    callId,
    sent,
    hangups,
    hangupDetails,
    events,
    request: { query: {}, session: {} },
    sendEvent(event: RealtimeEvent): boolean {
      events.push(event);
      return true;
    },
    send(packet: Buffer): void {
      sent.push(packet);
    },
    hangup(reason?: string, detail?: string): void {
      hangups.push(reason);
      hangupDetails.push(detail);
    },
    queuedFrames: 0,
    get framesSent(): number {
      return sent.length;
    },
    clearAudio(): number {
      return 0;
    },
    mark(done: (played: boolean) => void): void {
      done(true);
    },
    sendDtmf(): boolean {
      return false;
    },
    dataChannels: false,
    openChannel(): never {
      throw new Error('no data channels in this context');
    },
  };
}

export function inbound(payload: Buffer, sequence: number): InboundOpusFrame {
  return { payload, sequence, rtpTimestamp: sequence * 960, receivedAt: sequence * 20 };
}

/** An open channel the caller opened; `send` decides what happens to what the handler sends. */
export function fakeChannel(label: string, send: (data: string | Buffer) => boolean): HandlerChannel {
  return {
    id: 0,
    label,
    protocol: '',
    ordered: true,
    maxRetransmits: undefined,
    maxPacketLifeTime: undefined,
    remote: true,
    readyState: 'open',
    bufferedAmount: 0,
    bufferedAmountLowThreshold: 0,
    onOpen: undefined,
    onMessage: undefined,
    onBufferedAmountLow: undefined,
    onClose: undefined,
    send,
    close: () => {},
  };
}
