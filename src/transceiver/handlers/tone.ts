// A handler that plays a continuous sine tone to the caller (default 440 Hz) and ignores what
// the caller says: a known signal for end-to-end checks (the recorded audio must hold it) and
// an example of a handler that produces audio. It encodes one 20 ms Opus frame per request.
// Timing comes from the session, never from a timer here: when the session calls pull() (the
// proposal in pull.ts) the tone follows the session's 20 ms clock; until then each inbound
// frame triggers one outbound frame, which is also real time because the caller sends 50/s.
import { createOpusEncoder } from '../../media/opus.ts';
import { createToneGenerator } from '../../media/tone.ts';
import type { InboundOpusFrame, MediaHandlerContext } from './media-handler.ts';
import { HandlerError, HandlerErrorCode } from './errors.ts';
import type { PullMediaHandler } from './pull.ts';

export interface ToneHandlerOptions {
  /** Hz, default 440; 20..20000. */
  readonly frequency?: number;
  /** Peak as a fraction of full scale, default 0.3. */
  readonly amplitude?: number;
}

export function createToneHandlerFactory(options: ToneHandlerOptions = {}): (ctx: MediaHandlerContext) => PullMediaHandler {
  const frequency = options.frequency ?? 440;
  const amplitude = options.amplitude ?? 0.3;
  if (!(frequency >= 20 && frequency <= 20000)) {
    throw new HandlerError(HandlerErrorCode.BadOption, `tone frequency must be in 20..20000 Hz, got ${frequency}`);
  }
  if (!(amplitude > 0 && amplitude <= 1)) {
    throw new HandlerError(HandlerErrorCode.BadOption, `tone amplitude must be in (0, 1], got ${amplitude}`);
  }
  return (ctx: MediaHandlerContext): PullMediaHandler => {
    const tone = createToneGenerator({ frequency, amplitude });
    const encoder = createOpusEncoder({ channels: 1, application: 'audio' });
    let closed = false;
    let sessionPulls = false;
    const next = (): Buffer | undefined => (closed ? undefined : encoder.encode(tone.nextFrame()));
    return {
      onAudio(_frame: InboundOpusFrame): void {
        if (sessionPulls) return;
        const packet = next();
        if (packet !== undefined) ctx.send(packet);
      },
      pull(): Buffer | undefined {
        sessionPulls = true;
        return next();
      },
      close(): void {
        if (closed) return;
        closed = true;
        encoder.close();
      },
    };
  };
}

export const createToneHandler = createToneHandlerFactory();
