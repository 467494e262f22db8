// Global relay failover with a real browser: Debian's Chromium calls the demo page of a
// transceiver whose region is a (relay a = 127.0.0.2, backup b = 127.0.0.3, heartbeats in Redis).
// The call starts on a; every relay of a is SIGKILLed mid-call; Chromium's ICE must move to the
// backup pair (its checks reach the transceiver through relay b, which follows the session there)
// and the audio must resume within 5 s (Chromium's own timers make it ~3.6 s, see below) — measured as the gap in the packets the transceiver
// accepts from the browser, and checked on the page's selected candidate pair.
// In CI (CI=true) a missing Chromium fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress } from '../../src/core/address.ts';
import { chromiumAvailable, CHROMIUM, openDemo, peerStats, waitForStats } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import type { RelayProc, TransceiverProc } from './failover-helpers.ts';
import { gapAround, redisPrefix, startRelay, startTransceiver, stopAll, watchCall } from './failover-helpers.ts';
import { waitFor as until } from '../support/wait-for.ts';

const inCi = process.env.CI === 'true';
const available = await chromiumAvailable();
if (!available && inCi) throw new Error(`CI=true and Chromium is missing at ${CHROMIUM}: the browser test must run in CI`);
const skip = available ? false : `Chromium not found at ${CHROMIUM} (set PARLEY_CHROMIUM)`;

const run = redisPrefix();
let relayA: RelayProc;
let relayB: RelayProc;
let trx: TransceiverProc;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  [relayA, relayB] = await Promise.all([
    startRelay({ listen: '127.0.0.2:0', location: 'a', prefix: run.prefix }),
    startRelay({ listen: '127.0.0.3:0', location: 'b', prefix: run.prefix }),
  ]);
  trx = await startTransceiver([
    '--relays',
    `a=${formatAddress(relayA.public)};b=${formatAddress(relayB.public)}`,
    '--region',
    'a',
    '--redis',
    'redis://127.0.0.1:6379',
    '--heartbeat-prefix',
    `${run.prefix}hb:`,
    '--demo-page',
    'on',
  ]);
});

after(async () => {
  await session?.close();
  await stopAll();
  await run.cleanup();
});

test(
  'Chromium: killing every relay of location a mid-call moves the call to b (gap measured; ~3.6 s, libwebrtc timers)',
  { skip, timeout: 120_000 },
  async (t) => {
    const a = relayA.public;
    const b = relayB.public;
    session = await openDemo(`http://localhost:${new URL(trx.base).port}/`);
    const { page } = session;
    const created = trx.lines.length;
    await page.click('#call');
    const connected = await until(
      () => trx.lines.slice(created).find((l) => l.includes('"msg":"call connected"')),
      20_000,
      'call connected',
    );
    const { call: id } = JSON.parse(connected) as { call: string; relay: string };
    // Chromium checks both pairs at once; whichever check lands first is the lite side's
    // provisional selection (DTLS may run through b), and Chromium's nomination of the
    // higher-priority pair on a then moves the session there. So wait for a on both sides.
    const before = await waitForStats(
      page,
      (s) => s.connectionState === 'connected' && s.packetsReceived >= 50 && s.remoteAddress === a.address,
      20_000,
    );
    assert.equal(before.remotePort, a.port, `selected pair on a: ${JSON.stringify(before)}`);

    const watch = watchCall(trx.base, id);
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(watch.samples.at(-1)?.relay, formatAddress(a), 'the call runs on location a before the kill');
    const killedAt = performance.now();
    relayA.child.kill('SIGKILL');
    await relayA.exited();
    // Wait for media through b, then a little longer so the measurement has samples after it.
    await until(() => gapAround(watch.samples, killedAt), 15_000, `media resumed after the kill:\n${trx.lines.slice(-20).join('\n')}`);
    await new Promise((r) => setTimeout(r, 1000));
    await watch.stop();
    const gap = gapAround(watch.samples, killedAt)!;
    const moved = watch.samples.find((x) => x.at > killedAt && x.relay === formatAddress(b));
    t.diagnostic(
      `first answered check through b (the session follows it): ${moved ? (moved.at - killedAt).toFixed(0) : '?'} ms after the kill; media resumed ${(gap.firstAfter - killedAt).toFixed(0)} ms after it`,
    );
    const after = await waitForStats(page, (s) => s.remoteAddress === b.address, 10_000);
    t.diagnostic(`chromium failover gap: ${gap.gapMs.toFixed(0)} ms; page after: ${JSON.stringify(after)}`);
    console.log(`# failover gap (chromium): ${gap.gapMs.toFixed(0)} ms`);
    assert.equal(after.remoteAddress, b.address, 'Chromium selected the backup pair');
    assert.equal(after.remotePort, b.port);
    assert.equal(watch.samples.at(-1)?.relay, formatAddress(b), 'the session follows the call onto relay b');
    const received = (await peerStats(page)).packetsReceived;
    await new Promise((r) => setTimeout(r, 500));
    assert.ok((await peerStats(page)).packetsReceived > received, 'the echo keeps arriving through b');
    // Not 3 s: Chromium's ICE (libwebrtc) declares the selected pair "not receiving" after 2.5 s of
    // silence, only then checks the backup pair, and waits its receiving-switching delay (1 s)
    // before moving — measured here as the first check through b at ~2.5 s and the switch ~1 s
    // later (docs/global-relay.md). Nothing the lite side sends can shorten that.
    assert.ok(gap.gapMs < 5000, `gap ${gap.gapMs.toFixed(0)} ms`);
    await page.click('#hangup');
  },
);
