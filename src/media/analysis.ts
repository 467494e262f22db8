// Measurements on PCM that tests and tools use to check audio end to end: RMS level, and the
// dominant frequency with how much of the signal's energy sits in it ("purity"), so a check
// can say "the recorded WAV holds the 440 Hz tone that was sent" and also "this is noise, not
// a tone". Method: a Hann-windowed radix-2 FFT finds the peak bin, then a Goertzel evaluation
// (a single-frequency DFT) refines it by golden-section search to well under 1 Hz.
// It is not a pitch tracker for speech and does not look at more than one tone.
import { MediaError, MediaErrorCode } from './errors.ts';

const FULL_SCALE = 32768;
/** At most this many samples are analysed (the middle of the input): ~1.4 s at 48 kHz. */
const MAX_FFT_SIZE = 65536;
const MIN_FFT_SIZE = 256;

/** RMS level as a fraction of full scale (0 = silence, ~0.707 = full-scale sine). */
export function rms(pcm: Int16Array): number {
  if (pcm.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < pcm.length; i++) sum += pcm[i] * pcm[i];
  return Math.sqrt(sum / pcm.length) / FULL_SCALE;
}

/** RMS level in dBFS (−Infinity for silence). */
export function rmsDbfs(pcm: Int16Array): number {
  return 20 * Math.log10(rms(pcm));
}

/** The average of the channels of interleaved PCM (channels = 1 returns the input). */
export function toMono(samples: Int16Array, channels: 1 | 2): Int16Array {
  if (channels === 1) return samples;
  const out = new Int16Array(Math.floor(samples.length / 2));
  for (let i = 0; i < out.length; i++) out[i] = Math.round((samples[2 * i] + samples[2 * i + 1]) / 2);
  return out;
}

export interface ToneAnalysis {
  /** Frequency in Hz of the strongest component within [minHz, maxHz]. */
  readonly frequency: number;
  /** Estimated peak amplitude of that component, as a fraction of full scale. */
  readonly amplitude: number;
  /** Share of the signal's energy in that component, 0..1 (a clean sine is near 1, white noise near 0). */
  readonly purity: number;
  /** RMS of the analysed samples, fraction of full scale. */
  readonly rms: number;
}

export interface AnalysisOptions {
  readonly sampleRate?: number;
  readonly minHz?: number;
  readonly maxHz?: number;
}

function fftInPlace(re: Float64Array, im: Float64Array): void {
  const n = re.length;
  for (let i = 1, j = 0; i < n; i++) {
    let bit = n >> 1;
    for (; j & bit; bit >>= 1) j ^= bit;
    j ^= bit;
    if (i < j) {
      let t = re[i];
      re[i] = re[j];
      re[j] = t;
      t = im[i];
      im[i] = im[j];
      im[j] = t;
    }
  }
  for (let len = 2; len <= n; len <<= 1) {
    const ang = (-2 * Math.PI) / len;
    const wr = Math.cos(ang);
    const wi = Math.sin(ang);
    for (let i = 0; i < n; i += len) {
      let cr = 1;
      let ci = 0;
      for (let k = 0; k < len / 2; k++) {
        const ar = re[i + k + len / 2] * cr - im[i + k + len / 2] * ci;
        const ai = re[i + k + len / 2] * ci + im[i + k + len / 2] * cr;
        re[i + k + len / 2] = re[i + k] - ar;
        im[i + k + len / 2] = im[i + k] - ai;
        re[i + k] += ar;
        im[i + k] += ai;
        const ncr = cr * wr - ci * wi;
        ci = cr * wi + ci * wr;
        cr = ncr;
      }
    }
  }
}

/** |X(f)|² of the windowed signal at any (non-bin) frequency: the Goertzel recurrence. */
function goertzelPower(x: Float64Array, frequency: number, sampleRate: number): number {
  const coeff = 2 * Math.cos((2 * Math.PI * frequency) / sampleRate);
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < x.length; i++) {
    const s0 = x[i] + coeff * s1 - s2;
    s2 = s1;
    s1 = s0;
  }
  return s1 * s1 + s2 * s2 - coeff * s1 * s2;
}

