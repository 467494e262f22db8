// The realtime handler end to end: `parley dev` (relay + transceiver children) with
// PARLEY_REALTIME_URL pointing at the Realtime-protocol test model (test/support/realtime-model.ts),
// and `parley call` through the relay. The model hears the caller's tone at its frequency (Opus
// 48 kHz → 24 kHz PCM survived), the caller hears the model's tone (24 kHz → 48 kHz → Opus), the
// model got session.update with PCM16 24 kHz forced both ways; barge-in (caller audio starting
// while the reply plays → speech_started) stops the frames within 150 ms and truncates the item
// at a plausible audio_end_ms; an unreachable or refusing model gets 502 agent_unavailable; a
// model closing mid-call ends the call with agent_closed. The handler's drops are in /metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile, writeWavFile } from '../../src/media/wav.ts';
import { generateTone } from '../../src/media/tone.ts';
import { startRealtimeModel } from '../support/realtime-model.ts';
import type { RealtimeModel } from '../support/realtime-model.ts';
import { waitFor } from '../support/wait-for.ts';
import { metricSum, recordingHasTone, runCall, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

let model: RealtimeModel;
let refusing: RealtimeModel;
let dev: DevStack;
let dir: string;
const OFFER = readFile(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-realtime-'));
  model = await startRealtimeModel({ replyHz: 660, replyMs: 600 });
  refusing = await startRealtimeModel({ refuseWith: 403 });
  dev = await startDev([], 60_000, { PARLEY_REALTIME_URL: model.url, PARLEY_REALTIME_MODEL: 'parley-test' });
});

after(async () => {
  await dev?.stop();
  await model?.close();
  await refusing?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

test('the model hears the caller at 440 Hz and the caller hears the model at 660 Hz, through the relay', { timeout: 60_000 }, async () => {
  const wav = join(dir, 'heard.wav');
  const before = model.connections;
  const r = await runCall(dev.ready.signaling, ['--tone', '440', '--seconds', '4', '--record', wav]);
  assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}\n${dev.log()}`);
  const conn = before + 1;
  const heard = model.heard.filter((h) => h.connection === conn);
  assert.ok(heard.length >= 2, `the model heard ${heard.length} seconds`);
  for (const h of heard.slice(1)) assert.ok(Math.abs(h.frequency - 440) < 2, `the model heard ${h.frequency} Hz`);
  const update = model.events.find((e) => e.connection === conn && e.event.type === 'session.update')?.event as
    { session: { audio: { input: { format: unknown }; output: { format: unknown } } } } | undefined;
  assert.deepEqual(update?.session.audio.input.format, { type: 'audio/pcm', rate: 24000 });
  assert.deepEqual(update?.session.audio.output.format, { type: 'audio/pcm', rate: 24000 });
  const appends = model.events.filter((e) => e.connection === conn && e.event.type === 'input_audio_buffer.append');
  assert.ok(appends.length >= 60, `${appends.length} appends of 40 ms for ~4 s`);
  const pcm = await readWavFile(wav);
  const check = recordingHasTone(pcm.samples, 660);
  assert.ok(check.found && check.audibleFrames >= 40, JSON.stringify(check));
  // This caller opened no data channel: the model's events for it (response.*, transcripts) are
  // counted drops, by reason, in /metrics.
  const metrics = dev.ready.transceiverMetrics;
  const notSent = await metricSum(metrics, 'parley_transceiver_realtime_drops_total', 'reason="event_not_sent"');
  assert.ok(notSent >= 5, `event_not_sent drops: ${notSent}`);
  assert.equal(await metricSum(metrics, 'parley_transceiver_realtime_drops_total', 'reason="bad_model_event"'), 0);
});

test('barge-in: caller audio during the reply stops its frames within 150 ms and truncates the item', { timeout: 60_000 }, async () => {
  // Silence for 1 s (the model answers with 600 ms of tone), then the caller speaks at 300 ms into the reply.
  const silence = new Int16Array(48000 + 48000 * 0.3);
  const voice = generateTone(2700, { frequency: 440, amplitude: 0.4 });
  const input = new Int16Array(silence.length + voice.length);
  input.set(voice, silence.length);
  const wav = join(dir, 'barge.wav');
  await writeWavFile(wav, { sampleRate: 48000, channels: 1, samples: input });
  const conn = model.connections + 1;
  const call = runCall(dev.ready.signaling, ['--wav', wav, '--seconds', '4']);
  // Watch the call's outbound frames from the transceiver (GET …/calls/{id}).
  await waitFor(() => model.speechStarted.some((s) => s.connection === conn), 20_000, 'speech_started');
  const said = model.speechStarted.find((s) => s.connection === conn)!.at;
  await waitFor(() => model.truncates.some((t) => t.connection === conn), 5_000, 'a truncate');
  const truncate = model.truncates.find((t) => t.connection === conn)!;
  assert.ok(truncate.receivedAt - said < 150, `truncate ${truncate.receivedAt - said} ms after speech_started`);
  assert.equal(truncate.content_index, 0);
  assert.match(truncate.item_id, /^item_/);
  // The reply started ~1 s into the call and the caller spoke ~300 ms into it: played, not all of 600 ms.
  assert.ok(truncate.audio_end_ms >= 100 && truncate.audio_end_ms <= 560, `audio_end_ms ${truncate.audio_end_ms}`);
  const r = await call;
  assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}`);
});

