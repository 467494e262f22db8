// Measures the 48 kHz ↔ 24 kHz resampler (src/media/resample.ts): quality (SNR of a tone after
// each direction, alias and image rejection) and speed (ns per input sample, 20 ms frames as the
// realtime handler feeds it). With LIBSAMPLERATE=/path/to/node_modules/@alexanderolsen/libsamplerate-js
// it measures libsamplerate (SRC_SINC_FASTEST / MEDIUM) the same way, for the comparison in docs/media.md.
//   node bench/resample.ts
import { createDownsampler, createUpsampler } from '../src/media/resample.ts';
import { generateTone } from '../src/media/tone.ts';

type Convert = (input: Int16Array) => Int16Array;

/** Fits a·sin + b·cos at `hz` (least squares) and returns the fitted power and the residual's. */
function fit(x: Int16Array, rate: number, hz: number, skip: number): { tone: number; rest: number } {
  let ss = 0;
  let cc = 0;
  let sc = 0;
  let xs = 0;
  let xc = 0;
  for (let i = skip; i < x.length; i++) {
    const s = Math.sin((2 * Math.PI * hz * i) / rate);
    const c = Math.cos((2 * Math.PI * hz * i) / rate);
    ss += s * s;
    cc += c * c;
    sc += s * c;
    xs += x[i] * s;
    xc += x[i] * c;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  let tone = 0;
  let rest = 0;
  for (let i = skip; i < x.length; i++) {
    const t = a * Math.sin((2 * Math.PI * hz * i) / rate) + b * Math.cos((2 * Math.PI * hz * i) / rate);
    tone += t * t;
    rest += (x[i] - t) ** 2;
  }
  return { tone, rest };
}

const db = (p: number): number => 10 * Math.log10(p);

function framed(convert: Convert, input: Int16Array, frame: number): Int16Array {
  const parts: Int16Array[] = [];
  for (let i = 0; i + frame <= input.length; i += frame) parts.push(convert(input.subarray(i, i + frame)));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

function measure(name: string, down: () => Convert, up: () => Convert): void {
  const seconds = 1;
  const tone48 = (hz: number): Int16Array => generateTone(seconds * 1000, { frequency: hz, amplitude: 0.5, sampleRate: 48000 });
  const tone24 = (hz: number): Int16Array => generateTone(seconds * 1000, { frequency: hz, amplitude: 0.5, sampleRate: 24000 });
  const snr = (x: Int16Array, rate: number, hz: number): number => {
    const f = fit(x, rate, hz, 200);
    return db(f.tone / f.rest);
  };
  const level = (x: Int16Array, rate: number, hz: number, ref: number): number => {
    const f = fit(x, rate, hz, 200);
    return db(f.tone / ref);
  };
  const refPower = fit(tone48(1000), 48000, 1000, 200).tone / 2; // ~power of a 0.5 tone over the same span at 24 kHz
  const downSnr = [440, 1000, 3000, 7000].map((hz) => snr(framed(down(), tone48(hz), 960), 24000, hz));
  const upSnr = [440, 1000, 3000, 7000].map((hz) => snr(framed(up(), tone24(hz), 480), 48000, hz));
  // A 14 kHz input folds to 10 kHz at 24 kHz; a 10 kHz tone at 24 kHz images to 14 kHz at 48 kHz.
  const alias = level(framed(down(), tone48(14000), 960), 24000, 10000, refPower);
  const image = level(framed(up(), tone24(10000), 480), 48000, 14000, refPower * 2);
  const passband = level(framed(down(), tone48(9000), 960), 24000, 9000, refPower);
  // Speed: 20 ms frames, as the handler feeds them.
  const frames = 5000;
  const speech = tone48(1000).subarray(0, 960);
  const d = down();
  for (let i = 0; i < 500; i++) d(speech);
  let t = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) d(speech);
  const downNs = Number(process.hrtime.bigint() - t) / (frames * 960);
  const half = tone24(1000).subarray(0, 480);
  const u = up();
  for (let i = 0; i < 500; i++) u(half);
  t = process.hrtime.bigint();
  for (let i = 0; i < frames; i++) u(half);
  const upNs = Number(process.hrtime.bigint() - t) / (frames * 480);
  const f1 = (v: number): string => v.toFixed(1);
  console.log(
    `${name.padEnd(28)} SNR down ${downSnr.map(f1).join('/')} dB, up ${upSnr.map(f1).join('/')} dB (440/1k/3k/7k Hz); ` +
      `9 kHz passband ${f1(passband)} dB; alias 14k→10k ${f1(alias)} dB; image 10k→14k ${f1(image)} dB; ` +
      `${f1(downNs)} ns per 48 kHz sample down, ${f1(upNs)} ns per 24 kHz sample up ` +
      `(${f1((downNs * 960 + upNs * 480) / 1000)} µs per 20 ms frame both ways)`,
  );
}

{
  // The codec's own cost per frame in the same run, as the yardstick on a shared machine.
  const { createOpusDecoder, createOpusEncoder } = await import('../src/media/opus.ts');
  const enc = createOpusEncoder({ application: 'voip' });
  const dec = createOpusDecoder();
  const pcm = generateTone(20, { frequency: 1000, amplitude: 0.5 });
  const n = 2000;
  for (let i = 0; i < 200; i++) dec.decode(enc.encode(pcm));
  const t = process.hrtime.bigint();
  for (let i = 0; i < n; i++) dec.decode(enc.encode(pcm));
  console.log(`opus encode+decode of one 20 ms frame: ${(Number(process.hrtime.bigint() - t) / n / 1000).toFixed(1)} µs (yardstick)`);
  // What a 24 kHz bridge costs when libopus itself decodes to and encodes from 24 kHz (no resampler).
  const enc24 = createOpusEncoder({ application: 'voip', sampleRate: 24000 });
  const dec24 = createOpusDecoder({ sampleRate: 24000 });
  const enc48 = createOpusEncoder({ application: 'voip' });
  const pcm24 = generateTone(20, { frequency: 1000, amplitude: 0.5, sampleRate: 24000 });
  const packet48 = enc48.encode(pcm);
  const bridge24 = (): void => {
    enc24.encode(pcm24);
    dec24.decode(packet48);
  };
  for (let i = 0; i < 200; i++) bridge24();
  const t24 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) bridge24();
  console.log(
    `opus decode to 24 kHz + encode from 24 kHz of one 20 ms frame: ${(Number(process.hrtime.bigint() - t24) / n / 1000).toFixed(1)} µs (a 24 kHz bridge without a resampler)`,
  );
}