/**
 * Finds the dominant frequency of mono PCM. Needs at least 256 samples (5.3 ms at 48 kHz);
 * analyses at most 65536 from the middle. Silence gives frequency 0 and purity 0.
 */
export function analyzeTone(pcm: Int16Array, options: AnalysisOptions = {}): ToneAnalysis {
  const sampleRate = options.sampleRate ?? 48000;
  const minHz = options.minHz ?? 20;
  const maxHz = Math.min(options.maxHz ?? sampleRate / 2, sampleRate / 2);
  if (!(minHz >= 0 && minHz < maxHz)) throw new MediaError(MediaErrorCode.BadOption, `bad band ${minHz}..${maxHz} Hz`);
  if (pcm.length < MIN_FFT_SIZE) {
    throw new MediaError(MediaErrorCode.BadOption, `need at least ${MIN_FFT_SIZE} samples to analyse, got ${pcm.length}`);
  }
  let n = MIN_FFT_SIZE;
  while (n * 2 <= Math.min(pcm.length, MAX_FFT_SIZE)) n *= 2;
  const from = Math.floor((pcm.length - n) / 2);
  const windowed = new Float64Array(n);
  let windowSum = 0;
  let energy = 0;
  for (let i = 0; i < n; i++) {
    const v = pcm[from + i] / FULL_SCALE;
    const w = 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1));
    windowed[i] = v * w;
    windowSum += w;
    energy += v * v;
  }
  const level = Math.sqrt(energy / n);
  if (level === 0) return { frequency: 0, amplitude: 0, purity: 0, rms: 0 };

  const re = Float64Array.from(windowed);
  const im = new Float64Array(n);
  fftInPlace(re, im);
  const binHz = sampleRate / n;
  const lo = Math.max(1, Math.ceil(minHz / binHz));
  const hi = Math.min(n / 2 - 1, Math.floor(maxHz / binHz));
  let peak = lo;
  let peakPower = -1;
  for (let k = lo; k <= hi; k++) {
    const p = re[k] * re[k] + im[k] * im[k];
    if (p > peakPower) {
      peakPower = p;
      peak = k;
    }
  }

  // Golden-section search of the Goertzel power over the peak bin's neighbours: the Hann main
  // lobe is four bins wide, so the true maximum lies within one bin of the FFT peak.
  const ratio = (Math.sqrt(5) - 1) / 2;
  let a = Math.max(minHz, (peak - 1) * binHz);
  let b = Math.min(maxHz, (peak + 1) * binHz);
  let c = b - ratio * (b - a);
  let d = a + ratio * (b - a);
  let pc = goertzelPower(windowed, c, sampleRate);
  let pd = goertzelPower(windowed, d, sampleRate);
  while (b - a > 0.01) {
    if (pc > pd) {
      b = d;
      d = c;
      pd = pc;
      c = b - ratio * (b - a);
      pc = goertzelPower(windowed, c, sampleRate);
    } else {
      a = c;
      c = d;
      pc = pd;
      d = a + ratio * (b - a);
      pd = goertzelPower(windowed, d, sampleRate);
    }
  }
  const frequency = (a + b) / 2;
  // A sine of amplitude A gives |X| ≈ A·Σw/2 at its frequency; its energy per sample is A²/2.
  const amplitude = (2 * Math.sqrt(goertzelPower(windowed, frequency, sampleRate))) / windowSum;
  const purity = Math.min(1, (amplitude * amplitude) / 2 / (level * level));
  return { frequency, amplitude, purity, rms: level };
}

export interface ToneCheck {
  readonly found: boolean;
  readonly analysis: ToneAnalysis;
}

/**
 * True when the signal is dominated by one tone within `toleranceHz` of `expectedHz`
 * (purity ≥ minPurity, default 0.5). Returns the analysis so a failing test can print it.
 */
export function hasTone(
  pcm: Int16Array,
  expectedHz: number,
  options: AnalysisOptions & { toleranceHz?: number; minPurity?: number } = {},
): ToneCheck {
  const analysis = analyzeTone(pcm, options);
  const found = Math.abs(analysis.frequency - expectedHz) <= (options.toleranceHz ?? 5) && analysis.purity >= (options.minPurity ?? 0.5);
  return { found, analysis };
}
