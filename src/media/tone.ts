// A sine-wave generator that hands out 20 ms PCM frames (960 samples per channel at 48 kHz,
// the Opus frame WebRTC uses) with a continuous phase across frames, so the concatenation is
// one clean tone. It is not a mixer or a signal library: one frequency, one amplitude.
import { MediaError, MediaErrorCode } from './errors.ts';
import { OPUS_FRAME_SAMPLES, OPUS_SAMPLE_RATE } from './opus.ts';

export interface ToneOptions {
  /** Hz; default 440. Must be below the Nyquist frequency (24 kHz at 48 kHz). */
  readonly frequency?: number;
  /** Peak as a fraction of full scale, 0..1; default 0.5 (about −6 dBFS peak). */
  readonly amplitude?: number;
  /** Default 48000. */
  readonly sampleRate?: number;
  /** The same tone on every channel; default 1. */
  readonly channels?: 1 | 2;
  /** Samples per channel in one frame; default 960 (20 ms at 48 kHz). */
  readonly frameSamples?: number;
}

export interface ToneGenerator {
  readonly frequency: number;
  readonly amplitude: number;
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** The next frame: `frameSamples × channels` interleaved samples. */
  nextFrame(): Int16Array;
}

const TWO_PI = 2 * Math.PI;

export function createToneGenerator(options: ToneOptions = {}): ToneGenerator {
  const frequency = options.frequency ?? 440;
  const amplitude = options.amplitude ?? 0.5;
  const sampleRate = options.sampleRate ?? OPUS_SAMPLE_RATE;
  const channels = options.channels ?? 1;
  const frameSamples = options.frameSamples ?? OPUS_FRAME_SAMPLES;
  if (!Number.isInteger(sampleRate) || sampleRate < 1) throw new MediaError(MediaErrorCode.BadOption, `bad sample rate ${sampleRate}`);
  if (!(frequency > 0 && frequency < sampleRate / 2)) {
    throw new MediaError(MediaErrorCode.BadOption, `tone frequency must be in (0, ${sampleRate / 2}) Hz, got ${frequency}`);
  }
  if (!(amplitude >= 0 && amplitude <= 1))
    throw new MediaError(MediaErrorCode.BadOption, `tone amplitude must be in 0..1, got ${amplitude}`);
  if (channels !== 1 && channels !== 2) throw new MediaError(MediaErrorCode.BadOption, `channels must be 1 or 2, got ${channels}`);
  if (!Number.isInteger(frameSamples) || frameSamples < 1) throw new MediaError(MediaErrorCode.BadOption, `bad frame size ${frameSamples}`);
  const peak = amplitude * 32767;
  const step = (TWO_PI * frequency) / sampleRate;
  let phase = 0;
  return {
    frequency,
    amplitude,
    sampleRate,
    channels,
    nextFrame(): Int16Array {
      const out = new Int16Array(frameSamples * channels);
      for (let i = 0; i < frameSamples; i++) {
        const v = Math.round(peak * Math.sin(phase));
        for (let c = 0; c < channels; c++) out[i * channels + c] = v;
        phase += step;
        // Keep the phase small so float error does not grow over a long call.
        if (phase >= TWO_PI) phase -= TWO_PI;
      }
      return out;
    },
  };
}

/** A whole tone of `durationMs` (rounded down to whole samples), interleaved. */
export function generateTone(durationMs: number, options: ToneOptions = {}): Int16Array {
  const sampleRate = options.sampleRate ?? OPUS_SAMPLE_RATE;
  const total = Math.floor((durationMs * sampleRate) / 1000);
  const gen = createToneGenerator({ ...options, frameSamples: Math.max(1, total) });
  return total === 0 ? new Int16Array(0) : gen.nextFrame();
}
