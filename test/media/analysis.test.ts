import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTone, hasTone, rms, rmsDbfs, toMono } from '../../src/media/analysis.ts';
import { createToneGenerator, generateTone } from '../../src/media/tone.ts';

/** Deterministic white noise (LCG), so the test never depends on Math.random. */
function noise(samples: number, peak: number, seed = 1): Int16Array {
  let s = seed >>> 0;
  return new Int16Array(samples).map(() => {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    return Math.round(((s / 0xffffffff) * 2 - 1) * peak);
  });
}

for (const frequency of [440, 1000, 97.5, 3150]) {
  test(`finds ${frequency} Hz in a synthetic sine within 0.1 Hz`, () => {
    const a = analyzeTone(generateTone(500, { frequency, amplitude: 0.25 }));
    assert.ok(Math.abs(a.frequency - frequency) < 0.1, `got ${a.frequency}`);
    assert.ok(Math.abs(a.amplitude - 0.25) < 0.01, `amplitude ${a.amplitude}`);
    assert.ok(a.purity > 0.98, `purity ${a.purity}`);
  });
}

test('finds the tone under moderate noise (about 14 dB SNR)', () => {
  const tone = generateTone(500, { frequency: 1000, amplitude: 0.3 });
  const n = noise(tone.length, 4000);
  const mixed = tone.map((v, i) => v + n[i]);
  const check = hasTone(mixed, 1000, { toleranceHz: 1 });
  assert.ok(check.found, JSON.stringify(check.analysis));
});

test('rejects white noise: no dominant tone', () => {
  const check = hasTone(noise(48000, 20000), 440, { toleranceHz: 20000 });
  assert.equal(check.found, false);
  assert.ok(check.analysis.purity < 0.1, `purity ${check.analysis.purity}`);
});

test('rejects the wrong tone and silence', () => {
  assert.equal(hasTone(generateTone(200, { frequency: 1000 }), 440).found, false);
  const silent = analyzeTone(new Int16Array(4800));
  assert.deepEqual(silent, { frequency: 0, amplitude: 0, purity: 0, rms: 0 });
  assert.equal(hasTone(new Int16Array(4800), 440).found, false);
});

test('the band limits the search', () => {
  const two = generateTone(300, { frequency: 300, amplitude: 0.5 }).map(
    (v, i) => v + Math.round(3000 * Math.sin((2 * Math.PI * 2000 * i) / 48000)),
  );
  assert.ok(Math.abs(analyzeTone(two).frequency - 300) < 0.5);
  assert.ok(Math.abs(analyzeTone(two, { minHz: 1000 }).frequency - 2000) < 0.5);
});

test('too little input or a bad band is refused', () => {
  assert.throws(() => analyzeTone(new Int16Array(100)), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => analyzeTone(new Int16Array(1000), { minHz: 500, maxHz: 100 }), { code: 'ERR_MEDIA_BAD_OPTION' });
});

test('RMS of a sine is amplitude/√2; silence is −∞ dBFS', () => {
  const a = 0.5;
  assert.ok(Math.abs(rms(generateTone(1000, { frequency: 440, amplitude: a })) - a / Math.SQRT2) < 0.001);
  assert.equal(rms(new Int16Array(0)), 0);
  assert.equal(rmsDbfs(new Int16Array(10)), -Infinity);
  assert.ok(Math.abs(rmsDbfs(generateTone(1000, { frequency: 440, amplitude: 1 })) + 3.01) < 0.05);
});

test('toMono averages interleaved channels', () => {
  assert.deepEqual([...toMono(new Int16Array([2, 4, -6, 6]), 2)], [3, 0]);
  const m = new Int16Array([1, 2]);
  assert.equal(toMono(m, 1), m);
});

test('the tone generator keeps its phase across 20 ms frames', () => {
  const gen = createToneGenerator({ frequency: 440, amplitude: 0.5 });
  const frames = Array.from({ length: 25 }, () => gen.nextFrame());
  for (const f of frames) assert.equal(f.length, 960);
  const whole = generateTone(500, { frequency: 440, amplitude: 0.5 });
  const joined = new Int16Array(whole.length);
  frames.forEach((f, i) => joined.set(f, i * 960));
  let maxDiff = 0;
  for (let i = 0; i < whole.length; i++) maxDiff = Math.max(maxDiff, Math.abs(whole[i] - joined[i]));
  assert.ok(maxDiff <= 1, `frames drift from one continuous sine by ${maxDiff}`);
  assert.equal(createToneGenerator({ channels: 2 }).nextFrame().length, 1920);
  assert.throws(() => createToneGenerator({ frequency: 24000 }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => createToneGenerator({ amplitude: 2 }), { code: 'ERR_MEDIA_BAD_OPTION' });
});
