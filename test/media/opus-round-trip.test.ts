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
