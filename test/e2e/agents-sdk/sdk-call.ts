// One Agents SDK call, as both browser tests run it (test/e2e/agents-sdk*.test.ts): the test
// mints an `ek_` secret with the API key at Parley's POST /v1/realtime/client_secrets, hands it
// to the page (./page.js, another origin), and the browser opens the page; behind Parley runs
// the realtime handler against the Realtime-protocol test model. What is asserted:
//   - connect() resolved on session.updated (not the SDK's 5 s fallback) and the SDK got
//     session.created first: `oai-events` opened;
//   - the call went through the relay: the page's selected candidate pair ends at the relay's
//     public address and port, and the transceiver saw the call arrive from it;
//   - the model got the agent's instructions (session.update passed through, formats forced)
//     and heard the caller's tone at its frequency after Opus 48 kHz → PCM 24 kHz;
//   - the page heard the model's tone (frequency and level of the remote track) and got the
//     transcript events;
//   - interrupt() stopped Parley's playback within 150 ms (the model got
//     conversation.item.truncate, sent as the queue is dropped, within 150 ms of interrupt() in
//     all rounds but at most one, that one under a second: the browser's send path can stall);
//     the page heard silence within 150 ms (the fastest of three rounds, the others with bounds
//     for a loaded machine: the browser's jitter buffer is on top) and it stayed silent;
//   - close() (no HTTP call) ended the call on the server within 2 s.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import type { RealtimeModel } from '../../support/realtime-model.ts';
import { waitFor } from '../../support/wait-for.ts';
import { metricLines } from '../helpers.ts';
import type { DevStack } from '../helpers.ts';
import { startSdkPage } from './sdk-page.ts';
import type { SdkPageReport } from './sdk-page.ts';

export const SDK_API_KEY = 'parley-test-api-key-0123456789';
/** The test model's reply: long enough that interrupt() lands while most of it is still queued. */
export const REPLY_HZ = 660;
export const REPLY_MS = 3000;
const INSTRUCTIONS = 'You are the Parley test agent: answer every second of audio with a tone.';

export interface SdkCallOptions {
  readonly dev: DevStack;
  readonly model: RealtimeModel;
  /** The caller's tone (the browser's fake microphone), Hz. */
  readonly callerHz: number;
  /** Opens the page in the browser; the returned function closes the browser. */
  readonly open: (url: string) => Promise<() => Promise<void>>;
  /** Browser output for failure messages. */
  readonly browserLog?: () => string;
  /**
   * connect() must resolve within this (default 5 000 ms: on session.updated, not on the SDK's own
   * 5 s fallback). session.updated must have arrived either way (checkPage).
   */
  readonly connectWithinMs?: number;
}

const auth = { authorization: `Bearer ${SDK_API_KEY}` };
/** The transceiver's metrics that tell how a call ended or why packets were dropped. */
const SERVER_VIEW = [
  'parley_transceiver_calls_',
  'parley_transceiver_session_drops_total',
  'parley_transceiver_drops_total',
  'parley_transceiver_dtls_drops_total',
  'parley_transceiver_sctp_drops_total',
  'parley_transceiver_ice_checks_total',
  'parley_transceiver_realtime_drops_total',
  'parley_transceiver_oai_event_drops_total',
  'parley_transceiver_handler_errors_total',
];

