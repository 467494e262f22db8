// One resampler for every rate a handler may use: 48 kHz (Opus) ⇄ 8, 16 or 24 kHz mono PCM16.
// 48 ⇄ 24 kHz is the half-band FIR of resample.ts; 48 ⇄ 16 and 48 ⇄ 8 kHz (factors 3 and 6)
// use one Kaiser-windowed sinc lowpass (β = 7, 24·L + 1 taps, cut at the lower rate's Nyquist
// frequency) in polyphase form: decimating computes only the kept outputs (N/L·L = N multiplies
// each), interpolating only the non-zero products (N/L per output). State carries across calls,
// so a stream cut into 20 ms frames is resampled as one signal. Same rate: a copy-free identity.
// Measured in docs/media.md ("Resampling"); tests: test/media/rate.test.ts.
import { MediaError, MediaErrorCode } from './errors.ts';
import { createDownsampler, createUpsampler } from './resample.ts';

export const PCM_RATES = [8000, 16000, 24000, 48000] as const;
export type PcmRate = (typeof PCM_RATES)[number];

export function isPcmRate(rate: number): rate is PcmRate {
  return (PCM_RATES as readonly number[]).includes(rate);
}

/** Converts a stream of mono PCM16 from one rate to another; input lengths must be multiples of the ratio. */
export interface Resampler {
  readonly from: PcmRate;
  readonly to: PcmRate;
  process(input: Int16Array): Int16Array;
}

const KAISER_BETA = 7;

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

/** Lowpass taps at cutoff 1/(2L) of the high rate, DC gain 1. */
function designLowpass(factor: number): Float64Array {
  const taps = 24 * factor + 1;
  const half = (taps - 1) / 2;
  const h = new Float64Array(taps);
  const fc = 0.5 / factor;
  const i0 = besselI0(KAISER_BETA);
  let sum = 0;
  for (let n = 0; n < taps; n++) {
    const t = n - half;
    const sinc = t === 0 ? 2 * fc : Math.sin(2 * Math.PI * fc * t) / (Math.PI * t);
    h[n] = sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - (t / half) ** 2)) / i0);
    sum += h[n];
  }
  for (let n = 0; n < taps; n++) h[n] /= sum;
  return h;
}

const FILTERS = new Map<number, Float64Array>();
function lowpass(factor: number): Float64Array {
  let h = FILTERS.get(factor);
  if (h === undefined) FILTERS.set(factor, (h = designLowpass(factor)));
  return h;
}

function clamp16(v: number): number {
  const r = Math.round(v);
  return r > 32767 ? 32767 : r < -32768 ? -32768 : r;
}

function decimator(factor: number): (input: Int16Array) => Int16Array {
  const h = lowpass(factor);
  const taps = h.length;
  const history = taps - 1;
  let work = new Float32Array(history + 960);
  return (input) => {
    if (input.length % factor !== 0)
      throw new MediaError(MediaErrorCode.BadFrameSize, `resampling ÷${factor} takes a multiple of ${factor} samples, got ${input.length}`);
    if (work.length < history + input.length) {
      const grown = new Float32Array(history + input.length);
      grown.set(work.subarray(0, history));
      work = grown;
    }
    work.set(input, history);
    const out = new Int16Array(input.length / factor);
    const w = work;
    for (let n = 0; n < out.length; n++) {
      // Output n ends its window at input sample factor·n + factor − 1.
      const start = factor * n + factor;
      let acc = 0;
      for (let k = 0; k < taps; k++) acc += h[k] * w[start + k - 1];
      out[n] = clamp16(acc);
    }
    work.copyWithin(0, input.length, input.length + history);
    return out;
  };
}

function interpolator(factor: number): (input: Int16Array) => Int16Array {
  const h = lowpass(factor);
  // Phase p of the polyphase filter: taps h[p + j·L], scaled by L (zero-stuffing lost that gain).
  const perPhase = Math.ceil(h.length / factor);
  const phases = Array.from({ length: factor }, (_, p) => {
    const taps = new Float64Array(perPhase);
    for (let j = 0; j < perPhase; j++) taps[j] = p + j * factor < h.length ? factor * h[p + j * factor] : 0;
    return taps;
  });
  const history = perPhase - 1;
  let work = new Float32Array(history + 480);
  return (input) => {
    if (work.length < history + input.length) {
      const grown = new Float32Array(history + input.length);
      grown.set(work.subarray(0, history));
      work = grown;
    }
    work.set(input, history);
    const out = new Int16Array(input.length * factor);
    const w = work;
    for (let i = 0; i < input.length; i++) {
      const newest = history + i;
      for (let p = 0; p < factor; p++) {
        const taps = phases[p];
        let acc = 0;
        for (let j = 0; j < perPhase; j++) acc += taps[j] * w[newest - j];
        out[i * factor + p] = clamp16(acc);
      }
    }
    work.copyWithin(0, input.length, input.length + history);
    return out;
  };
}

/** A resampler between 48 kHz and 8, 16, 24 or 48 kHz (one side must be 48 kHz). Throws ERR_MEDIA_BAD_OPTION otherwise. */
export function createResampler(from: number, to: number): Resampler {
  if (!isPcmRate(from) || !isPcmRate(to) || (from !== 48000 && to !== 48000))
    throw new MediaError(
      MediaErrorCode.BadOption,
      `resampling goes between 48000 and one of ${PCM_RATES.join(', ')} Hz, not ${from} → ${to}`,
    );
  let process: (input: Int16Array) => Int16Array;
  if (from === to) process = (input) => input;
  else if (from === 48000 && to === 24000) {
    const d = createDownsampler();
    process = (input) => d.process(input);
  } else if (from === 24000) {
    const u = createUpsampler();
    process = (input) => u.process(input);
  } else if (from === 48000) process = decimator(48000 / to);
  else process = interpolator(48000 / from);
  return { from, to, process };
}
