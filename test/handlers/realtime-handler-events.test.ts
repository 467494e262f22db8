// The realtime handler against the test model in this process, with a recording context that
// has the members a call gives it (sendEvent, request.session): started/stopped per response,
// the client's session.update forwarded with the audio formats forced, other client events
// passed on, the client's output_audio_buffer.clear → cleared + truncate, audio deltas never
// sent as events, and a model that sends garbage counted, not fatal.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { createOpusEncoder } from '../../src/media/opus.ts';
import { createToneGenerator } from '../../src/media/tone.ts';
import { createRealtimeHandlerFactory } from '../../src/transceiver/handlers/realtime/realtime-handler.ts';
import type { RealtimeDropReason, RealtimeMediaHandler } from '../../src/transceiver/handlers/realtime/realtime-handler.ts';
import type { RealtimeEvent } from '../../src/transceiver/handlers/media-handler.ts';
import {
  appendEventBytes,
  forceAudioFormats,
  pcm16FromBase64,
  pcm16ToBase64,
} from '../../src/transceiver/handlers/realtime/realtime-events.ts';
import { startRealtimeModel } from '../support/realtime-model.ts';
import type { RealtimeModel } from '../support/realtime-model.ts';
import { waitFor } from '../support/wait-for.ts';
import { inbound, recordingContext } from './fake-context.ts';
import { CODEC_MODES, closeCodecModes } from './codec-modes.ts';

let model: RealtimeModel;
before(async () => {
  model = await startRealtimeModel({ replyHz: 660, replyMs: 400, chunkMs: 50, maxResponses: 1 });
});
after(async () => {
  await model.close();
  await closeCodecModes();
});

function frontContext(session: Record<string, unknown>) {
  const events: RealtimeEvent[] = [];
  const ctx = Object.assign(recordingContext(), {
    request: { query: {}, session },
    sendEvent: (e: RealtimeEvent) => (events.push(e), true),
  });
  return { ctx, events };
}

/** One second of a 440 Hz caller, as Opus frames into the handler. */
function speak(handler: RealtimeMediaHandler, seconds: number): void {
  const enc = createOpusEncoder();
  const tone = createToneGenerator({ frequency: 440, amplitude: 0.3 });
  for (let i = 0; i < 50 * seconds; i++) handler.onAudio(inbound(enc.encode(tone.nextFrame()), i));
  enc.close();
}

test('forceAudioFormats keeps the rest of the session and sets PCM16 24 kHz both ways', () => {
  const s = forceAudioFormats({
    instructions: 'hi',
    audio: { input: { format: { type: 'audio/pcmu' }, noise_reduction: null }, output: { voice: 'marin' } },
  });
  assert.deepEqual(s, {
    type: 'realtime',
    instructions: 'hi',
    audio: {
      input: { format: { type: 'audio/pcm', rate: 24000 }, noise_reduction: null },
      output: { voice: 'marin', format: { type: 'audio/pcm', rate: 24000 } },
    },
  });
});

test('an append built as bytes is exactly the JSON.stringify text of the event, and audio/pcm base64 decodes back to the samples', () => {
  const pcm = new Int16Array(960);
  for (let i = 0; i < pcm.length; i++) pcm[i] = Math.round(32767 * Math.sin(i / 3)) - (i % 2);
  const bytes = appendEventBytes(pcm);
  assert.equal(bytes.toString('utf8'), JSON.stringify({ type: 'input_audio_buffer.append', audio: pcm16ToBase64(pcm) }));
  const parsed = JSON.parse(bytes.toString('utf8')) as { type: string; audio: string };
  assert.equal(parsed.type, 'input_audio_buffer.append');
  assert.deepEqual(pcm16FromBase64(parsed.audio), pcm);
  // Lengths that need padding, and an empty chunk.
  for (const n of [0, 1, 2, 3, 5]) assert.deepEqual(pcm16FromBase64(pcm16ToBase64(pcm.subarray(0, n))), pcm.slice(0, n));
  // An odd byte count is not PCM16; characters outside the alphabet are skipped (as Buffer.from does).
  assert.equal(pcm16FromBase64(Buffer.from([1, 2, 3]).toString('base64')), undefined);
  // Into a scratch when it fits (a view of it), else a fresh array; the same samples either way.
  const scratch = new Int16Array(1000);
  const inScratch = pcm16FromBase64(pcm16ToBase64(pcm), scratch)!;
  assert.equal(inScratch.buffer, scratch.buffer);
  assert.deepEqual(inScratch, pcm);
  const small = new Int16Array(100);
  const fresh = pcm16FromBase64(pcm16ToBase64(pcm), small)!;
  assert.notEqual(fresh.buffer, small.buffer);
  assert.deepEqual(fresh, pcm);
  assert.equal(pcm16FromBase64(Buffer.from([1, 2, 3]).toString('base64'), scratch), undefined);
  const skipped = pcm16FromBase64('AQID\nBA==');
  assert.deepEqual(skipped && Buffer.from(skipped.buffer, skipped.byteOffset, skipped.byteLength), Buffer.from([1, 2, 3, 4]));
});

