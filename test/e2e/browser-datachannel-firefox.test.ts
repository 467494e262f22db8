// Firefox ESR's data channels (usrsctp) against Parley through the real relay, in both DTLS roles:
// the same page script as the Chromium test (./datachannel-page.ts) runs in Debian's
// firefox-esr, through the harness of browser-firefox.test.ts (firefox/firefox.ts starts it
// headless on a fresh profile with a fake microphone; firefox/page-server.ts serves the demo page
// of `parley dev` with our probe, which runs the script and POSTs its result back). The page
// opens `oai-events` before the offer plus an unordered channel, sends text and binary messages
// of 1 B, 1 KiB, 16 KiB, 64 KiB and 256 KiB (Parley's a=max-message-size; Firefox announces
// more) on each, and checks every echo byte-exact, in order on the ordered channel; then it
// closes `oai-events`, the other channel still works, audio keeps arriving, and the call's
// counters agree. The relay listens on a non-loopback address (see browser-firefox.test.ts: nICEr
// never pairs loopback with host candidates). In CI (CI=true) a missing Firefox fails the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { networkInterfaces } from 'node:os';
import { FIREFOX, firefoxAvailable, launchFirefox } from './firefox/firefox.ts';
import type { FirefoxProcess } from './firefox/firefox.ts';
import { REPORT_PATH, startPageServer } from './firefox/page-server.ts';
import type { PageServer } from './firefox/page-server.ts';
import { DATACHANNEL_PAGE_SCRIPT } from './datachannel-page.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const inCi = process.env.CI === 'true';
const hostIp = Object.values(networkInterfaces())
  .flat()
  .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
const missing = !(await firefoxAvailable())
  ? `Firefox not found at ${FIREFOX} (apt-get install firefox-esr, or set PARLEY_FIREFOX)`
  : hostIp === undefined
    ? 'no non-loopback IPv4 address for the relay (Firefox does not pair a 127.0.0.1 candidate with its host candidates)'
    : undefined;
if (missing && inCi) throw new Error(`CI=true and the Firefox data-channel test cannot run: ${missing}`);
const skip = missing ?? false;

let dev: DevStack;
let pages: PageServer | undefined;
let firefox: FirefoxProcess | undefined;

/** The page's probe: runs the data-channel script with ?setup= of the page URL, reports the result once. */
const probe = (signalingPath: string): string => `
window.addEventListener('load', async () => {
  const offerSetup = new URLSearchParams(location.search).get('setup') || 'actpass';
  let result;
  try {
    result = await (${DATACHANNEL_PAGE_SCRIPT})({ url: ${JSON.stringify(signalingPath)}, offerSetup });
  } catch (err) {
    result = { error: String(err) };
  }
  const page = { state: 'datachannel-' + offerSetup, error: null, location: null, remoteAddress: null };
  await fetch(${JSON.stringify(REPORT_PATH)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq: 0, stats: { error: 'not collected' }, page, result }) });
});
`;

before(async () => {
  if (skip) return;
  dev = await startDev(['--relay', `${hostIp}:0`]);
  pages = await startPageServer(dev.ready.page, probe(new URL(dev.ready.signaling).pathname));
});

after(async () => {
  await firefox?.close();
  await pages?.close();
  await dev?.stop();
});

interface PageResult {
  error?: string;
  maxMessageSize: number;
  channels: Record<string, { id: number; sent: number; got: number; exact: boolean; sizes: number[] }>;
  eventsState: string;
  looseState: string;
  afterClose: string | null;
  audioBefore: number;
  audioAfter: number;
  location: string;
}

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `Firefox ESR data channels through the relay, Parley is the DTLS ${parleyRole}: every size back byte-exact, close seen, audio flows`,
    { skip, timeout: 90_000 },
    async (t) => {
      await firefox?.close();
      firefox = await launchFirefox(`${pages!.url}?setup=${offerSetup}`);
      const failure = (): string => `\nfirefox output:\n${firefox!.output()}\nparley dev:\n${dev.log()}`;
      const report = await pages!
        .waitFor((r) => r.page.state === `datachannel-${offerSetup}`, 75_000, `the page's data-channel result`)
        .catch((err: Error) => assert.fail(err.message + failure()));
      const r = report.result as PageResult;
      t.diagnostic(JSON.stringify(r));
      assert.equal(r.error, undefined, `${JSON.stringify(r)}${failure()}`);
      assert.equal(r.maxMessageSize, 262144, 'Firefox honours our a=max-message-size');
      for (const label of ['oai-events', 'loose']) {
        const c = r.channels[label];
        assert.ok(c.exact && c.got === c.sent, `${label}: ${JSON.stringify(c)}`);
        // RFC 8832 §6: Firefox is the DTLS server when we are the client, so it takes odd ids.
        assert.equal(c.id % 2, parleyRole === 'client' ? 1 : 0, `${label} id ${c.id}`);
      }
      assert.equal(r.eventsState, 'closed');
      assert.equal(r.looseState, 'open');
      assert.equal(r.afterClose, 'still here', 'the other channel works after one closed');
      assert.ok(r.audioBefore > 10 && r.audioAfter - r.audioBefore > 40, `audio packets ${r.audioBefore} → ${r.audioAfter}`);
      const state = (await (await fetch(new URL(r.location, dev.ready.signaling), { signal: AbortSignal.timeout(5_000) })).json()) as {
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
