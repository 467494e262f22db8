// Chromium's data channels (dcsctp) against Parley through the real relay, in both DTLS roles:
// the page (served by `parley dev`, the fake 440 Hz microphone of ./browser.ts) does what an
// OpenAI Realtime client does — adds its microphone, opens `chat` before the offer — plus an
// unordered channel, POSTs the offer, and waits for both to open. It sends text and binary
// messages of 1 B, 1 KiB, 16 KiB, 64 KiB and 256 KiB (the largest both allow: Chromium and Parley
// announce a=max-message-size:262144) on each; the echo handler sends every one back and the page
// checks them byte-exact, in order on the ordered channel. Audio keeps arriving meanwhile. Then
// the page closes `chat`: the call's counters show it closed, and the other channel still
// works. The handler is test/e2e/parley-channel-handler.ts (echo plus a channel Parley opens
// toward the page, echoes on and closes itself when asked). In CI (CI=true) a missing Chromium fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { DATACHANNEL_PAGE_SCRIPT as PAGE_SCRIPT } from './datachannel-page.ts';
import { SUSTAIN_MS, checkCallCounters, checkPageResult, checkParleyOpenedChannel } from './datachannel-checks.ts';
import type { PageResult } from './datachannel-checks.ts';
import { PARLEY_CHANNEL_MODULE, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();

let dev: DevStack;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  dev = await startDev(['--handler-module', PARLEY_CHANNEL_MODULE]);
  session = await openDemo(dev.ready.page);
});

after(async () => {
  await session?.close();
  await dev?.stop();
});

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `Chromium data channels through the relay, Parley is the DTLS ${parleyRole}: every size back byte-exact, close seen, audio flows`,
    { skip, timeout: 90_000 },
    async (t) => {
      const { page } = session!;
      const url = `${dev.ready.signaling}?handler=parley-channel`;
      const r = (await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ url, offerSetup, sustainMs: SUSTAIN_MS })})`)) as PageResult;
      t.diagnostic(JSON.stringify(r));
      checkPageResult(r, parleyRole, 'Chromium', () => `\n${dev.log()}`);
      checkParleyOpenedChannel(r.parley, parleyRole, 10);
      const stats = await checkCallCounters(
        new URL(r.location, dev.ready.signaling).toString(),
        {},
        { messagesIn: 32 + (r.sustained?.sentMessages ?? 0), channelsOpened: 3 },
      );
      t.diagnostic(`transceiver: ${JSON.stringify(stats)}`);
    },
  );
}
