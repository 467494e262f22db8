// The demo page as a voice-agent page (issues #20 item 4, #15 item 5), in Debian's Chromium
// through a real relay process: a transceiver in this process serves web/ and has a `bye`
// handler that echoes, says a transcript line on `oai-events`, records the client's events and
// then hangs up (ctx.hangup: agent_hangup). Checked: the page shows the close reason from the
// DTLS transport + GET within 1 s of the server's hang-up (not "connected"); a refused call shows
// a readable message, not JSON; transcripts, events, who is speaking, the call timer, RTT /
// jitter / loss, mute and Interrupt (output_audio_buffer.clear reaches the handler).
// Screenshots go to test-artifacts/ (gitignored; CI keeps the folder).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { CidrSet } from '../../src/core/cidr.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import type { MediaHandlerContext, RealtimeEvent } from '../../src/transceiver/handlers/media-handler.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { startRelayProcess } from '../relay/harness.ts';
import type { RelayProcess } from '../relay/harness.ts';
import { keyring } from '../relay/helpers.ts';
import { waitFor } from '../support/wait-for.ts';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';

const skip = await chromiumSkip();
const WEB = fileURLToPath(new URL('../../web/', import.meta.url));
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));
/** The bye handler hangs up after this many caller frames (20 ms each) once Interrupt arrived or, at the latest, ~6 s in. */
const MAX_FRAMES = 300;

let relay: RelayProcess | undefined;
let trx: Transceiver | undefined;
let page: string;
/** What the bye handler saw: client events, and when it hung up (wall clock). */
const seen = { events: [] as RealtimeEvent[], hungUpAt: 0 };

function byeHandler(ctx: MediaHandlerContext): ReturnType<typeof createEchoHandler> {
  const echo = createEchoHandler(ctx);
  let frames = 0;
  let hangAt = MAX_FRAMES;
  return {
    ...echo,
    onAudio(frame) {
      echo.onAudio(frame);
      frames++;
      if (frames === 25) {
        ctx.sendEvent({ type: 'output_audio_buffer.started', response_id: 'r1' });
        ctx.sendEvent({ type: 'response.output_audio_transcript.delta', item_id: 'i1', response_id: 'r1', delta: 'Hello, this is ' });
        ctx.sendEvent({ type: 'response.output_audio_transcript.delta', item_id: 'i1', response_id: 'r1', delta: 'the bye agent.' });
        ctx.sendEvent({ type: 'conversation.item.input_audio_transcription.completed', item_id: 'u1', transcript: 'a 440 Hz tone' });
      }
      if (frames === hangAt) {
        seen.hungUpAt = Date.now();
        ctx.hangup('agent_hangup');
      }
    },
    onEvent(e) {
      seen.events.push(e);
      // Interrupt: stop "talking", then hang up a second later.
      if (e.type === 'output_audio_buffer.clear') {
        ctx.sendEvent({ type: 'output_audio_buffer.cleared', response_id: 'r1' });
        hangAt = Math.min(hangAt, frames + 50);
      }
    },
  };
}

before(async () => {
  if (skip) return;
  await mkdir(ARTIFACTS, { recursive: true });
  relay = await startRelayProcess(['--workers', '1']);
  const handlers = new HandlerRegistry();
  handlers.register('echo', createEchoHandler);
  handlers.register('bye', byeHandler);
  trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: relay.publics,
    relayCidrs: CidrSet.parse('127.0.0.0/8'),
    keyring,
    maxSessions: 4,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers,
    staticDir: WEB,
  });
  // localhost: a secure context, so getUserMedia works.
  page = `http://localhost:${trx.httpAddress.port}/`;
});

after(async () => {
  await trx?.close();
  await relay?.stop();
});

async function withBrowser(url: string, run: (s: BrowserSession) => Promise<void>): Promise<void> {
  const s = await openDemo(url);
  try {
    await run(s);
  } finally {
    await s.close();
  }
}

const read = <T>(s: BrowserSession, expr: string): Promise<T> => s.page.evaluate(expr) as Promise<T>;

