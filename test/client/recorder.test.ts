// The recorder places packets by RTP timestamp, so a lost packet becomes 20 ms of silence. (The
// client's RTP stamping and RTCP RTT are the peer's: test/core/peer/.)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeTone, Recorder } from '../../src/client/audio.ts';

test('the recorder leaves silence where a packet is missing and keeps the total length', () => {
  const frames = encodeTone(440, 0.1); // 5 frames
  const r = new Recorder();
  for (const [i, f] of frames.entries()) if (i !== 2) r.add(1000 + i * 960, f);
  const pcm = r.toPcm();
  assert.equal(pcm.samples.length, 5 * 960);
  const gap = pcm.samples.subarray(2 * 960, 3 * 960);
  assert.ok(gap.every((v) => v === 0));
});
