// A MediaHandlerContext that records what a handler does, for handler tests.
import type { InboundOpusFrame, MediaHandlerContext, RealtimeEvent } from '../../src/transceiver/handlers/media-handler.ts';

export interface RecordingContext extends MediaHandlerContext {
  readonly sent: Buffer[];
  readonly hangups: Array<string | undefined>;
  readonly events: RealtimeEvent[];
}

export function recordingContext(callId = 'call-test'): RecordingContext {
  const sent: Buffer[] = [];
  const hangups: Array<string | undefined> = [];
  const events: RealtimeEvent[] = [];
  return {
    callId,
    sent,
    hangups,
    events,
    request: { query: {}, session: {} },
    sendEvent(event: RealtimeEvent): boolean {
      events.push(event);
      return true;
    },
    send(packet: Buffer): void {
      sent.push(packet);
    },
    hangup(reason?: string): void {
      hangups.push(reason);
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
