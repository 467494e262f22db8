// Streaming 2:1 sample-rate conversion between 48 kHz (Opus, WebRTC) and 24 kHz (the OpenAI
// Realtime protocol's `audio/pcm`), mono PCM16. One half-band FIR (63 taps, Kaiser β = 8, cut
// at a quarter of the 48 kHz rate) serves both ways in polyphase form: decimating computes only
// the kept outputs, interpolating only the odd phase (the even phase of a half-band filter is a
// pure delay). Every other tap is zero and the rest are symmetric, so one output costs 17
// multiplies. Chosen by measurement against libsamplerate (docs/media.md, "Resampling").
// State carries across calls, so a stream cut into 20 ms frames is resampled as one signal; the
// delay is 15.5 samples at 24 kHz (~0.65 ms) each way. It is not a general resampler (only ×2 / ÷2).
import { MediaError, MediaErrorCode } from './errors.ts';

/** Taps of the half-band filter (odd, with (TAPS − 1) / 2 odd so the centre's neighbours are non-zero). */
const TAPS = 63;
const HALF = (TAPS - 1) / 2;
const KAISER_BETA = 8;

/** The non-zero side taps h[HALF ± (2j + 1)], j = 0..PAIRS−1 (the centre tap is ½). */
const PAIRS = (HALF + 1) / 2;
const SIDE = designSideTaps();

function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  for (let k = 1; k < 50; k++) {
    term *= (x / (2 * k)) ** 2;
    sum += term;
    if (term < 1e-12 * sum) break;
  }
  return sum;
}

/** Windowed sinc at a quarter of the input rate: h[n] = ½·sinc(n/2)·kaiser(n), n = offset from the centre. */
function designSideTaps(): Float64Array {
  const taps = new Float64Array(PAIRS);
  const i0 = besselI0(KAISER_BETA);
  for (let j = 0; j < PAIRS; j++) {
    const n = 2 * j + 1;
    const sinc = Math.sin((Math.PI * n) / 2) / ((Math.PI * n) / 2);
    const window = besselI0(KAISER_BETA * Math.sqrt(1 - (n / HALF) ** 2)) / i0;
    taps[j] = 0.5 * sinc * window;
  }
  // Normalise so the DC gain is exactly 1 (centre ½ + both sides ½).
  let sum = 0;
  for (let j = 0; j < PAIRS; j++) sum += 2 * taps[j];
  for (let j = 0; j < PAIRS; j++) taps[j] *= 0.5 / sum;
  return taps;
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

/** 48 kHz → 24 kHz. Feed it any even number of samples; it returns half as many. */
export interface Downsampler {
  process(input: Int16Array): Int16Array;
}

/** 24 kHz → 48 kHz. It returns twice as many samples as it is given. */
export interface Upsampler {
  process(input: Int16Array): Int16Array;
}

export function createDownsampler(): Downsampler {
  // The last TAPS − 1 input samples of the previous call, then this call's input.
  const history = TAPS - 1;
  let work = new Float32Array(history + 960);
  return {
    process(input: Int16Array): Int16Array {
      if (input.length % 2 !== 0)
        throw new MediaError(MediaErrorCode.BadFrameSize, `downsampling takes an even number of samples, got ${input.length}`);
      if (work.length < history + input.length) {
        const grown = new Float32Array(history + input.length);
        grown.set(work.subarray(0, history));
        work = grown;
      }
      work.set(input, history);
      const out = new Int16Array(input.length / 2);
      // Locals, not the closure's `let`: V8 keeps them in registers across the inner loop.
      const w = work;
      const side = SIDE;
      for (let n = 0; n < out.length; n++) {
        // Output n is centred HALF samples before the input's sample 2n + 1, the window's last.
        const c = 2 * n + 1 + HALF;
        let acc = 0.5 * w[c];
        for (let j = 0; j < PAIRS; j++) acc += side[j] * (w[c - 2 * j - 1] + w[c + 2 * j + 1]);
        out[n] = clamp16(acc);
      }
      work.copyWithin(0, input.length, input.length + history);
      return out;
    },
  };
}

export function createUpsampler(): Upsampler {
  // Polyphase: at 48 kHz the zero-stuffed input has every other sample zero, so an output uses
  // either only the centre tap (a delayed input sample) or only the side taps (2·Σ pairs).
  const history = PAIRS * 2 - 1;
  let work = new Float32Array(history + 480);
  return {
    process(input: Int16Array): Int16Array {
      if (work.length < history + input.length) {
        const grown = new Float32Array(history + input.length);
        grown.set(work.subarray(0, history));
        work = grown;
      }
      work.set(input, history);
      const out = new Int16Array(input.length * 2);
      const w = work;
      const side = SIDE;
      for (let m = 0; m < input.length; m++) {
        // The side taps straddle the point between w[c] and w[c + 1].
        const c = m + PAIRS - 1;
        let acc = 0;
        for (let j = 0; j < PAIRS; j++) acc += side[j] * (w[c - j] + w[c + 1 + j]);
        out[2 * m] = w[c];
        out[2 * m + 1] = clamp16(2 * acc);
      }
      work.copyWithin(0, input.length, input.length + history);
      return out;
    },
  };
}