test('frames stop reaching the caller within 150 ms of the barge-in (transceiver counters)', { timeout: 60_000 }, async () => {
  // A long reply, so that most of it is still queued when the caller speaks.
  const longModel = await startRealtimeModel({ replyHz: 660, replyMs: 5000, maxResponses: 1 });
  const stack = await startDev([], 60_000, { PARLEY_REALTIME_URL: longModel.url });
  try {
    const silence = new Int16Array(48000 * 1.6);
    const voice = generateTone(2400, { frequency: 440, amplitude: 0.4 });
    const input = new Int16Array(silence.length + voice.length);
    input.set(voice, silence.length);
    const wav = join(dir, 'barge-long.wav');
    await writeWavFile(wav, { sampleRate: 48000, channels: 1, samples: input });
    const call = runCall(stack.ready.signaling, ['--wav', wav, '--seconds', '4']);
    await waitFor(() => longModel.truncates.length > 0, 20_000, 'a truncate');
    const metrics = stack.ready.transceiverMetrics;
    // Datagrams the transceiver sends (RTP, and now and then RTCP or a STUN answer).
    const sent = (): Promise<number> => metricSum(metrics, 'parley_transceiver_packets_total', 'direction="out"');
    const t0 = await sent();
    await new Promise((r) => setTimeout(r, 150));
    const t1 = await sent();
    await new Promise((r) => setTimeout(r, 500));
    const t2 = await sent();
    const r = await call;
    assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}`);
    assert.ok(t2 - t1 <= 2, `frames kept going after the clear: ${t0} → ${t1} → ${t2}`);
    const trunc = longModel.truncates[0];
    assert.ok(trunc.audio_end_ms < 5000 - 2000, `most of the 5 s reply was cut: audio_end_ms ${trunc.audio_end_ms}`);
    // What the caller got holds far less than the 5 s reply: playback stopped.
    const frames = (r.summary.stats as Record<string, number>).packetsReceived;
    assert.ok(frames < 150, `the caller received ${frames} frames`);
  } finally {
    await stack.stop();
    await longModel.close();
  }
});

test(
  'a model that refuses (HTTP 403) or is unreachable: the POST gets 502 agent_unavailable with the reason',
  { timeout: 60_000 },
  async () => {
    const offer = await OFFER;
    for (const [url, reason] of [
      [refusing.url, /HTTP 403/],
      ['ws://127.0.0.1:9/v1/realtime', /ECONNREFUSED/],
    ] as const) {
      const stack = await startDev([], 60_000, { PARLEY_REALTIME_URL: url });
      try {
        const res = await fetch(stack.ready.signaling, { method: 'POST', body: offer, headers: { 'content-type': 'application/sdp' } });
        assert.equal(res.status, 502);
        const body = (await res.json()) as { error: { code: string; message: string } };
        assert.equal(body.error.code, 'ERR_SIGNALING_AGENT_UNAVAILABLE');
        assert.match(body.error.message, reason);
      } finally {
        await stack.stop();
      }
    }
  },
);

test('the model closes mid-call: the call ends with agent_closed', { timeout: 60_000 }, async () => {
  const conn = model.connections + 1;
  const call = runCall(dev.ready.signaling, ['--tone', '440', '--seconds', '6']);
  await waitFor(() => model.heard.some((h) => h.connection === conn), 20_000, 'the model heard a second');
  model.closeConnections();
  const r = await call;
  const location = r.summary.location as string;
  const state = (await (await fetch(location)).json()) as { state: string; closeReason: string };
  assert.equal(state.state, 'closed');
  assert.equal(state.closeReason, 'agent_closed', JSON.stringify(state));
});
