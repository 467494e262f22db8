// `node bench/opus-settings.ts`: what each libopus encoder setting the bridges could use costs and
// what it does to the audio, so the bridge's encoder default (media/opus.ts BRIDGE_OPUS_COMPLEXITY)
// is chosen by numbers. For each PCM rate the bridges encode from (24 kHz: realtime; 8 kHz:
// media-stream µ-law; 16 kHz: PCM handlers), application (voip, audio, restricted_lowdelay) and complexity (0..10):
//   - cost: CPU µs per 20 ms mono frame encoded, through @evan/opus (the inline codec) and through
//     Parley's addon on the system libopus (the codec threads), each in this process, one after
//     the other, best of REPS passes (the machine is shared: the minimum is the least disturbed);
//   - quality, encode → decode at the same rate: a speech-like signal (test/support/speech-like.ts's
//     gliding pitch, and the same glide with harmonics, as voiced speech has) scored by the
//     log-spectral distance (dB, per 20 ms frame, bins within 20 dB of the frame's peak, after
//     aligning the codec's delay) and the SNR (dB, aligned); and the tones the e2e tests check
//     (the caller's 440 Hz, the model's 660 Hz): frequency error (Hz) and purity (analyzeTone).
// Settings (env): RATES (24000,8000,16000), REPS (3), SECONDS (4, of each signal).
// Prints one markdown table per rate. Runs alone in a few seconds; wrap it in the bench lock.
import { Encoder } from '@evan/opus';
import { loadavg } from 'node:os';
import { analyzeTone } from '../src/media/analysis.ts';
import { createOpusDecoder } from '../src/media/opus.ts';
import type { OpusPcmRate } from '../src/media/opus.ts';
import { loadOpusAddon, OPUS_APPLICATION_CODES } from '../src/media/opus-recovery.ts';
import { generateTone } from '../src/media/tone.ts';
import { glide, snrDb } from '../test/support/speech-like.ts';

const RATES = (process.env.RATES ?? '24000,8000,16000').split(',').map(Number) as OpusPcmRate[];
const REPS = Number(process.env.REPS ?? 3);
const SECONDS = Number(process.env.SECONDS ?? 4);
const COMPLEXITIES = [10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0];
const APPLICATIONS = ['voip', 'audio', 'restricted_lowdelay'] as const;

const addon = loadOpusAddon();
if (addon instanceof Error) {
  process.stderr.write(`opus-settings: ${addon.message}\n`);
  process.exit(1);
}

/** `frames` 20 ms frames of the glide with harmonics 1..8 (1/k amplitudes) below the Nyquist: voiced speech's comb. */
function harmonicGlide(frames: number, rate: number): Int16Array[] {
  const n = rate / 50;
  let phase = 0;
  return Array.from({ length: frames }, (_, i) =>
    Int16Array.from({ length: n }, (_, j) => {
      const t = (i * n + j) / rate;
      const f0 = 150 + 60 * Math.sin(2 * Math.PI * 0.7 * t);
      phase += (2 * Math.PI * f0) / rate;
      let v = 0;
      for (let k = 1; k <= 8 && k * f0 < rate / 2; k++) v += Math.sin(k * phase) / k;
      return Math.round(5000 * v * (0.6 + 0.4 * Math.sin(2 * Math.PI * 3 * t)));
    }),
  );
}

const frames = (pcm: Int16Array, rate: number): Int16Array[] =>
  Array.from({ length: Math.floor(pcm.length / (rate / 50)) }, (_, i) => pcm.subarray((i * rate) / 50, ((i + 1) * rate) / 50));
