// The 2:1 resampler between Opus's 48 kHz and the Realtime protocol's 24 kHz (src/media/resample.ts):
// a tone keeps its frequency and level each way, frames cut anywhere give the same stream as one
// block, what would alias (above 12 kHz) is removed, and the full scale does not wrap.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTone, rms } from '../../src/media/analysis.ts';
import { createDownsampler, createUpsampler } from '../../src/media/resample.ts';
import { generateTone } from '../../src/media/tone.ts';

function collect(process: (x: Int16Array) => Int16Array, input: Int16Array, frame: number, out: Int16Array): Int16Array {
  let o = 0;
  for (let i = 0; i + frame <= input.length; i += frame) {
    const y = process(input.subarray(i, i + frame));
    out.set(y, o);
    o += y.length;
  }
  return out;
}

for (const hz of [300, 1000, 3400, 8000]) {
  test(`a ${hz} Hz tone keeps its frequency and level 48 → 24 kHz and 24 → 48 kHz`, () => {
    const d = createDownsampler();
    const down = collect((x) => d.process(x), generateTone(1000, { frequency: hz, amplitude: 0.5 }), 960, new Int16Array(24000));
    const a = analyzeTone(down, { sampleRate: 24000 });
    assert.ok(Math.abs(a.frequency - hz) < 1, `down: ${a.frequency} Hz`);
    assert.ok(Math.abs(a.amplitude - 0.5) < 0.01 && a.purity > 0.999, `down: amplitude ${a.amplitude}, purity ${a.purity}`);
    const u = createUpsampler();
    const up = collect(
      (x) => u.process(x),
      generateTone(1000, { frequency: hz, amplitude: 0.5, sampleRate: 24000 }),
      480,
      new Int16Array(48000),
    );
    const b = analyzeTone(up, { sampleRate: 48000 });
    assert.ok(Math.abs(b.frequency - hz) < 1, `up: ${b.frequency} Hz`);
    assert.ok(Math.abs(b.amplitude - 0.5) < 0.01 && b.purity > 0.999, `up: amplitude ${b.amplitude}, purity ${b.purity}`);
  });
}

test('frames of any even size give the same output as one block (state carries across calls)', () => {
  const input = generateTone(200, { frequency: 1234, amplitude: 0.7 });
  const whole = createDownsampler().process(input);
  const d = createDownsampler();
  const parts = [100, 2, 858, 960, 6000, 1680].map((n, i, a) =>
    d.process(
      input.subarray(
        a.slice(0, i).reduce((s, v) => s + v, 0),
        a.slice(0, i + 1).reduce((s, v) => s + v, 0),
      ),
    ),
  );
  assert.deepEqual(Int16Array.from(parts.flatMap((p) => [...p])), whole);
  const up = createUpsampler();
  const half = createDownsampler().process(input);
  const upWhole = createUpsampler().process(half);
  const upParts = [1, 479, 2000, 2320].map((n, i, a) =>
    up.process(
      half.subarray(
        a.slice(0, i).reduce((s, v) => s + v, 0),
        a.slice(0, i + 1).reduce((s, v) => s + v, 0),
      ),
    ),
  );
  assert.deepEqual(Int16Array.from(upParts.flatMap((p) => [...p])), upWhole);
});

test('a 14 kHz tone (it would fold to 10 kHz at 24 kHz) is removed: below −80 dB', () => {
  const d = createDownsampler();
  const down = d.process(generateTone(500, { frequency: 14000, amplitude: 0.9 }));
  const level = rms(down.subarray(100));
  assert.ok(20 * Math.log10(level / (0.9 / Math.SQRT2)) < -80, `alias at ${(20 * Math.log10(level / (0.9 / Math.SQRT2))).toFixed(1)} dB`);
});

test('full-scale input saturates instead of wrapping; an odd length is refused', () => {
  const square = new Int16Array(960).map((_, i) => (i % 240 < 120 ? 32767 : -32768));
  const down = createDownsampler().process(square);
  const up = createUpsampler().process(down);
  // Output n is centred on input 2n − 30 (the filter's delay). Away from the edges it sits at a
  // rail with the input's sign; a wrap would flip it.
  let checked = 0;
  for (let n = 20; n < down.length; n++) {
    const at = 2 * n - 30;
    if (square[at - 12] !== square[at + 12]) continue;
    checked++;
    assert.ok(Math.sign(down[n]) === Math.sign(square[at]) && Math.abs(down[n]) > 30000, `sample ${n}: ${down[n]}`);
  }
  assert.ok(checked > 100);
  assert.ok(up.every((v) => v >= -32768 && v <= 32767));
  assert.throws(() => createDownsampler().process(new Int16Array(3)), { code: 'ERR_MEDIA_BAD_FRAME_SIZE' });
});
