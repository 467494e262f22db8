// Chromium's data channels (dcsctp) against Parley through the real relay, in both DTLS roles:
// the page (served by `parley dev`, the fake 440 Hz microphone of ./browser.ts) does what an
// OpenAI Realtime client does — adds its microphone, opens `oai-events` before the offer — plus an
// unordered channel, POSTs the offer, and waits for both to open. It sends text and binary
// messages of 1 B, 1 KiB, 16 KiB, 64 KiB and 256 KiB (the largest both allow: Chromium and Parley
// announce a=max-message-size:262144) on each; the echo handler sends every one back and the page
// checks them byte-exact, in order on the ordered channel. Audio keeps arriving meanwhile. Then
// the page closes `oai-events`: the call's counters show it closed, and the other channel still
// works. In CI (CI=true) a missing Chromium fails the test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { DATACHANNEL_PAGE_SCRIPT as PAGE_SCRIPT } from './datachannel-page.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();

let dev: DevStack;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  dev = await startDev();
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
      const r = (await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify({ url: dev.ready.signaling, offerSetup })})`)) as Record<
        string,
        unknown
      > & {
        channels: Record<string, { id: number; sent: number; got: number; exact: boolean; sizes: number[] }>;
        audioBefore: number;
        audioAfter: number;
      };
      t.diagnostic(JSON.stringify(r));
      assert.equal(r.error, undefined, `${JSON.stringify(r)}\n${dev.log()}`);
      assert.equal(r.maxMessageSize, 262144, 'Chromium honours our a=max-message-size');
      for (const label of ['oai-events', 'loose']) {
        const c = r.channels[label];
        assert.ok(c.exact && c.got === c.sent, `${label}: ${JSON.stringify(c)}`);
        // RFC 8832 §6: Chromium is the DTLS server when we are the client, so it takes odd ids.
        assert.equal(c.id % 2, parleyRole === 'client' ? 1 : 0, `${label} id ${c.id}`);
      }
      assert.equal(r.eventsState, 'closed');
      assert.equal(r.looseState, 'open');
      assert.equal(r.afterClose, 'still here', 'the other channel works after one closed');
      assert.ok(r.audioBefore > 10 && r.audioAfter - r.audioBefore > 40, `audio packets ${r.audioBefore} → ${r.audioAfter}`);
      const state = (await (await fetch(new URL(r.location as string, dev.ready.signaling))).json()) as {
        stats: { dataChannels: Record<string, number> };
      };
      const d = state.stats.dataChannels;
      t.diagnostic(`transceiver: ${JSON.stringify(state.stats)}`);
      assert.equal(d.messagesIn, 21, JSON.stringify(d));
      assert.equal(d.channelsOpened, 2);
      assert.ok(d.channelsClosed >= 1, JSON.stringify(d));
    },
  );
}
