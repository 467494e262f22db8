import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpusDecoder, createOpusEncoder, OPUS_FRAME_SAMPLES } from '../../src/media/opus.ts';
import { createToneGenerator } from '../../src/media/tone.ts';
import { analyzeTone, rms } from '../../src/media/analysis.ts';
import { MediaError } from '../../src/media/errors.ts';

function concat(frames: Int16Array[]): Int16Array {
  const out = new Int16Array(frames.reduce((n, f) => n + f.length, 0));
  let o = 0;
  for (const f of frames) {
    out.set(f, o);
    o += f.length;
  }
  return out;
}

/** Encodes `seconds` of tone frame by frame and decodes every packet. */
function roundTrip(frequency: number, channels: 1 | 2, seconds = 1): { sent: Int16Array; received: Int16Array; packets: Buffer[] } {
  const gen = createToneGenerator({ frequency, amplitude: 0.5, channels });
  const enc = createOpusEncoder({ sampleRate: 48000, channels, application: 'voip' });
  const dec = createOpusDecoder({ sampleRate: 48000, channels });
  const sent: Int16Array[] = [];
  const received: Int16Array[] = [];
  const packets: Buffer[] = [];
  for (let i = 0; i < seconds * 50; i++) {
    const pcm = gen.nextFrame();
    const packet = enc.encode(pcm);
    packets.push(packet);
    sent.push(pcm);
    received.push(dec.decode(packet));
  }
  enc.close();
  dec.close();
  return { sent: concat(sent), received: concat(received), packets };
}

for (const frequency of [440, 1000]) {
  test(`opus round trip keeps a ${frequency} Hz tone's frequency and energy`, () => {
    const { sent, received, packets } = roundTrip(frequency, 1);
    assert.equal(received.length, sent.length, 'each 20 ms packet decodes to 960 samples');
    for (const p of packets) assert.ok(p.length > 0 && p.length < 400, `packet of ${p.length} bytes`);
    // Skip the first 100 ms: the codec's look-ahead and start-up ramp.
    const steady = received.subarray(4800);
    const a = analyzeTone(steady);
    assert.ok(Math.abs(a.frequency - frequency) < 2, `decoded ${a.frequency} Hz`);
    assert.ok(a.purity > 0.9, `purity ${a.purity}`);
    const ratioDb = 20 * Math.log10(rms(steady) / rms(sent.subarray(4800)));
    assert.ok(Math.abs(ratioDb) < 1, `energy changed by ${ratioDb.toFixed(2)} dB`);
  });
}

test('opus round trip in stereo gives interleaved 2 × 960 samples per frame', () => {
  const { received } = roundTrip(440, 2, 0.5);
  assert.equal(received.length, 25 * 2 * OPUS_FRAME_SAMPLES);
  const left = new Int16Array(received.length / 2).map((_, i) => received[2 * i]);
  assert.ok(Math.abs(analyzeTone(left.subarray(4800)).frequency - 440) < 2);
});

