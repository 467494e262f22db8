// The bridges' inline codec (media/frame-codec.ts) on libopus through Parley's addon: one call's
// decoded frames come in one array (valid while the sink runs), its packets are views of shared
// per-call slabs that later encodes never overwrite, and both still carry the audio: the packets
// decode to the tone, and the decoded frames equal what a fresh decoder gives for the same packets.
// CI=true: libopus must load (nothing skips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeTone } from '../../src/media/analysis.ts';
import { inlineCodecs } from '../../src/media/frame-codec.ts';
import { createOpusDecoder } from '../../src/media/opus.ts';
import { createRecoveringDecoder, loadOpusAddon } from '../../src/media/opus-recovery.ts';
import { generateTone } from '../../src/media/tone.ts';

const addon = loadOpusAddon();
const skip = addon instanceof Error && process.env.CI !== 'true' ? addon.message : false;
const RATE = 24000;
const FRAME = RATE / 50;

test('packets: views of a few per-call slabs, each still what it was when handed over, and they decode to the tone', { skip }, () => {
  const packets: Buffer[] = [];
  const copies: Buffer[] = [];
  const codec = inlineCodecs.open(
    { sampleRate: RATE, recovery: false },
    {
      decoded() {},
      encoded(opus) {
        packets.push(opus);
        copies.push(Buffer.from(opus));
      },
    },
  );
  const tone = generateTone(4000, { frequency: 660, amplitude: 0.4, sampleRate: RATE });
  for (let i = 0; i < 200; i++) codec.encode(tone.subarray(i * FRAME, (i + 1) * FRAME));
  codec.close();
  assert.equal(packets.length, 200);
  // A later encode never wrote over a packet already handed over.
  packets.forEach((p, i) => assert.deepEqual(p, copies[i], `packet ${i}`));
  // 200 packets of ~70 B in a handful of 4 KB slabs, not one ArrayBuffer each.
  const slabs = new Set(packets.map((p) => p.buffer));
  assert.ok(slabs.size <= 10, `${slabs.size} backing buffers for 200 packets`);
  const dec = createOpusDecoder({ sampleRate: RATE });
  const pcm = new Int16Array(200 * FRAME);
  packets.forEach((p, i) => pcm.set(dec.decode(p), i * FRAME));
  const a = analyzeTone(pcm.subarray(RATE / 10), { sampleRate: RATE });
  assert.ok(Math.abs(a.frequency - 660) < 10 && a.purity > 0.9, `${a.frequency} Hz, purity ${a.purity}`);
});

test(
  "decoded frames: one array per call, equal to a fresh libopus decoder's frames; a bad packet is undefined; a wrong-size encode throws",
  { skip },
  () => {
    const tone = generateTone(1000, { frequency: 440, amplitude: 0.4, sampleRate: RATE });
    const packets: Buffer[] = [];
    const enc = inlineCodecs.open({ sampleRate: RATE, recovery: false }, { decoded() {}, encoded: (p) => packets.push(p) });
    for (let i = 0; i < 50; i++) enc.encode(tone.subarray(i * FRAME, (i + 1) * FRAME));
    enc.close();

    const arrays = new Set<Int16Array>();
    const frames: (Int16Array | undefined)[] = [];
    const codec = inlineCodecs.open(
      { sampleRate: RATE, recovery: true },
      {
        decoded(pcm) {
          if (pcm) arrays.add(pcm);
          frames.push(pcm?.slice());
        },
        encoded() {},
      },
    );
    assert.equal(codec.recovering, true);
    for (const p of packets) codec.decode('packet', p);
    codec.decode('packet', Buffer.alloc(0));
    codec.decode('conceal');
    assert.throws(() => codec.encode(new Int16Array(FRAME - 1)), { code: 'ERR_MEDIA_BAD_FRAME_SIZE' });
    codec.close();
    assert.equal(arrays.size, 1, 'every frame in the same array');
    // The same libopus, a decoder of its own: the shared array changed nothing.
    const reference = createRecoveringDecoder(RATE);
    assert.ok(!(reference instanceof Error), String(reference));
    packets.forEach((p, i) => assert.deepEqual(frames[i], reference.decode(p), `frame ${i}`));
    assert.equal(frames[50], undefined, 'the empty packet did not decode');
    assert.equal(frames[51]?.length, FRAME, 'concealment gave a frame');
  },
);