measure(
  'parley half-band FIR (63 taps)',
  () => {
    const d = createDownsampler();
    return (x) => d.process(x);
  },
  () => {
    const u = createUpsampler();
    return (x) => u.process(x);
  },
);

const lsrPath = process.env.LIBSAMPLERATE;
if (lsrPath !== undefined) {
  const mod = (await import(`${lsrPath}/dist/libsamplerate.js`)) as { default?: unknown };
  const lsr = (mod.default ?? mod) as {
    create: (
      ch: number,
      from: number,
      to: number,
      o: { converterType: number },
    ) => Promise<{ full(x: Float32Array): Float32Array; simple(x: Float32Array): Float32Array }>;
    ConverterType: Record<string, number>;
  };
  for (const type of ['SRC_SINC_FASTEST', 'SRC_SINC_MEDIUM_QUALITY']) {
    const downSrc = await Promise.all(
      Array.from({ length: 12 }, () => lsr.create(1, 48000, 24000, { converterType: lsr.ConverterType[type] })),
    );
    const upSrc = await Promise.all(
      Array.from({ length: 12 }, () => lsr.create(1, 24000, 48000, { converterType: lsr.ConverterType[type] })),
    );
    const wrap =
      (src: { full(x: Float32Array): Float32Array }): Convert =>
      (x) => {
        const f = new Float32Array(x.length);
        for (let i = 0; i < x.length; i++) f[i] = x[i] / 32768;
        const y = src.full(f);
        const o = new Int16Array(y.length);
        for (let i = 0; i < y.length; i++) o[i] = Math.max(-32768, Math.min(32767, Math.round(y[i] * 32768)));
        return o;
      };
    measure(
      `libsamplerate ${type.replace('SRC_SINC_', '').toLowerCase()}`,
      () => wrap(downSrc.pop()!),
      () => wrap(upSrc.pop()!),
    );
  }
}
