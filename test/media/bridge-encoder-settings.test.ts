// The bridges' encoder settings (media/opus.ts BridgeEncoderSettings): they reach the encoder on
// both codec paths — inline (@evan/opus) and the codec threads (libopus through Parley's addon) —
// seen in the packets themselves (RFC 6716 §3.1: TOC configs 0–15 SILK or hybrid, 16–31 CELT):
// with `audio` at complexity 5 libopus codes 24 kHz speech as CELT from the first frame, at 10
// (its signal analysis on) it starts hybrid, with `voip` it stays SILK/hybrid; a tone survives
// each; bad values are refused by the encoder, the addon and the pool.
// CI=true: libopus must load (nothing skips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CodecPool } from '../../src/media/codec-pool.ts';
import { createInlineCodecs } from '../../src/media/frame-codec.ts';
import type { FrameCodecs } from '../../src/media/frame-codec.ts';
import { analyzeTone } from '../../src/media/analysis.ts';
import { BRIDGE_ENCODER_DEFAULTS, createOpusDecoder, createOpusEncoder } from '../../src/media/opus.ts';
import type { BridgeEncoderSettings } from '../../src/media/opus.ts';
import { loadOpusAddon, OPUS_APPLICATION_CODES } from '../../src/media/opus-recovery.ts';
import { generateTone } from '../../src/media/tone.ts';
import { glide } from '../support/speech-like.ts';

const addon = loadOpusAddon();
const skip = addon instanceof Error && process.env.CI !== 'true' ? addon.message : false;
const RATE = 24000;
const isCelt = (packet: Buffer): boolean => packet[0] >> 3 >= 16;

/** Encodes `frames` through a codec of `codecs` and returns the packets, in order. */
async function encodeAll(codecs: FrameCodecs, frames: Int16Array[]): Promise<Buffer[]> {
  const out: Buffer[] = [];
  const codec = codecs.open({ sampleRate: RATE, recovery: false }, { decoded() {}, encoded: (p) => out.push(Buffer.from(p)) });
  for (const f of frames) codec.encode(f);
  await new Promise<void>((resolve) => codec.after(() => resolve()));
  codec.close();
  return out;
}

const speech = glide(50, RATE);
const paths: { name: string; codecs: (e: BridgeEncoderSettings) => { codecs: FrameCodecs; close(): Promise<void> } }[] = [
  { name: 'inline', codecs: (e) => ({ codecs: createInlineCodecs(e), close: async () => {} }) },
  {
    name: 'codec thread',
    codecs: (e) => {
      const pool = CodecPool.start({ threads: 1, encoder: e });
      assert.ok(pool instanceof CodecPool, String(pool));
      return { codecs: pool, close: () => pool.close() };
    },
  },
];

for (const path of paths) {
  test(
    `${path.name}: the settings reach the encoder — audio at 5 codes speech as CELT, audio at 10 starts hybrid, voip as SILK/hybrid; a tone survives`,
    { skip },
    async () => {
      assert.deepEqual(BRIDGE_ENCODER_DEFAULTS, { application: 'audio', complexity: 5 });
      const made = [BRIDGE_ENCODER_DEFAULTS, { application: 'audio', complexity: 10 }, { application: 'voip', complexity: 5 }].map((e) =>
        path.codecs(e as BridgeEncoderSettings),
      );
      try {
        const [dflt, audio10, voip5] = await Promise.all(made.map((m) => encodeAll(m.codecs, speech)));
        const tocs = (packets: Buffer[]): string => packets.map((p) => p[0] >> 3).join(',');
        for (const p of [dflt, audio10, voip5]) assert.equal(p.length, speech.length);
        assert.ok(dflt.every(isCelt), `audio 5: CELT only (TOC ${tocs(dflt)})`);
        // At complexity ≥ 7 libopus analyses the signal first, and starts this one in hybrid mode.
        assert.ok(
          audio10.slice(0, 5).every((p) => !isCelt(p)),
          `audio 10: hybrid first (TOC ${tocs(audio10)})`,
        );
        assert.ok(
          voip5.every((p) => !isCelt(p)),
          `voip 5: SILK/hybrid only (TOC ${tocs(voip5)})`,
        );
        const tone = generateTone(1000, { frequency: 660, amplitude: 0.4, sampleRate: RATE });
        const frames = Array.from({ length: 50 }, (_, i) => tone.subarray((i * RATE) / 50, ((i + 1) * RATE) / 50));
        for (const m of made) {
          const dec = createOpusDecoder({ sampleRate: RATE });
          const pcm = Int16Array.from((await encodeAll(m.codecs, frames)).slice(10).flatMap((p) => [...dec.decode(p)]));
          const t = analyzeTone(pcm, { sampleRate: RATE });
          assert.ok(Math.abs(t.frequency - 660) < 1 && t.purity > 0.95, JSON.stringify(t));
        }
      } finally {
        await Promise.all(made.map((m) => m.close()));
      }
    },
  );
}

test('bad encoder settings are refused: the encoder, the addon and the pool each say which', { skip }, () => {
  assert.throws(() => createOpusEncoder({ complexity: 11 }), /complexity must be an integer in 0..10/);
  assert.throws(() => createOpusEncoder({ complexity: 2.5 }), /complexity/);
  const a = addon as Exclude<typeof addon, Error>;
  assert.throws(() => a.createEncoder(RATE, OPUS_APPLICATION_CODES.audio, 11), /complexity -1..10/);
  assert.throws(() => a.createEncoder(RATE, OPUS_APPLICATION_CODES.audio, -2), /complexity -1..10/);
  assert.ok(a.createEncoder(RATE, OPUS_APPLICATION_CODES.audio, -1));
  assert.ok(a.createEncoder(RATE, OPUS_APPLICATION_CODES.voip));
  const pool = CodecPool.start({ threads: 1, encoder: { application: 'audio', complexity: 12 } });
  assert.ok(pool instanceof RangeError && /complexity 12/.test(pool.message), String(pool));
  const pool2 = CodecPool.start({ threads: 1, encoder: { application: 'speech' as 'audio', complexity: 5 } });
  assert.ok(pool2 instanceof RangeError && /application speech/.test(pool2.message), String(pool2));
});
