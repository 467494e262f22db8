// Firefox ESR's data channels (usrsctp) against Parley through the real relay, in both DTLS roles:
// the same page script as the Chromium test (./datachannel-page.ts) runs in Debian's
// firefox-esr, through the harness of browser-firefox.test.ts (firefox/firefox.ts starts it
// headless on a fresh profile with a fake microphone; firefox/page-server.ts serves the demo page
// of `parley dev` with our probe, which runs the script and POSTs its result back). The page
// opens `chat` before the offer plus an unordered channel, sends text and binary messages
// of 1 B, 1 KiB, 16 KiB, 64 KiB and 256 KiB (Parley's a=max-message-size; Firefox announces
// more) on each, and checks every echo byte-exact, in order on the ordered channel; then it
// closes `chat`, the other channel still works, audio keeps arriving, and the call's
// counters agree. The handler (test/e2e/parley-channel-handler.ts) also opens a channel toward
// the page, echoes on it and closes it when asked: Parley's side of open and close. The relay listens on a non-loopback address (see browser-firefox.test.ts: nICEr
// never pairs loopback with host candidates). In CI (CI=true) a missing Firefox fails the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { firefoxPrerequisites, launchFirefox } from './firefox/firefox.ts';
import type { FirefoxProcess } from './firefox/firefox.ts';
import { REPORT_PATH, startPageServer } from './firefox/page-server.ts';
import type { PageServer } from './firefox/page-server.ts';
import { DATACHANNEL_PAGE_SCRIPT } from './datachannel-page.ts';
import { SUSTAIN_MS, checkCallCounters, checkPageResult, checkParleyOpenedChannel } from './datachannel-checks.ts';
import type { PageResult } from './datachannel-checks.ts';
import { PARLEY_CHANNEL_MODULE, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';
import { skipUnlessInCi } from '../support/skip-unless-ci.ts';

const { hostIp, missing } = await firefoxPrerequisites();
const skip = skipUnlessInCi(missing, 'the Firefox data-channel test');

let dev: DevStack;
let pages: PageServer | undefined;
let firefox: FirefoxProcess | undefined;

/** The page's probe: runs the data-channel script with ?setup= of the page URL, reports the result once. */
const probe = (signalingPath: string): string => `
window.addEventListener('load', async () => {
  const offerSetup = new URLSearchParams(location.search).get('setup') || 'actpass';
  let result;
  try {
    result = await (${DATACHANNEL_PAGE_SCRIPT})({ url: ${JSON.stringify(signalingPath)}, offerSetup, sustainMs: ${SUSTAIN_MS} });
  } catch (err) {
    result = { error: String(err) };
  }
  const page = { state: 'datachannel-' + offerSetup, error: null, location: null, remoteAddress: null };
  await fetch(${JSON.stringify(REPORT_PATH)}, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq: 0, stats: { error: 'not collected' }, page, result }) });
});
`;

before(async () => {
  if (skip) return;
  dev = await startDev(['--relay', `${hostIp}:0`, '--handler-module', PARLEY_CHANNEL_MODULE]);
  pages = await startPageServer(dev.ready.page, probe(`${new URL(dev.ready.signaling).pathname}?handler=parley-channel`));
});

after(async () => {
  await firefox?.close();
  await pages?.close();
  await dev?.stop();
});

for (const offerSetup of ['actpass', 'active'] as const) {
  const parleyRole = offerSetup === 'actpass' ? 'client' : 'server';
  test(
    `Firefox ESR data channels through the relay, Parley is the DTLS ${parleyRole}: every size back byte-exact, close seen, audio flows`,
    { skip, timeout: 90_000 },
    async (t) => {
      await firefox?.close();
      const mozLog = process.env.PARLEY_TEST_MOZ_LOG;
      firefox = await launchFirefox(
        `${pages!.url}?setup=${offerSetup}`,
        mozLog ? { mozLog, mozLogFile: `/tmp/ffloop/moz-${offerSetup}-${Date.now()}.log` } : {},
      );
      // What the transceiver and relay saw, gathered when the page reports a failure: it goes into
      // the assertion's message, so a CI log that keeps only the failing test's summary shows it.
      let seenByParley = '';
      const failure = (): string => `${seenByParley}\nfirefox output:\n${firefox!.output()}\nparley dev:\n${dev.log()}`;
      const report = await pages!
        .waitFor((r) => r.page.state === `datachannel-${offerSetup}`, 75_000, `the page's data-channel result`)
        .catch((err: Error) => assert.fail(err.message + failure()));
      const r = report.result as PageResult;
      t.diagnostic(JSON.stringify(r));
      if (r.error !== undefined && r.location) {
        const call = await fetch(new URL(r.location, dev.ready.signaling)).then(
          (res) => res.text(),
          (err: Error) => err.message,
        );
        seenByParley += `\nthe call at the failure: ${call}`;
        // Which side dropped what: every non-zero drop or error counter of the relay and transceiver.
        for (const url of [dev.ready.relayMetrics, dev.ready.transceiverMetrics]) {
          const text = await fetch(url).then(
            (res) => res.text(),
            (err: Error) => err.message,
          );
          const lines = text.split('\n').filter((l) => /drop|error|fail|reject|limit/i.test(l) && !l.startsWith('#') && !/ 0$/.test(l));
          seenByParley += `\n${url}: ${lines.join(' | ')}`;
        }
      }
      checkPageResult(r, parleyRole, 'Firefox', failure);
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
