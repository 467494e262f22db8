// The media-stream handler against a Node WebSocket agent in this process (the Python agent's
// end-to-end test is test/e2e/media-stream-python.test.ts): customParameters from the request only,
// bounded; the agent's messages read totally (bad ones counted, never thrown); µ-law media of any
// length re-framed to 20 ms Opus frames; clear flushes and settles marks; binary frames and floods
// are dropped and counted; an unreachable agent rejects the factory (the POST's 502).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import { mulawEncode } from '../../src/media/mulaw.ts';
import { generateTone } from '../../src/media/tone.ts';
import { createMediaStreamHandlerFactory } from '../../src/transceiver/handlers/media-stream/media-stream-handler.ts';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { mediaStreamMetrics } from '../../src/transceiver/transceiver-metrics.ts';
import { customParameters, readAgentMessage } from '../../src/transceiver/handlers/media-stream/media-stream-messages.ts';
import { waitFor } from '../support/wait-for.ts';
import { inbound, recordingContext } from './fake-context.ts';
import { encodeDistinctTone } from '../../src/client/audio.ts';
import { mulawDecode } from '../../src/media/mulaw.ts';
import { CODEC_MODES, closeCodecModes } from './codec-modes.ts';

let wss: WebSocketServer;
let url: string;
const agents: WebSocket[] = [];
const received: Record<string, unknown>[][] = [];
/** Each agent's messages as they arrived: the text, and whether the frame was binary. */
const raw: { text: string; isBinary: boolean }[][] = [];

before(async () => {
  wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((r) => wss.once('listening', r));
  url = `ws://127.0.0.1:${(wss.address() as { port: number }).port}/stream`;
  wss.on('connection', (ws) => {
    const log: Record<string, unknown>[] = [];
    agents.push(ws);
    received.push(log);
    const texts: { text: string; isBinary: boolean }[] = [];
    raw.push(texts);
    ws.on('message', (d, isBinary) => {
      texts.push({ text: String(d), isBinary });
      log.push(JSON.parse(String(d)) as Record<string, unknown>);
    });
  });
});

after(async () => {
  await closeCodecModes();
  for (const ws of agents) ws.terminate();
  await new Promise((r) => wss.close(r));
});

test('customParameters: query as given, session flattened to dotted keys, query wins, bounded', () => {
  const p = customParameters({ lang: 'de', model: 'q' }, { model: 's', audio: { output: { voice: 'marin' } }, tools: [1], n: 3 });
  assert.deepEqual(p, { lang: 'de', model: 'q', 'audio.output.voice': 'marin', tools: '[1]', n: '3' });
  const many = Object.fromEntries(Array.from({ length: 100 }, (_, i) => [`k${i}`, 'x'.repeat(5000)]));
  const bounded = customParameters({}, many);
  assert.equal(Object.keys(bounded).length, 64);
  assert.ok(Object.values(bounded).every((v) => v.length === 1024));
});

test('agent messages are read totally: media, mark, clear; others ignored or invalid, never thrown', () => {
  assert.deepEqual(readAgentMessage('{"event":"clear","streamSid":"MZ1"}'), { event: 'clear' });
  assert.deepEqual(readAgentMessage('{"event":"mark","mark":{"name":"a"}}'), { event: 'mark', name: 'a' });
  const m = readAgentMessage(JSON.stringify({ event: 'media', media: { payload: Buffer.from([1, 2, 3]).toString('base64') } }));
  assert.ok(m.event === 'media' && m.payload.equals(Buffer.from([1, 2, 3])));
  assert.equal(readAgentMessage('{"event":"dance"}').event, 'ignored');
  for (const bad of [
    '',
    'null',
    '[]',
    '{"event":1}',
    '{"event":"media","media":{"payload":"*"}}',
    '{"event":"mark","mark":{}}',
    `{"event":"mark","mark":{"name":"${'x'.repeat(300)}"}}`,
  ])
    assert.equal(readAgentMessage(bad).event, 'invalid', bad);
});

