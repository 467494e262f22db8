// The resampler for every handler rate (src/media/rate.ts): 48 kHz ⇄ 8, 16, 24 kHz keeps a tone's
// frequency and level each way, 20 ms frames give the same stream as one block, what would alias
// is removed before decimating, and unsupported pairs are refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTone } from '../../src/media/analysis.ts';
import { createResampler } from '../../src/media/rate.ts';
import { generateTone } from '../../src/media/tone.ts';
import { MediaErrorCode } from '../../src/media/errors.ts';

function run(from: number, to: number, input: Int16Array, frame: number): Int16Array {
  const r = createResampler(from, to);
  const parts: Int16Array[] = [];
  for (let i = 0; i + frame <= input.length; i += frame) parts.push(r.process(input.subarray(i, i + frame)));
  const out = new Int16Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

for (const [rate, hz] of [
  [8000, 440],
  [8000, 3000],
  [16000, 440],
  [16000, 6000],
  [24000, 1000],
] as const) {
  test(`${hz} Hz keeps frequency and level 48 kHz → ${rate} Hz → 48 kHz in 20 ms frames`, () => {
    const down = run(48000, rate, generateTone(1000, { frequency: hz, amplitude: 0.5 }), 960);
    assert.equal(down.length, rate);
    const a = analyzeTone(down.subarray(rate / 10), { sampleRate: rate });
    assert.ok(Math.abs(a.frequency - hz) < 1 && Math.abs(a.amplitude - 0.5) < 0.02 && a.purity > 0.99, `down: ${JSON.stringify(a)}`);
    const up = run(rate, 48000, generateTone(1000, { frequency: hz, amplitude: 0.5, sampleRate: rate }), rate / 50);
    assert.equal(up.length, 48000);
    const b = analyzeTone(up.subarray(4800), { sampleRate: 48000 });
    assert.ok(Math.abs(b.frequency - hz) < 1 && Math.abs(b.amplitude - 0.5) < 0.02 && b.purity > 0.99, `up: ${JSON.stringify(b)}`);
  });
}

test('48 → 8 kHz removes what would alias: a 6 kHz tone comes out at least 50 dB down', () => {
  const down = run(48000, 8000, generateTone(1000, { frequency: 6000, amplitude: 0.5 }), 960);
  let sum = 0;
  for (const s of down.subarray(800)) sum += s * s;
  const level = Math.sqrt(sum / (down.length - 800)) / 32768;
  assert.ok(20 * Math.log10(level / (0.5 / Math.SQRT2)) < -50, `alias at ${(20 * Math.log10(level / 0.354)).toFixed(1)} dB`);
});

test('frames of any size (multiples of the ratio) give the same stream as one block', () => {
  const input = generateTone(200, { frequency: 1234, amplitude: 0.7 });
  const whole = createResampler(48000, 16000).process(input);
  assert.deepEqual(run(48000, 16000, input, 480), whole.subarray(0, (Math.floor(input.length / 480) * 480) / 3));
  const narrow = createResampler(48000, 8000).process(input);
  const upWhole = createResampler(8000, 48000).process(narrow);
  assert.deepEqual(run(8000, 48000, narrow, 40), upWhole.subarray(0, Math.floor(narrow.length / 40) * 40 * 6));
});

test('unsupported rates and misaligned input are refused with stable codes', () => {
  assert.throws(() => createResampler(44100, 48000), { code: MediaErrorCode.BadOption });
  assert.throws(() => createResampler(8000, 16000), { code: MediaErrorCode.BadOption });
  assert.throws(() => createResampler(48000, 8000).process(new Int16Array(7)), { code: MediaErrorCode.BadFrameSize });
  const same = createResampler(48000, 48000);
  const x = new Int16Array(960);
  assert.equal(same.process(x), x);
});