export async function sdkCall(t: TestContext, o: SdkCallOptions): Promise<void> {
  const { dev, model } = o;
  const secretsUrl = dev.ready.signaling.replace(/\/calls$/, '/client_secrets');
  const minted = await fetch(secretsUrl, {
    method: 'POST',
    headers: { ...auth, 'content-type': 'application/json' },
    body: JSON.stringify({ expires_after: { anchor: 'created_at', seconds: 120 }, session: { type: 'realtime', model: 'gpt-realtime' } }),
  });
  assert.equal(minted.status, 200, await minted.clone().text());
  const { value: ek } = (await minted.json()) as { value: string };
  assert.match(ek, /^ek_/);

  const conn = model.connections + 1;
  const page = await startSdkPage({ baseUrl: dev.ready.signaling, apiKey: ek, instructions: INSTRUCTIONS });
  let closeBrowser: (() => Promise<void>) | undefined;
  // What the servers saw too: `parley dev` logs only warnings, so a call the page gave up on
  // (e.g. "Connection closed before setup completed") shows its end reason and drops here.
  const failure = async (): Promise<string> =>
    `\nbrowser:\n${o.browserLog?.() ?? ''}\nparley dev:\n${dev.log()}` +
    `\ntransceiver metrics:\n${await metricLines(dev.ready.transceiverMetrics, SERVER_VIEW)}` +
    `\nrelay metrics:\n${await metricLines(dev.ready.relayMetrics, ['parley_relay_'])}` +
    `\nmodel connections: ${model.connections - conn + 1}`;
  try {
    closeBrowser = await o.open(page.url);
    const r = await page
      .waitFor((x) => x.phase === 'interrupted', 90_000, 'the page connected, heard the model and interrupted it')
      .catch(async (err: Error) => assert.fail(err.message + (await failure())));
    t.diagnostic(`page: ${JSON.stringify({ ...r, events: undefined, interrupts: undefined })}`);
    t.diagnostic(`interrupt() → silence: ${r.interrupts.map((i) => i.silentAfterMs.toFixed(0)).join(', ')} ms`);
    t.diagnostic(`page events: ${r.events.join(' ')}`);

    const callUrl = `${dev.ready.signaling}/${r.callId}`;
    const info = (await (await fetch(callUrl, { headers: auth })).json()) as {
      relay: string;
      handler: string;
      stats: { dataChannels: { channelsOpened: number } };
    };
    assert.equal(info.handler, 'realtime');
    assert.equal(info.relay, dev.ready.relay, 'the transceiver saw the call arrive through the relay');
    assert.ok(info.stats.dataChannels.channelsOpened >= 1, JSON.stringify(info.stats));

    // The model's side: the agent's session config reached it, it heard the caller's tone.
    // Parley's own session.update at setup (the secret's session), then the SDK's (the agent's config).
    type SessionUpdate = { session: { instructions?: string; audio: { input: { format: unknown }; output: { format: unknown } } } };
    const updates = model.events
      .filter((e) => e.connection === conn && e.event.type === 'session.update')
      .map((e) => e.event as SessionUpdate);
    assert.ok(
      updates.some((u) => u.session.instructions === INSTRUCTIONS),
      `the SDK's session.update reached the model: ${JSON.stringify(updates)}`,
    );
    for (const u of updates) {
      assert.deepEqual(u.session.audio.input.format, { type: 'audio/pcm', rate: 24000 });
      assert.deepEqual(u.session.audio.output.format, { type: 'audio/pcm', rate: 24000 });
    }
    const heard = await waitFor(
      () => {
        const h = model.heard.filter((x) => x.connection === conn);
        return h.length >= 2 ? h : undefined;
      },
      15_000,
      'the model heard two seconds of the caller',
    );
    t.diagnostic(`the model heard: ${JSON.stringify(heard)}`);
    assert.ok(
      heard.some((h) => Math.abs(h.frequency - o.callerHz) < 3),
      `the model heard the caller's ${o.callerHz} Hz: ${JSON.stringify(heard)}`,
    );
    const truncates = await waitFor(
      () => {
        const found = model.truncates.filter((x) => x.connection === conn);
        return found.length >= 3 ? found : undefined;
      },
      5_000,
      'a conversation.item.truncate per interrupt()',
    );
    const parleyMs = truncates.map((x, i) => x.receivedAt - r.interrupts[i].wallAt);
    t.diagnostic(`interrupt() → truncate at the model: ${parleyMs.join(', ')} ms`);
    // Parley's share of every interrupt, held to the 150 ms: the truncate
    // leaves from the same call that drops the queued audio (realtime-handler.ts bargeIn), so its
    // arrival at the model bounds when Parley stopped sending the reply (2–3 ms measured at load
    // average 12). What the page hears after that is audio already in the browser: its jitter
    // buffer, which grows with the jitter of a loaded machine, and the WebAudio path (below).
    // The time also holds the browser's own send path (page → its SCTP → DTLS → the wire), which a
    // loaded CI machine can stall: Firefox once took 239 ms for one round of three (the other two 3
    // and 2 ms) while other test files ran beside it, and 1–4 ms in every round run alone. So all
    // but one round must be under 150 ms, and none may be near a second (a lost clear or truncate:
    // Parley's slowness would show in every round, not one).
    const slow = parleyMs.filter((ms) => ms >= 150);
    assert.ok(slow.length <= 1 && parleyMs.every((ms) => ms < 1000), `interrupt() → truncate at the model: ${parleyMs.join(', ')} ms`);

    checkPage(r, dev, o.connectWithinMs ?? 5000);

    // close(): no HTTP, only the channel and the peer connection close; the server notices.
    page.commands.close = true;
    const closed = await page.waitFor((x) => x.phase === 'closed', 10_000, 'the page closed the session');
    const state = await waitFor(
      async () => {
        const s = (await (await fetch(callUrl, { headers: auth })).json()) as { state: string; closeReason: string; closedAt?: string };
        return s.state === 'closed' ? s : undefined;
      },
      { timeoutMs: 10_000, intervalMs: 50, what: 'the call closed on the server' },
    );
    const afterClose = Date.parse(state.closedAt!) - closed.closedAt!;
    t.diagnostic(`close() → the call closed on the server (${state.closeReason}) after ${afterClose} ms`);
    assert.ok(afterClose < 2000, `the call closed ${afterClose} ms after close()`);
    page.commands.done = true;
  } finally {
    await closeBrowser?.();
    await page.close();
  }
}

