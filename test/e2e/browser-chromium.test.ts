// A real browser through the real relay: Debian's Chromium (playwright-core) opens the demo page
// served by `parley dev` on http://localhost (a secure context, so getUserMedia works), its
// fake microphone plays a 440 Hz tone, and the test clicks Call. It checks that the call
// connects, that the selected candidate pair's remote address is the relay's public address,
// that ≥ 100 audio packets with non-zero energy come back (the echo handler), and that Hang up
// closes the session on the server (GET → closed) and shows in the transceiver's /metrics.
// In CI (CI=true) a missing Chromium fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumAvailable, CHROMIUM, openDemo, waitForStats } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const inCi = process.env.CI === 'true';
const available = await chromiumAvailable();
if (!available && inCi) throw new Error(`CI=true and Chromium is missing at ${CHROMIUM}: the browser test must run in CI`);
const skip = available ? false : `Chromium not found at ${CHROMIUM} (set PARLEY_CHROMIUM)`;

let dev: DevStack;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  dev = await startDev();
});

after(async () => {
  await session?.close();
  await dev?.stop();
});

test('Chromium calls through the relay, hears the echo, and hangs up', { skip, timeout: 90_000 }, async (t) => {
  session = await openDemo(dev.ready.page);
  const { page } = session;
  await page.click('#call');

  const connected = await waitForStats(page, (s) => s.connectionState === 'connected', 20_000);
  assert.equal(
    connected.connectionState,
    'connected',
    `page state ${await page.evaluate('window.parley.state')}, error ${await page.evaluate('window.parley.error')}\n${dev.log()}`,
  );
  const [relayHost, relayPort] = [
    dev.ready.relay.slice(0, dev.ready.relay.lastIndexOf(':')),
    Number(dev.ready.relay.slice(dev.ready.relay.lastIndexOf(':') + 1)),
  ];

  const s = await waitForStats(page, (x) => x.packetsReceived >= 100 && x.totalAudioEnergy > 0, 20_000);
  t.diagnostic(`chromium stats: ${JSON.stringify(s)}`);
  assert.equal(s.remoteAddress, relayHost, 'the selected pair ends at the relay');
  assert.equal(s.remotePort, relayPort);
  assert.ok(s.packetsReceived >= 100, `received ${s.packetsReceived} audio packets`);
  assert.ok(s.totalAudioEnergy > 0, `totalAudioEnergy ${s.totalAudioEnergy}`);
  assert.equal(await page.evaluate('window.parley.remoteAddress'), dev.ready.relay, 'the demo page shows the relay too');

  const location = (await page.evaluate('window.parley.location')) as string;
  assert.ok(location, 'the page kept the call location');
  const callUrl = new URL(location, dev.ready.page).toString();
  const endedBefore = await endedCalls(dev.ready.transceiverMetrics);

  await page.click('#hangup');
  const deadline = Date.now() + 10_000;
  let state: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const res = await fetch(callUrl);
    state = res.ok ? ((await res.json()) as Record<string, unknown>) : { state: `HTTP ${res.status}` };
    if (state.state === 'closed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(state.state, 'closed', JSON.stringify(state));
  assert.ok((await endedCalls(dev.ready.transceiverMetrics)) > endedBefore, 'the transceiver counted the ended call');
});

/** Calls the transceiver has ended, whatever the reason (parley_transceiver_calls_closed_total, all reasons). */
async function endedCalls(metricsUrl: string): Promise<number> {
  const text = await (await fetch(metricsUrl)).text();
  let n = 0;
  for (const line of text.split('\n')) {
    const m = /^parley_transceiver_calls_closed_total(?:\{[^}]*\})?\s+(\S+)/.exec(line);
    if (m) n += Number(m[1]);
  }
  return n;
}
