// G.711 µ-law against the reference: Python's audioop (the CCITT/Sun g711 code) decoded all 256
// codes and encoded every 16-bit value; the vectors and their provenance are in data/mulaw-audioop.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { mulawDecode, mulawEncode, mulawEncodeSample } from '../../src/media/mulaw.ts';
import { generateTone } from '../../src/media/tone.ts';
import { hasTone } from '../../src/media/analysis.ts';

const ref = JSON.parse(await readFile(new URL('./data/mulaw-audioop.json', import.meta.url), 'utf8')) as {
  decode: number[];
  encodeAllSha256: string;
  encodeSamples: [number, number][];
};

test('G.711 µ-law decode: all 256 codes equal the reference table', () => {
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  assert.deepEqual([...mulawDecode(codes)], ref.decode);
});

test('G.711 µ-law encode: every 16-bit value equals the reference (sha-256 of all 65536 codes), spot values by name', () => {
  const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
  assert.equal(createHash('sha256').update(mulawEncode(all)).digest('hex'), ref.encodeAllSha256);
  for (const [sample, code] of ref.encodeSamples) assert.equal(mulawEncodeSample(sample), code, `sample ${sample}`);
});

test('G.711 µ-law: decode(encode(decode(c))) is stable and a 1 kHz tone keeps its frequency (8 kHz)', () => {
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const once = mulawDecode(codes);
  assert.deepEqual(mulawDecode(mulawEncode(once)), once);
  const tone = generateTone(1000, { frequency: 1000, amplitude: 0.5, sampleRate: 8000 });
  assert.ok(hasTone(mulawDecode(mulawEncode(tone)), 1000, { sampleRate: 8000, toleranceHz: 1 }).found);
});

test('G.711 µ-law into a scratch buffer: the same codes and samples at its start; a scratch too short is refused', () => {
  const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
  const scratchPcm = new Int16Array(300).fill(7);
  const pcm = mulawDecode(codes, scratchPcm);
  assert.equal(pcm.length, 256);
  assert.equal(pcm.buffer, scratchPcm.buffer, 'written into the scratch');
  assert.deepEqual([...pcm], ref.decode);
  const scratchCodes = Buffer.alloc(300, 0xee);
  const out = mulawEncode(pcm, scratchCodes);
  assert.equal(out.length, 256);
  assert.ok(out.equals(mulawEncode(pcm)));
  assert.equal(scratchCodes[256], 0xee, 'nothing written past the samples');
  assert.throws(() => mulawEncode(pcm, Buffer.alloc(10)), RangeError);
  assert.throws(() => mulawDecode(codes, new Int16Array(10)), RangeError);
});
