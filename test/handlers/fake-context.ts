// A MediaHandlerContext that records what a handler does, for handler tests.
import type { InboundOpusFrame, MediaHandlerContext } from '../../src/transceiver/handlers/media-handler.ts';

export interface RecordingContext extends MediaHandlerContext {
  readonly sent: Buffer[];
  readonly hangups: Array<string | undefined>;
}

export function recordingContext(callId = 'call-test'): RecordingContext {
  const sent: Buffer[] = [];
  const hangups: Array<string | undefined> = [];
  return {
    callId,
    sent,
    hangups,
    send(packet: Buffer): void {
      sent.push(packet);
    },
    hangup(reason?: string): void {
      hangups.push(reason);
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
    dataChannels: false,
    openChannel(): never {
      throw new Error('no data channels in this context');
    },
  };
}

export function inbound(payload: Buffer, sequence: number): InboundOpusFrame {
  return { payload, sequence, rtpTimestamp: sequence * 960, receivedAt: sequence * 20 };
}