test(
  'the agent hangs up: the page shows the reason within 1 s; transcripts, events, speaking, timer, stats, mute and Interrupt work',
  { skip, timeout: 120_000 },
  async () => {
    await withBrowser(`${page}?handler=bye`, async (s) => {
      assert.equal(await s.page.inputValue('#handler-picker'), 'bye', 'the picker takes ?handler=');
      await s.page.click('#call');
      await waitFor(async () => (await read<string>(s, 'window.parley.state')) === 'connected', 20_000, 'connected');
      // The model's side of the page.
      await waitFor(
        async () => (await s.page.textContent('#transcript'))?.includes('Agent: Hello, this is the bye agent.'),
        10_000,
        'the agent transcript',
      );
      assert.match((await s.page.textContent('#transcript')) ?? '', /You: a 440 Hz tone/);
      const events = await read<string[]>(s, 'window.parley.events');
      assert.ok(events.includes('session.created'), `events: ${events.join(', ')}`);
      assert.ok(events.includes('response.output_audio_transcript.delta'));
      assert.equal(await read<string>(s, 'window.parley.speaking'), 'agent', 'output_audio_buffer.started: the agent speaks');
      // Stats from getStats, and the timer.
      await waitFor(
        async () => (await read<{ rttMs: number | null; jitterMs: number | null }>(s, 'window.parley.stats')).jitterMs !== null,
        10_000,
        'jitter',
      );
      const st = await read<{ rttMs: number | null; jitterMs: number; lossPercent: number | null }>(s, 'window.parley.stats');
      assert.ok(st.rttMs !== null && st.rttMs >= 0, `rtt ${st.rttMs}`);
      assert.ok(st.lossPercent !== null && st.lossPercent >= 0 && st.lossPercent <= 100, `loss ${st.lossPercent}`);
      assert.match((await s.page.textContent('#timer')) ?? '', /^00:0\d$/);
      assert.match((await s.page.textContent('#loss')) ?? '', /% heard/);
      // Mute and unmute.
      await s.page.click('#mute');
      assert.equal(await read<boolean>(s, 'window.parley.muted'), true);
      assert.equal(await s.page.getAttribute('#mute', 'aria-pressed'), 'true');
      await s.page.click('#mute');
      assert.equal(await read<boolean>(s, 'window.parley.muted'), false);
      await s.page.screenshot({ path: `${ARTIFACTS}demo-page-in-call.png`, fullPage: true });
      // Interrupt: output_audio_buffer.clear reaches the handler; its `cleared` ends "agent speaking".
      await s.page.click('#interrupt');
      await waitFor(
        () => seen.events.some((e) => e.type === 'output_audio_buffer.clear'),
        5000,
        'the handler got output_audio_buffer.clear',
      );
      await waitFor(async () => (await read<string>(s, 'window.parley.speaking')) !== 'agent', 5000, 'the agent stops speaking');
      // The agent hangs up ~1 s after the interrupt.
      await waitFor(async () => (await read<string | null>(s, 'window.parley.endedText')) !== null, 15_000, 'the page shows the end');
      const shownAt = await read<number>(s, 'performance.timeOrigin + window.parley.endedAt');
      const text = (await s.page.textContent('#ended')) ?? '';
      await s.page.screenshot({ path: `${ARTIFACTS}demo-page-agent-hung-up.png`, fullPage: true });
      assert.ok(seen.hungUpAt > 0, 'the handler hung up');
      const lagMs = shownAt - seen.hungUpAt;
      console.log(`# demo page: agent hang-up shown after ${lagMs.toFixed(0)} ms`);
      assert.ok(lagMs <= 1000, `shown ${lagMs.toFixed(0)} ms after the hang-up`);
      assert.equal(text, 'Call ended: the agent hung up (agent_hangup).');
      assert.equal(await read<string>(s, 'window.parley.closeReason'), 'agent_hangup');
      assert.equal(await read<string>(s, 'window.parley.state'), 'ended');
      assert.equal(await s.page.isDisabled('#call'), false, 'a new call can start');
      assert.equal(await s.page.isDisabled('#hangup'), true);
    });
  },
);

test('a refused call shows a readable message, not the JSON body', { skip, timeout: 60_000 }, async () => {
  await withBrowser(`${page}?handler=nosuch`, async (s) => {
    await s.page.click('#call');
    await waitFor(async () => (await read<string>(s, 'window.parley.state')) === 'error', 15_000, 'the refusal');
    const shown = (await s.page.textContent('#error')) ?? '';
    await s.page.screenshot({ path: `${ARTIFACTS}demo-page-refused.png`, fullPage: true });
    assert.match(shown, /^Call refused: the server could not use this request — /);
    assert.match(shown, /nosuch/);
    assert.match(shown, /\[ERR_SIGNALING_UNKNOWN_HANDLER\]$/);
    assert.doesNotMatch(shown, /[{}"]error/, shown);
    assert.equal(await s.page.isVisible('#error'), true);
    assert.equal(await s.page.isDisabled('#call'), false);
  });
});