function checkPage(r: SdkPageReport, dev: DevStack, connectWithinMs: number): void {
  assert.equal(r.error, null);
  assert.match(r.callId ?? '', /^rtc_/, 'the SDK read the call id from Location (CORS exposes it)');
  assert.ok(r.events.indexOf('session.created') >= 0, 'session.created: oai-events opened');
  assert.ok(r.events.indexOf('session.updated') > r.events.indexOf('session.created'), 'session.updated after session.created');
  // The SDK resolves connect() on session.updated, or after 5 s without it.
  assert.ok(r.connectMs !== null && r.connectMs < connectWithinMs, `connect() took ${r.connectMs} ms`);
  assert.equal(`${r.pair?.address}:${r.pair?.port}`, dev.ready.relay, `the selected pair ends at the relay: ${JSON.stringify(r.pair)}`);
  assert.ok(Math.abs(r.heard!.frequency - REPLY_HZ) < 10, `the page heard ${r.heard!.frequency} Hz`);
  assert.ok(r.heard!.rms > 0.05, `the page heard the tone at RMS ${r.heard!.rms}`);
  assert.ok(
    r.transcripts.some((x) => x.type === 'response.output_audio_transcript.done' && x.text === `a ${REPLY_HZ} Hz tone`),
    `transcripts: ${JSON.stringify(r.transcripts)}`,
  );
  assert.ok(r.events.includes('output_audio_buffer.started'), 'output_audio_buffer.started');
  assert.ok(r.events.includes('output_audio_buffer.cleared'), 'output_audio_buffer.cleared after interrupt()');
  // Three rounds. The fastest is held to the 150 ms: the path can do it. This 2-vCPU
  // machine is shared with three other test runs (load 11–19), where one round in three or the
  // median can pass 150 ms (measured: medians 57–120 ms alone, 143–164 ms inside the full suite),
  // so the median is held to 300 ms and every round to 600 ms.
  const rounds = r.interrupts;
  assert.equal(rounds.length, 3);
  const silent = rounds.map((i) => i.silentAfterMs).sort((a, b) => a - b);
  const why = `playback went silent ${silent.map((ms) => ms.toFixed(0)).join(', ')} ms after interrupt(); traces ${JSON.stringify(rounds.map((i) => i.trace))}`;
  assert.ok(silent[0] < 150, why);
  assert.ok(silent[1] < 300, why);
  assert.ok(silent[2] < 600, why);
  for (const i of rounds) assert.ok(i.loudestAfterMs300 < 0.02, `and stayed silent (loudest RMS ${i.loudestAfterMs300})`);
}
