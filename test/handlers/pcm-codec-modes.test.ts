// The PCM layer (handlers/pcm.ts) gives a handler the same frames whether its Opus work runs
// inline or on codec threads (media/codec-pool.ts): a caller stream with in-band FEC and two lost
// packets comes out as the same PCM, frame for frame (FEC and PLC included, in order, counted),
// each frame the handler's to keep;
// write() → frames to the call, a mark after them settles once they are queued, and flush()
// drops the encodes still on their way and settles a mark asked before it as not played.
// CI=true: libopus must load (nothing skips).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpusEncoder } from '../../src/media/opus.ts';
import { loadOpusAddon } from '../../src/media/opus-recovery.ts';
import { pcmHandler } from '../../src/transceiver/handlers/pcm.ts';
import type { PcmFrameInfo, PcmHandlerContext } from '../../src/transceiver/handlers/pcm.ts';
import { glide } from '../support/speech-like.ts';
import { waitFor } from '../support/wait-for.ts';
import { CODEC_MODES, closeCodecModes } from './codec-modes.ts';
import { inbound, recordingContext } from './fake-context.ts';

const skip = loadOpusAddon() instanceof Error && process.env.CI !== 'true' ? 'libopus is not loadable' : false;
after(() => closeCodecModes());

const LOST = new Set([20, 40]);

async function receive(
  mode: (typeof CODEC_MODES)[number],
): Promise<{ pcm: Int16Array[]; kept: Int16Array[]; info: PcmFrameInfo[]; stats: Record<string, unknown> }> {
  const enc = createOpusEncoder({ application: 'voip', bitrate: 32000, inbandFecLossPercent: 10 });
  const packets = glide(60, 48000).map((f) => enc.encode(f));
  const pcm: Int16Array[] = [];
  /** The arrays as onPcm got them: the handler's to keep (the codec reuses its own). */
  const kept: Int16Array[] = [];
  const info: PcmFrameInfo[] = [];
  const factory = pcmHandler({ sampleRate: 16000, codecs: mode.codecs() }, () => ({
    onPcm: (p, i) => (pcm.push(p.slice()), kept.push(p), info.push(i)),
    close() {},
  }));
  const handler = await factory(recordingContext());
  packets.forEach((p, i) => {
    if (!LOST.has(i)) handler.onAudio(inbound(p, i + 1));
  });
  // In-order frames leave at once, a gap waits for up to the depth (3 frames): all 60 come out.
  await waitFor(() => pcm.length === 60, 5000, 'every frame out of the jitter buffer');
  const stats = handler.stats!() as Record<string, unknown>;
  handler.close();
  return { pcm, kept, info, stats };
}

test('the same caller stream (FEC, two lost packets) gives the same PCM inline and on codec threads', { skip }, async () => {
  const [inline, threads] = [await receive(CODEC_MODES[0]), await receive(CODEC_MODES[1])];
  for (const r of [inline, threads]) {
    assert.deepEqual(
      r.info.map((i) => i.index),
      r.info.map((_, k) => k),
    );
    assert.deepEqual(
      r.info.flatMap((i) => (i.concealed ? [i.index] : [])),
      [20, 40],
    );
    assert.equal(r.stats.recoveredByFec, 2, JSON.stringify(r.stats));
    assert.deepEqual(r.kept, r.pcm, 'a frame kept as given is unchanged by the frames after it');
  }
  assert.deepEqual(threads.pcm, inline.pcm);
  assert.deepEqual(threads.info, inline.info);
});

for (const mode of CODEC_MODES) {
  test(
    `write, mark, flush (${mode.name}): frames reach the call, a mark after them once queued, flush cancels frames on their way and the mark`,
    { skip },
    async () => {
      const ctx = recordingContext();
      const marks: boolean[] = [];
      let pcm: PcmHandlerContext | undefined;
      const factory = pcmHandler({ sampleRate: 8000, codecs: mode.codecs() }, (c) => {
        pcm = c;
        return { onPcm() {}, close() {} };
      });
      const handler = await factory(ctx);
      const tone = new Int16Array(800).map((_, i) => Math.round(6000 * Math.sin(i / 3)));
      assert.equal(pcm!.write(tone), true);
      pcm!.mark((played) => marks.push(played));
      await waitFor(() => marks.length === 1, 5000, 'the mark');
      assert.equal(ctx.sent.length, 5, '100 ms at 8 kHz: five frames, queued before the mark settled');
      assert.deepEqual(marks, [true]);
      pcm!.write(tone);
      pcm!.mark((played) => marks.push(played));
      pcm!.flush();
      await waitFor(() => marks.length === 2, 5000, 'the second mark');
      assert.equal(marks[1], mode.codecs() === undefined, 'inline: queued and played before the flush; threads: dropped on its way');
      await new Promise((r) => setTimeout(r, 50));
      assert.equal(ctx.sent.length, mode.codecs() === undefined ? 10 : 5, 'no encode from before the flush reaches the call after it');
      handler.close();
    },
  );
}