for (const mode of CODEC_MODES) {
  test(`a response: started, transcript and response events to the client (no audio deltas), 20 ms Opus frames to the call, stopped once played (${mode.name})`, async () => {
    const { ctx, events } = frontContext({ instructions: 'be brief' });
    const conn = model.connections + 1;
    const handler = await createRealtimeHandlerFactory({ url: model.url, model: 'm', codecs: mode.codecs() })(ctx);
    try {
      const update = await waitFor(
        () => model.events.find((e) => e.connection === conn && e.event.type === 'session.update'),
        5000,
        'session.update',
      );
      assert.equal((update.event as { session: { instructions: string } }).session.instructions, 'be brief');
      speak(handler, 1);
      await waitFor(() => events.some((e) => e.type === 'output_audio_buffer.stopped'), 5000, 'stopped');
      const types = events.map((e) => e.type);
      assert.equal(types[0], 'response.created');
      assert.ok(types.indexOf('output_audio_buffer.started') < types.indexOf('output_audio_buffer.stopped'));
      assert.ok(types.includes('response.output_audio_transcript.done') && types.includes('response.done'));
      assert.ok(!types.some((t) => t.includes('audio.delta')), 'audio goes as RTP, not as events');
      // 400 ms of model audio → 20 frames of 20 ms.
      assert.equal(ctx.sent.length, 20);
      handler.onEvent({ type: 'session.update', session: { instructions: 'x', audio: { output: { format: { type: 'audio/pcma' } } } } });
      handler.onEvent({ type: 'response.create' });
      await waitFor(() => model.events.some((e) => e.connection === conn && e.event.type === 'response.create'), 5000, 'response.create');
      const updates = model.events.filter((e) => e.connection === conn && e.event.type === 'session.update');
      assert.deepEqual((updates[1].event as { session: { audio: { output: { format: unknown } } } }).session.audio.output.format, {
        type: 'audio/pcm',
        rate: 24000,
      });
    } finally {
      handler.close();
    }
  });

  test(`the client's output_audio_buffer.clear while audio plays: cleared to the client, truncate to the model (${mode.name})`, async () => {
    const { ctx, events } = frontContext({});
    let queued = 0;
    let sent = 0;
    const cleared: number[] = [];
    Object.defineProperties(ctx, {
      queuedFrames: { get: () => queued },
      framesSent: { get: () => sent },
    });
    ctx.send = () => void queued++;
    ctx.clearAudio = () => (cleared.push(queued), (queued = 0), cleared.at(-1)!);
    ctx.mark = () => {};
    const drops: RealtimeDropReason[] = [];
    const m = await startRealtimeModel({ replyMs: 1000, maxResponses: 1 });
    const handler = await createRealtimeHandlerFactory({ url: m.url, onDrop: (r) => drops.push(r), codecs: mode.codecs() })(ctx);
    try {
      speak(handler, 1);
      await waitFor(() => queued === 50, 5000, 'the whole reply queued');
      sent = 7; // 140 ms played
      handler.onEvent({ type: 'output_audio_buffer.clear' });
      assert.deepEqual(cleared, [50]);
      assert.equal(events.at(-1)?.type, 'output_audio_buffer.cleared');
      const t = await waitFor(() => m.truncates[0], 5000, 'truncate');
      assert.equal(t.audio_end_ms, 140);
      assert.equal(t.content_index, 0);
      assert.deepEqual(drops, [], 'nothing dropped on the way');
    } finally {
      handler.close();
      await m.close();
    }
  });
}

test('appends and client events reach the model in the order asked, those of one turn written after it together; close sends what is queued before its close frame', async () => {
  const { ctx } = frontContext({});
  const conn = model.connections + 1;
  const handler = await createRealtimeHandlerFactory({ url: model.url })(ctx);
  const ofConn = () => model.events.filter((e) => e.connection === conn).map((e) => e.event.type);
  // Counts the handler's socket writes (ws's send, as the outbox calls it).
  let sends = 0;
  const send = WebSocket.prototype.send;
  WebSocket.prototype.send = function (this: WebSocket, ...args: Parameters<WebSocket['send']>) {
    sends++;
    return send.apply(this, args);
  } as WebSocket['send'];
  try {
    await waitFor(() => ofConn().includes('session.update'), 5000, 'session.update');
    sends = 0;
    // One turn: 200 ms of caller audio (5 appends of 40 ms) then a client event, then 40 ms more
    // and a second event; the appends are not written until the turn ends.
    const enc = createOpusEncoder();
    const tone = createToneGenerator({ frequency: 440, amplitude: 0.3 });
    for (let i = 0; i < 10; i++) handler.onAudio(inbound(enc.encode(tone.nextFrame()), i));
    handler.onEvent({ type: 'input_audio_buffer.commit' });
    for (let i = 10; i < 12; i++) handler.onAudio(inbound(enc.encode(tone.nextFrame()), i));
    handler.onEvent({ type: 'conversation.item.create', item: { type: 'message', role: 'user', content: [] } });
    enc.close();
    assert.equal(sends, 0, 'nothing written during the turn');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sends, 8, 'all written right after it');
    await waitFor(() => ofConn().includes('conversation.item.create'), 5000, 'the second client event');
    const A = 'input_audio_buffer.append';
    assert.deepEqual(ofConn().slice(1), [A, A, A, A, A, 'input_audio_buffer.commit', A, 'conversation.item.create']);
    // Queued in this turn, then the call ends in the same turn: the event still reaches the model.
    handler.onEvent({ type: 'response.cancel' });
    handler.close();
    await waitFor(() => ofConn().includes('response.cancel'), 5000, 'the event queued before close');
  } finally {
    WebSocket.prototype.send = send;
    handler.close();
  }
});