const join = (parts: Int16Array[]): Int16Array => {
  const out = new Int16Array(parts.reduce((a, p) => a + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};

interface Coder {
  encode(pcm: Int16Array): Buffer;
}
type Application = (typeof APPLICATIONS)[number];
function evanEncoder(rate: OpusPcmRate, application: Application, complexity: number): Coder {
  const e = new Encoder({ channels: 1, sample_rate: rate, application });
  e.complexity = complexity as 0;
  return { encode: (pcm) => Buffer.from(e.encode(pcm)) };
}
function addonEncoder(rate: OpusPcmRate, application: Application, complexity: number): Coder {
  const a = addon as Exclude<typeof addon, Error>;
  const e = a.createEncoder(rate, OPUS_APPLICATION_CODES[application], complexity);
  const out = Buffer.allocUnsafe(4000);
  return { encode: (pcm) => out.subarray(0, a.encode(e, pcm, out)) };
}

/** µs of CPU per frame encoded: the best of REPS passes over `input`, each with a fresh encoder. */
function costUs(make: () => Coder, input: Int16Array[]): number {
  let best = Infinity;
  for (let r = 0; r < REPS; r++) {
    const enc = make();
    for (let i = 0; i < 25; i++) enc.encode(input[i % input.length]); // warm-up
    const t = process.cpuUsage();
    for (const f of input) enc.encode(f);
    const u = process.cpuUsage(t);
    best = Math.min(best, (u.user + u.system) / input.length);
  }
  return best;
}

/** Encodes and decodes `input` at `rate` with a fresh encoder (the addon's: what both paths share in settings). */
function roundTrip(make: () => Coder, input: Int16Array[], rate: OpusPcmRate): { out: Int16Array; bytes: number } {
  const enc = make();
  const dec = createOpusDecoder({ sampleRate: rate });
  let bytes = 0;
  const out = input.map((f) => {
    const p = enc.encode(f);
    bytes += p.length;
    return Int16Array.from(dec.decode(p));
  });
  return { out: join(out), bytes };
}

/** The codec's delay in samples: the lag in 0..maxLag with the largest cross-correlation. */
function delayOf(ref: Int16Array, out: Int16Array, maxLag: number): number {
  let best = 0;
  let bestC = -Infinity;
  const n = Math.min(ref.length, out.length) - maxLag;
  for (let lag = 0; lag <= maxLag; lag++) {
    let c = 0;
    for (let i = 0; i < n; i += 2) c += ref[i] * out[i + lag];
    if (c > bestC) {
      bestC = c;
      best = lag;
    }
  }
  return best;
}

/** Mean log-spectral distance (dB) over 20 ms Hann-windowed frames, bins within 20 dB of the reference frame's peak (a naive DFT: 128 bins to the Nyquist). */
function lsdDb(ref: Int16Array, out: Int16Array, rate: number): number {
  const n = rate / 50;
  const bins = 128;
  const w = Float64Array.from({ length: n }, (_, i) => 0.5 - 0.5 * Math.cos((2 * Math.PI * i) / (n - 1)));
  const cos = Array.from({ length: bins }, (_, k) =>
    Float64Array.from({ length: n }, (_, i) => Math.cos((Math.PI * (k + 0.5) * i) / bins)),
  );
  const sin = Array.from({ length: bins }, (_, k) =>
    Float64Array.from({ length: n }, (_, i) => Math.sin((Math.PI * (k + 0.5) * i) / bins)),
  );
  const power = (x: Int16Array, at: number): Float64Array =>
    Float64Array.from({ length: bins }, (_, k) => {
      let re = 0;
      let im = 0;
      for (let i = 0; i < n; i++) {
        const v = x[at + i] * w[i];
        re += v * cos[k][i];
        im += v * sin[k][i];
      }
      return re * re + im * im + 1e-3;
    });
  let sum = 0;
  let count = 0;
  for (let at = 0; at + n <= Math.min(ref.length, out.length); at += n) {
    const pr = power(ref, at);
    const po = power(out, at);
    const peak = Math.max(...pr);
    let s = 0;
    let m = 0;
    for (let k = 0; k < bins; k++) {
      if (pr[k] < peak / 100) continue;
      s += (10 * Math.log10(pr[k] / po[k])) ** 2;
      m++;
    }
    if (m > 0) {
      sum += Math.sqrt(s / m);
      count++;
    }
  }
  return sum / count;
}

interface Quality {
  readonly lsd: number;
  readonly snr: number;
  readonly kbps: number;
}
/** Quality of `signal` through encoder `make`: aligned, the first 100 ms (the encoder's start-up) left out. */
function quality(make: () => Coder, signal: Int16Array[], rate: OpusPcmRate): Quality {
  const ref = join(signal);
  const { out, bytes } = roundTrip(make, signal, rate);
  const lag = delayOf(ref, out, Math.round(rate * 0.02));
  const skip = Math.round(rate * 0.1);
  const r = ref.subarray(skip, ref.length - lag);
  const o = out.subarray(skip + lag);
  return { lsd: lsdDb(r, o, rate), snr: snrDb(o, r), kbps: (bytes * 8) / (signal.length * 0.02) / 1000 };
}

/** The tone after the round trip: its frequency error (Hz) and purity, over the last second. */
function toneCheck(make: () => Coder, hz: number, rate: OpusPcmRate): { err: number; purity: number } {
  const tone = generateTone(2000, { frequency: hz, amplitude: 0.4, sampleRate: rate });
  const { out } = roundTrip(make, frames(tone, rate), rate);
  const a = analyzeTone(out.subarray(out.length - rate), { sampleRate: rate });
  return { err: a.frequency - hz, purity: a.purity };
}

const f = (v: number, d: number): string => v.toFixed(d);
console.log(
  `opus-settings: libopus encoder settings, ${SECONDS} s signals, cost best of ${REPS}; load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}\n`,
);
for (const rate of RATES) {
  const count = SECONDS * 50;
  const speech = glide(count, rate);
  const voiced = harmonicGlide(count, rate);
  const tone = frames(generateTone(SECONDS * 1000, { frequency: 660, amplitude: 0.4, sampleRate: rate }), rate);
  console.log(`### ${rate / 1000} kHz\n`);
  console.log(
    '| application | complexity | µs per encode, voiced: @evan/opus / addon | µs per encode, 660 Hz tone (addon) | kbit/s (voiced) | LSD dB: glide / voiced | SNR dB: glide / voiced | 440 Hz: error Hz, purity | 660 Hz: error Hz, purity |',
  );
  console.log('|---|---:|---|---:|---:|---|---|---|---|');
  for (const application of APPLICATIONS) {
    for (const c of COMPLEXITIES) {
      const viaEvan = costUs(() => evanEncoder(rate, application, c), voiced);
      const viaAddon = costUs(() => addonEncoder(rate, application, c), voiced);
      const viaAddonTone = costUs(() => addonEncoder(rate, application, c), tone);
      const make = (): Coder => addonEncoder(rate, application, c);
      const g = quality(make, speech, rate);
      const v = quality(make, voiced, rate);
      const t440 = toneCheck(make, 440, rate);
      const t660 = toneCheck(make, 660, rate);
      console.log(
        `| ${application} | ${c} | ${f(viaEvan, 1)} / ${f(viaAddon, 1)} | ${f(viaAddonTone, 1)} | ${f(v.kbps, 1)} | ${f(g.lsd, 2)} / ${f(v.lsd, 2)} | ${f(g.snr, 1)} / ${f(v.snr, 1)} | ` +
          `${f(t440.err, 2)}, ${f(t440.purity, 3)} | ${f(t660.err, 2)}, ${f(t660.purity, 3)} |`,
      );
    }
  }
  console.log('');
}
console.log(
  `load average at the end ${loadavg()
    .map((x) => x.toFixed(2))
    .join(' ')}`,
);