for (const mode of CODEC_MODES) {
  test(`connected then start; µ-law media of any length becomes 20 ms frames; mark after playback; clear flushes and settles marks (${mode.name})`, async () => {
    const metrics = mediaStreamMetrics(new MetricsRegistry());
    const ctx = recordingContext('rtc_test');
    let marks: ((played: boolean) => void)[] = [];
    let cleared = 0;
    Object.assign(ctx, {
      request: { query: { scenario: 'x' }, session: {} },
      mark: (done: (played: boolean) => void) => marks.push(done),
      clearAudio: () => {
        cleared++;
        const m = marks;
        marks = [];
        for (const d of m) d(false);
        return 0;
      },
    });
    const handler = await createMediaStreamHandlerFactory({ url, metrics, codecs: mode.codecs() })(ctx);
    const agent = agents.at(-1)!;
    const log = received.at(-1)!;
    await waitFor(() => log.length >= 2, 5000, 'connected and start');
    assert.deepEqual(
      log.map((m) => m.event),
      ['connected', 'start'],
    );
    const start = log[1].start as Record<string, unknown>;
    assert.equal(start.callSid, 'rtc_test');
    assert.deepEqual(start.customParameters, { scenario: 'x' });
    // 70 ms of tone in one message: three 20 ms frames now, 10 ms waiting.
    const tone = mulawEncode(generateTone(70, { frequency: 440, amplitude: 0.3, sampleRate: 8000 }));
    agent.send(JSON.stringify({ event: 'media', streamSid: 'x', media: { payload: tone.toString('base64') } }));
    agent.send(JSON.stringify({ event: 'mark', streamSid: 'x', mark: { name: 'one' } }));
    await waitFor(() => marks.length === 1, 5000, 'the mark reached the call');
    // The mark padded the partial frame: four frames went to the call.
    assert.equal(ctx.sent.length, 4);
    marks.shift()!(true);
    await waitFor(() => log.some((m) => m.event === 'mark'), 5000, 'mark echoed');
    agent.send(JSON.stringify({ event: 'mark', streamSid: 'x', mark: { name: 'two' } }));
    await waitFor(() => marks.length === 1, 5000, 'second mark');
    agent.send(JSON.stringify({ event: 'clear', streamSid: 'x' }));
    await waitFor(() => log.filter((m) => m.event === 'mark').length === 2, 5000, 'the cleared mark came back');
    assert.equal(cleared, 1);
    assert.deepEqual(
      log.filter((m) => m.event === 'mark').map((m) => (m.mark as { name: string }).name),
      ['one', 'two'],
    );
    agent.send(Buffer.from([1, 2, 3]), { binary: true });
    agent.send('{"event":"media","media":{"payload":"!!"}}');
    await waitFor(() => metrics.drops.bad_agent_message.value >= 2, 5000, 'drops counted');
    assert.equal(metrics.drops.bad_agent_message.value, 2);
    assert.ok(log.every((m, i) => m.sequenceNumber === String(i + 1) && typeof m.streamSid === 'string'));
    // The same counts for this call (GET stats.handler) and in /metrics.
    const stats = handler.stats!() as Record<string, number> & { drops: Record<string, number>; pcmDrops: Record<string, number> };
    assert.deepEqual(
      [stats.messagesFromAgent, stats.marksReceived, stats.marksSent, stats.clears, stats.drops.bad_agent_message],
      [6, 2, 2, 1, 2],
    );
    assert.equal(stats.messagesToAgent, log.length);
    assert.equal(stats.bytesToAgent, metrics.bytes.to_agent.value);
    assert.equal(stats.bytesFromAgent, metrics.bytes.from_agent.value);
    assert.ok(stats.bytesFromAgent > tone.length, 'the base64 media counts');
    assert.deepEqual(
      [
        metrics.messages.from_agent.value,
        metrics.actions.mark_received.value,
        metrics.actions.mark_sent.value,
        metrics.actions.clear.value,
      ],
      [6, 2, 2, 1],
    );
    assert.equal(stats.pcmDrops.output_full, 0);
    handler.close();
    await waitFor(() => log.at(-1)?.event === 'stop', 5000, 'stop');
    assert.equal(metrics.messages.to_agent.value, log.length, 'stop counted too');
  });

  test(`an agent that closes its socket ends the call with agent_closed; one that cannot be reached rejects the factory (${mode.name})`, async () => {
    const ctx = recordingContext();
    const handler = await createMediaStreamHandlerFactory({ url, codecs: mode.codecs() })(ctx);
    agents.at(-1)!.close(1000, 'bye');
    await waitFor(() => ctx.hangups.length === 1, 5000, 'hang-up');
    assert.deepEqual(ctx.hangups, ['agent_closed']);
    assert.deepEqual(ctx.hangupDetails, ['1000 bye'], "the close code and the agent's reason: the call's close detail");
    assert.match(String((ctx.events[0] as { error?: { message?: string } }).error?.message), /bye/);
    handler.close();
    const metrics = mediaStreamMetrics(new MetricsRegistry());
    await assert.rejects(
      Promise.resolve(createMediaStreamHandlerFactory({ url: 'ws://127.0.0.1:9/x', metrics })(recordingContext())),
      /media-stream agent at ws:\/\/127\.0\.0\.1:9\/x: .*ECONNREFUSED/,
    );
    assert.equal(metrics.dialFailures.refused.value, 1);
    // An agent that answers the upgrade with 403: counted as http_status.
    const refusing = new WebSocketServer({ host: '127.0.0.1', port: 0, verifyClient: (_info, cb) => cb(false, 403) });
    await new Promise((r) => refusing.once('listening', r));
    const port = (refusing.address() as { port: number }).port;
    await assert.rejects(
      Promise.resolve(createMediaStreamHandlerFactory({ url: `ws://127.0.0.1:${port}/x`, metrics })(recordingContext())),
      /HTTP 403/,
    );
    assert.equal(metrics.dialFailures.http_status.value, 1);
    await new Promise((r) => refusing.close(r));
  });

  test(`caller audio goes to each agent as text \`media\` messages, 20 ms of µ-law each, in order, with the JSON Twilio sends; frames of several calls in one turn all arrive (${mode.name})`, async () => {
    const frames = encodeDistinctTone(440, 0.2);
    const calls = await Promise.all(
      [0, 1, 2].map(async (k) => {
        const handler = await createMediaStreamHandlerFactory({ url, codecs: mode.codecs() })(recordingContext(`rtc_${k}`));
        return { handler, log: received.at(-1)!, texts: raw.at(-1)! };
      }),
    );
    for (const c of calls) await waitFor(() => c.log.length >= 2, 5000, 'connected and start');
    // The frames of all three calls in one turn, as one batch of received packets gives them.
    for (let i = 0; i < frames.length; i++) for (const c of calls) c.handler.onAudio(inbound(frames[i], i + 1));
    for (const c of calls) await waitFor(() => c.log.filter((m) => m.event === 'media').length === frames.length, 5000, 'media');
    for (const c of calls) {
      const streamSid = (c.log[1].start as { streamSid: string }).streamSid;
      const media = c.texts.slice(2);
      // In order, nothing held back: the jitter buffer waits only for a gap.
      assert.equal(media.length, frames.length);
      media.forEach((m, i) => {
        assert.equal(m.isBinary, false, 'text frames only');
        const parsed = JSON.parse(m.text) as { media: { payload: string } };
        assert.equal(
          m.text,
          JSON.stringify({
            event: 'media',
            sequenceNumber: String(i + 3),
            media: { track: 'inbound', chunk: String(i + 1), timestamp: String(i * 20), payload: parsed.media.payload },
            streamSid,
          }),
        );
        const pcm = mulawDecode(Buffer.from(parsed.media.payload, 'base64'));
        assert.equal(pcm.length, 160, '20 ms at 8 kHz');
      });
      // The tone is there (not silence) once the decoder has started.
      const last = mulawDecode(Buffer.from((JSON.parse(media.at(-1)!.text) as { media: { payload: string } }).media.payload, 'base64'));
      assert.ok(Math.max(...last.map(Math.abs)) > 1000, 'the caller tone reached the agent');
      c.handler.close();
    }
    for (const c of calls) await waitFor(() => c.log.at(-1)?.event === 'stop', 5000, 'stop after the last media');
  });
}
