// A second real browser through the real relay: Debian's Firefox ESR (nICEr ICE, NSS DTLS —
// not Chromium's libwebrtc and BoringSSL) opens the demo page of `parley dev`, its fake
// microphone (media.navigator.streams.fake) plays a tone, and the page calls by itself. No
// driver library: firefox/firefox.ts starts `firefox-esr --headless` on a fresh profile, and
// firefox/page-server.ts serves the demo page with a script that clicks Call and POSTs
// getStats() back to the test, which answers with commands (hang up). The test checks that the
// call connects, that the selected pair's remote end is the relay's public address, that ≥ 100
// echoed audio packets with non-zero energy come back, and that Hang up closes the call on the
// server. In CI (CI=true) a missing Firefox fails the test; elsewhere it is skipped.
//
// The relay listens on this machine's first non-loopback IPv4 address, not 127.0.0.1: nICEr
// never pairs a loopback candidate with a non-loopback one (nr_ice_component_can_candidate_addr_pair,
// "prevents … pairing a loopback with a host candidate"), and Firefox gathers no loopback
// candidates by default, so a 127.0.0.1 relay candidate leaves it with an empty check list.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { firefoxPrerequisites, launchFirefox } from './firefox/firefox.ts';
import type { FirefoxProcess } from './firefox/firefox.ts';
import { startPageServer } from './firefox/page-server.ts';
import type { PageReport, PageServer } from './firefox/page-server.ts';
import { metricSum, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';
import type { PeerStats } from './browser.ts';
import { skipUnlessInCi } from '../support/skip-unless-ci.ts';

const { hostIp, missing } = await firefoxPrerequisites();
const skip = skipUnlessInCi(missing, 'the Firefox test');

let dev: DevStack;
let pages: PageServer | undefined;
let firefox: FirefoxProcess | undefined;

before(async () => {
  if (skip) return;
  dev = await startDev(['--relay', `${hostIp}:0`]);
  pages = await startPageServer(dev.ready.page);
});

after(async () => {
  await firefox?.close();
  await pages?.close();
  await dev?.stop();
});

const statsOf = (r: PageReport): PeerStats | undefined => ('connectionState' in r.stats ? r.stats : undefined);

test('Firefox ESR calls through the relay, hears the echo, and hangs up', { skip, timeout: 60_000 }, async (t) => {
  const server = pages!;
  firefox = await launchFirefox(server.url);
  const failure = (): string => `\nfirefox output:\n${firefox!.output()}\nparley dev:\n${dev.log()}`;

  const connected = await server
    .waitFor(
      (r) => statsOf(r)?.connectionState === 'connected' || r.page.state === 'failed' || r.page.state === 'error',
      30_000,
      'connected',
    )
    .catch((err: Error) => assert.fail(err.message + failure()));
  assert.equal(statsOf(connected)?.connectionState, 'connected', `page ${JSON.stringify(connected.page)}${failure()}`);

  const heard = await server
    .waitFor((r) => (statsOf(r)?.packetsReceived ?? 0) >= 100 && (statsOf(r)?.totalAudioEnergy ?? 0) > 0, 15_000, '100 echoed packets')
    .catch((err: Error) => assert.fail(err.message + failure()));
  const s = statsOf(heard)!;
  const relay = dev.ready.relay;
  assert.equal(`${s.remoteAddress}:${s.remotePort}`, relay, 'the selected pair ends at the relay');
  assert.ok(s.packetsReceived >= 100, `received ${s.packetsReceived} audio packets`);
  assert.ok(s.totalAudioEnergy > 0 && s.audioLevel > 0, `totalAudioEnergy ${s.totalAudioEnergy}, audioLevel ${s.audioLevel}`);
  t.diagnostic(`firefox stats: ${JSON.stringify(s)}`);

  // Firefox's own names for what it measured, for the log (and whoever next needs a field).
  server.commands.dump = true;
  const dump = await server.waitFor((r) => r.raw !== undefined, 5_000, 'raw stats');
  server.commands.dump = false;
  const inbound = dump.raw!.find((r) => r.type === 'inbound-rtp' && r.kind === 'audio');
  const transport = dump.raw!.find((r) => r.type === 'transport');
  t.diagnostic(`firefox inbound-rtp: ${JSON.stringify(inbound)}`);
  t.diagnostic(`firefox transport: ${JSON.stringify(transport)}`);

  const location = heard.page.location;
  assert.ok(location, 'the page kept the call location');
  const callUrl = new URL(location, dev.ready.signaling).toString();
  const endedBefore = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_calls_closed_total');

  server.commands.hangup = true;
  await server.waitFor((r) => r.page.state === 'ended', 5_000, 'page ended the call');
  const deadline = Date.now() + 10_000;
  let state: Record<string, unknown> = {};
  while (Date.now() < deadline) {
    const res = await fetch(callUrl, { signal: AbortSignal.timeout(2_000) });
    state = res.ok ? ((await res.json()) as Record<string, unknown>) : { state: `HTTP ${res.status}` };
    if (state.state === 'closed') break;
    await new Promise((r) => setTimeout(r, 100));
  }
  assert.equal(state.state, 'closed', JSON.stringify(state));
  assert.ok(
    (await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_calls_closed_total')) > endedBefore,
    'the transceiver counted the ended call',
  );
});
