// The PCM handler layer's jitter buffer on the seeded netem (issue #16): our client sends 250
// Opus frames of a 440 Hz tone to a transceiver session under 5 % loss, 5 % reordering (+30 ms),
// ±4 ms jitter and 2 % duplicates; a PCM handler at 16 kHz gets exactly one 20 ms frame per
// sequence number, in order, with the lost ones concealed and counted, each delivered within a
// bounded lag of its media time, and the audio is still the tone. When the caller's Opus carries
// in-band FEC (useinbandfec=1, as Chromium sends it), lost frames are rebuilt from the next packet
// (counted apart from the codec's PLC) and are close to what was sent.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hasTone } from '../../src/media/analysis.ts';
import { createOpusEncoder } from '../../src/media/opus.ts';
import { createToneGenerator } from '../../src/media/tone.ts';
import { createRecoveringDecoder } from '../../src/media/opus-recovery.ts';
import { glide, snrDb } from '../support/speech-like.ts';
import { pcmHandler } from '../../src/transceiver/handlers/pcm.ts';
import type { PcmDropReason, PcmHandlerContext } from '../../src/transceiver/handlers/pcm.ts';
import { CallPair } from './call-pair.ts';

const FRAMES = 250;
const BAD = { latencyMs: 20, jitterMs: 4, loss: 0.05, reorder: 0.05, reorderExtraMs: 30, duplicate: 0.02 };

test('5 % loss with reordering: one 16 kHz frame per 20 ms of media, gaps concealed and counted, bounded lag', () => {
  const gen = createToneGenerator({ frequency: 440, amplitude: 0.4 });
  const enc = createOpusEncoder({ application: 'audio' });
  const frames = Array.from({ length: FRAMES }, () => enc.encode(gen.nextFrame()));
  const got: { pcm: Int16Array; concealed: boolean; index: number; at: number }[] = [];
  let ctxRef: PcmHandlerContext | undefined;
  const drops: Record<string, number> = {};
  const onDrop = (reason: PcmDropReason): void => void (drops[reason] = (drops[reason] ?? 0) + 1);
  const handler = pcmHandler({ sampleRate: 16000, onDrop }, (ctx) => {
    ctxRef = ctx;
    return {
      onPcm: (pcm, info) => got.push({ pcm, concealed: info.concealed, index: info.index, at: pair.now }),
      close() {},
    };
  });
  const pair: CallPair = new CallPair({ seed: 'jitter-netem', profile: BAD, frames, handler });
  pair.runUntilTrue(() => pair.session.state === 'connected', 10_000, 'connected under loss');
  pair.runUntil(pair.now + FRAMES * 20 + 2_000);
  const jitter = ctxRef!.jitter;
  assert.ok(pair.net.stats.lost > 0 && pair.net.stats.reordered > 0, JSON.stringify(pair.net.stats));
  // Every frame is 20 ms at 16 kHz, indexes run 0, 1, 2, … with no gap.
  assert.ok(got.every((g, i) => g.index === i && g.pcm.length === 320));
  const concealed = got.filter((g) => g.concealed).length;
  assert.equal(concealed, jitter.lost, JSON.stringify(jitter));
  assert.ok(concealed > 0, 'some frames were lost and concealed');
  assert.equal(got.length, jitter.delivered + jitter.lost);
  // The depth is 3 frames: all but the last few of what the client sent come out (the first frames may precede SRTP keys).
  assert.ok(got.length >= FRAMES - 10 && got.length <= FRAMES, `${got.length} frames for ${FRAMES} sent`);
  // One frame per 20 ms: frame i leaves no later than ~4 frames after frame 0's time + i·20 ms (depth + reordering).
  const t0 = got[0].at;
  const lags = got.map((g) => g.at - (t0 + g.index * 20));
  assert.ok(Math.max(...lags) <= 120 && Math.min(...lags) >= -60, `lag ${Math.min(...lags)}..${Math.max(...lags)} ms`);
  const audio = new Int16Array(got.length * 320);
  got.forEach((g, i) => audio.set(g.pcm, i * 320));
  assert.ok(hasTone(audio.subarray(3200), 440, { sampleRate: 16000, minPurity: 0.5 }).found);
  // Late frames and duplicates are drops, counted by reason (the metric) and in the call's GET stats
  // (the network's duplicates stop at SRTP's replay window, so none reach the jitter buffer here).
  assert.equal(drops.duplicate_caller_audio ?? 0, jitter.duplicate);
  assert.equal(drops.late_caller_audio ?? 0, jitter.late);
  const stats = pair.session.stats().handler as { concealed: number; framesToHandler: number; pcmDrops: Record<string, number> };
  assert.equal(stats.concealed, jitter.lost);
  assert.equal(stats.framesToHandler, got.length);
  assert.equal(stats.pcmDrops.duplicate_caller_audio, jitter.duplicate);
});

test('5 % loss with in-band FEC from the caller: lost frames are rebuilt from the next packet, counted apart from PLC, close to what was sent', () => {
  const enc = createOpusEncoder({ application: 'voip', bitrate: 32000, inbandFecLossPercent: 10 });
  const frames = glide(FRAMES, 48000).map((f) => enc.encode(f));
  const refDecoder = createRecoveringDecoder(16000);
  assert.ok(!(refDecoder instanceof Error), String(refDecoder));
  const reference = frames.map((f) => refDecoder.decode(f));
  const got: { pcm: Int16Array; concealed: boolean; fec: boolean }[] = [];
  const handler = pcmHandler({ sampleRate: 16000 }, () => ({
    onPcm: (pcm, info) => got.push({ pcm, concealed: info.concealed, fec: info.fec }),
    close() {},
  }));
  const pair: CallPair = new CallPair({ seed: 'jitter-netem-fec', profile: BAD, frames, handler });
  pair.runUntilTrue(() => pair.session.state === 'connected', 10_000, 'connected under loss');
  pair.runUntil(pair.now + FRAMES * 20 + 2_000);
  const stats = pair.session.stats().handler as Record<string, number>;
  const lost = got.filter((g) => g.concealed).length;
  const fec = got.filter((g) => g.fec);
  assert.ok(lost > 0);
  assert.ok(fec.length > 0 && fec.length >= lost / 2, `${fec.length} of ${lost} lost frames from FEC`);
  assert.equal(stats.recoveredByFec, fec.length);
  assert.equal(stats.recoveredByFec + stats.concealedByPlc, lost, JSON.stringify(stats));
  assert.equal(stats.concealedByRepeat, 0, 'libopus did every concealment');
  // Which sent frame the first one the handler got was (the first may precede SRTP keys): the best match.
  const offsets = Array.from({ length: 16 }, (_, k) => k);
  const score = (k: number): number => snrDb(got[30].pcm, reference[30 + k]);
  const k = offsets.reduce((a, b) => (score(b) > score(a) ? b : a));
  const fecSnr = got.flatMap((g, i) => (g.fec ? [snrDb(g.pcm, reference[i + k])] : []));
  const mean = fecSnr.reduce((a, b) => a + b, 0) / fecSnr.length;
  console.log(`# ${fec.length} of ${lost} lost frames from FEC, ${mean.toFixed(1)} dB from the lossless decode (offset ${k})`);
  assert.ok(mean > 10, `${mean} dB`);
});