// A bridge wants 24 kHz (OpenAI Realtime), 16 kHz or 8 kHz (telephony) PCM: libopus decodes a
// 48 kHz stream to that rate and encodes from it, band-limited inside the codec.
for (const rate of [24000, 16000, 8000] as const) {
  test(`a 48 kHz Opus stream decodes to ${rate} Hz PCM (20 ms = ${rate / 50} samples) and PCM at ${rate} Hz encodes to Opus a 48 kHz decoder plays`, () => {
    const frequency = 440;
    const enc48 = createOpusEncoder({ application: 'voip' });
    const dec = createOpusDecoder({ sampleRate: rate });
    const enc = createOpusEncoder({ sampleRate: rate, application: 'voip' });
    const dec48 = createOpusDecoder();
    assert.equal(dec.sampleRate, rate);
    const gen48 = createToneGenerator({ frequency, amplitude: 0.5 });
    const genLow = createToneGenerator({ frequency, amplitude: 0.5, sampleRate: rate, frameSamples: rate / 50 });
    const down: Int16Array[] = [];
    const up: Int16Array[] = [];
    const sentLow: Int16Array[] = [];
    for (let i = 0; i < 50; i++) {
      const frame = dec.decode(enc48.encode(gen48.nextFrame()));
      assert.equal(frame.length, rate / 50);
      down.push(frame);
      const low = genLow.nextFrame();
      sentLow.push(low);
      const back = dec48.decode(enc.encode(low));
      assert.equal(back.length, OPUS_FRAME_SAMPLES);
      up.push(back);
    }
    const skip = rate / 10; // 100 ms of codec start-up
    const a = analyzeTone(concat(down).subarray(skip), { sampleRate: rate });
    assert.ok(Math.abs(a.frequency - frequency) < 3 && a.purity > 0.9, `decoded at ${rate}: ${a.frequency} Hz, purity ${a.purity}`);
    const b = analyzeTone(concat(up).subarray(4800));
    assert.ok(Math.abs(b.frequency - frequency) < 3 && b.purity > 0.9, `encoded from ${rate}: ${b.frequency} Hz, purity ${b.purity}`);
    const ratioDb = 20 * Math.log10(rms(concat(up).subarray(4800)) / rms(concat(sentLow).subarray(skip)));
    assert.ok(Math.abs(ratioDb) < 1.5, `energy through ${rate} Hz changed by ${ratioDb.toFixed(2)} dB`);
    assert.throws(() => enc.encode(new Int16Array(OPUS_FRAME_SAMPLES)), { code: 'ERR_MEDIA_BAD_FRAME_SIZE' });
  });
}

test('the encoder takes exactly one 20 ms frame and rejects other sizes', () => {
  const enc = createOpusEncoder({ channels: 1 });
  for (const n of [0, 959, 961, 1920]) {
    assert.throws(
      () => enc.encode(new Int16Array(n)),
      (e: unknown) => e instanceof MediaError && e.code === 'ERR_MEDIA_BAD_FRAME_SIZE',
      `${n}`,
    );
  }
  const stereo = createOpusEncoder({ channels: 2 });
  assert.ok(stereo.encode(new Int16Array(1920)).length > 0);
  assert.throws(() => stereo.encode(new Int16Array(960)), { code: 'ERR_MEDIA_BAD_FRAME_SIZE' });
});

test('bad options are rejected with ERR_MEDIA_BAD_OPTION', () => {
  assert.throws(() => createOpusEncoder({ sampleRate: 44100 as 48000 }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => createOpusDecoder({ sampleRate: 32000 as 48000 }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => createOpusEncoder({ channels: 3 as 1 }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => createOpusEncoder({ application: 'music' as 'voip' }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => createOpusEncoder({ bitrate: 10 }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => createOpusDecoder({ channels: 0 as 1 }), { code: 'ERR_MEDIA_BAD_OPTION' });
});

test('the decoder rejects an empty packet and a truncated multi-frame packet', () => {
  const dec = createOpusDecoder();
  assert.throws(() => dec.decode(Buffer.alloc(0)), { code: 'ERR_MEDIA_OPUS_DECODE_FAILED' });
  // RFC 6716 §3.2.5: code 3 (arbitrary frame count) with no frame-count byte is malformed.
  assert.throws(() => dec.decode(Buffer.from([0x03])), { code: 'ERR_MEDIA_OPUS_DECODE_FAILED' });
});

test('close() is idempotent and later use throws ERR_MEDIA_CLOSED', () => {
  const enc = createOpusEncoder();
  const dec = createOpusDecoder();
  const packet = enc.encode(new Int16Array(960));
  enc.close();
  enc.close();
  dec.close();
  dec.close();
  assert.throws(() => enc.encode(new Int16Array(960)), { code: 'ERR_MEDIA_CLOSED' });
  assert.throws(() => dec.decode(packet), { code: 'ERR_MEDIA_CLOSED' });
});

test('encoded packets do not alias each other', () => {
  const enc = createOpusEncoder();
  const gen = createToneGenerator({ frequency: 440 });
  const first = enc.encode(gen.nextFrame());
  const copy = Buffer.from(first);
  enc.encode(createToneGenerator({ frequency: 3000 }).nextFrame());
  assert.deepEqual(first, copy);
});
