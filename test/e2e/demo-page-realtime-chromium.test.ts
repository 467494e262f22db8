// `parley dev --realtime-url URL` makes the demo page a voice-agent page (issue #15 item 5):
// Chromium calls the server's default handler, which is then the realtime bridge to the
// Realtime-protocol test model (test/support/realtime-model.ts). The page shows the model's
// transcript and events live and who is speaking; Interrupt sends output_audio_buffer.clear, so
// Parley truncates the model's item and the page gets output_audio_buffer.cleared; when the model
// goes away the call ends and the page says why (agent_closed). Screenshot in test-artifacts/.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { startRealtimeModel } from '../support/realtime-model.ts';
import type { RealtimeModel } from '../support/realtime-model.ts';
import { waitFor } from '../support/wait-for.ts';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();
const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

let model: RealtimeModel | undefined;
let dev: DevStack | undefined;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  await mkdir(ARTIFACTS, { recursive: true });
  // Long replies: the agent is still talking when the test presses Interrupt.
  model = await startRealtimeModel({ replyHz: 660, replyMs: 5000 });
  dev = await startDev(['--realtime-url', model.url, '--realtime-model', 'parley-test'], 60_000);
});

after(async () => {
  await session?.close();
  await dev?.stop();
  await model?.close();
});

test(
  'parley dev --realtime-url: transcripts, events, who speaks, Interrupt, and the close reason when the model goes away',
  { skip, timeout: 120_000 },
  async () => {
    session = await openDemo(dev!.ready.page);
    const { page } = session;
    const read = <T>(expr: string): Promise<T> => page.evaluate(expr) as Promise<T>;
    assert.equal(await page.inputValue('#handler-picker'), '', 'the server default (realtime, from --realtime-url)');
    await page.click('#call');
    await waitFor(async () => (await read<string>('window.parley.state')) === 'connected', 20_000, 'connected');
    await waitFor(async () => (await read<string>('window.parley.speaking')) === 'agent', 15_000, 'the agent speaks');
    await waitFor(async () => (await page.textContent('#transcript'))?.includes('Agent: a 660 Hz tone'), 10_000, "the model's transcript");
    const events = await read<string[]>('window.parley.events');
    for (const e of ['session.created', 'output_audio_buffer.started', 'response.output_audio_transcript.delta'])
      assert.ok(events.includes(e), `${e} in ${events.join(', ')}`);
    await page.screenshot({ path: `${ARTIFACTS}demo-page-realtime-agent-speaking.png`, fullPage: true });

    const truncates = model!.truncates.length;
    await page.click('#interrupt');
    await waitFor(async () => (await read<string[]>('window.parley.events')).includes('output_audio_buffer.cleared'), 5000, 'cleared');
    await waitFor(() => model!.truncates.length > truncates, 5000, 'the model was told what was heard (conversation.item.truncate)');
    assert.ok(
      model!.events.some((e) => e.event.type === 'session.update'),
      'the bridge configured the model',
    );

    model!.closeConnections();
    await waitFor(async () => (await read<string | null>('window.parley.endedText')) !== null, 10_000, 'the page shows the end');
    await page.screenshot({ path: `${ARTIFACTS}demo-page-realtime-agent-closed.png`, fullPage: true });
    assert.equal(await read<string>('window.parley.closeReason'), 'agent_closed');
    // The model's close code and reason are the call's close detail (GET closeDetail), shown after the reason.
    assert.equal(await read<string>('window.parley.closeDetail'), '1011 test model closed');
    assert.equal(await page.textContent('#ended'), "Call ended: the agent's connection closed (agent_closed): “1011 test model closed”.");
  },
);
