// OpenAI's Agents SDK for browsers, unchanged, in Firefox ESR (nICEr ICE, NSS DTLS, its own
// SCTP): the same page and the same checks as the Chromium test (./agents-sdk/sdk-call.ts),
// Firefox started headless with no driver (./firefox/firefox.ts; the page reports by itself).
// Firefox's fake microphone (media.navigator.streams.fake) is a 1 kHz sine. The relay listens on
// this machine's first non-loopback IPv4 address: nICEr never pairs a loopback candidate with a
// non-loopback one (see browser-firefox.test.ts). In CI (CI=true) a missing Firefox fails the
// test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import { startRealtimeModel } from '../support/realtime-model.ts';
import type { RealtimeModel } from '../support/realtime-model.ts';
import { REPLY_HZ, REPLY_MS, SDK_API_KEY, sdkCall } from './agents-sdk/sdk-call.ts';
import { firefoxPrerequisites, launchFirefox } from './firefox/firefox.ts';
import type { FirefoxProcess } from './firefox/firefox.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';
import { skipUnlessInCi } from '../support/skip-unless-ci.ts';

const { hostIp, missing } = await firefoxPrerequisites();
const skip = skipUnlessInCi(missing, 'the Firefox test');

let dev: DevStack | undefined;
let model: RealtimeModel | undefined;
let firefox: FirefoxProcess | undefined;

before(async () => {
  if (skip) return;
  model = await startRealtimeModel({ replyHz: REPLY_HZ, replyMs: REPLY_MS });
  dev = await startDev(['--relay', `${hostIp}:0`, '--realtime-url', model.url], 60_000, { PARLEY_API_KEYS: SDK_API_KEY });
});

after(async () => {
  await firefox?.close();
  await dev?.stop();
  await model?.close();
});

test(
  'the Agents SDK in Firefox ESR: ek_ from client_secrets, only baseUrl at Parley; relay, events, tones both ways, interrupt(), close()',
  { skip, timeout: 150_000 },
  async (t) => {
    await sdkCall(t, {
      dev: dev!,
      model: model!,
      callerHz: 1000,
      // Firefox's setup through the relay (nICEr, NSS) took 5.1 s once in CI, with other test files
      // running beside it: the SDK then resolved connect() on its 5 s fallback, with session.updated
      // arriving just after. The events are still checked; only the time is Firefox's.
      connectWithinMs: 10_000,
      open: async (url) => {
        // The page measures the model's audio with WebAudio. This machine has no sound device, and an
        // AudioContext on Firefox's real audio backend never leaves 'suspended' (resume() never
        // settles); cubeb's mock context gives it a clock. WebAudio may start without a gesture.
        firefox = await launchFirefox(url, { prefs: { 'media.autoplay.block-webaudio': false, 'media.cubeb.force_mock_context': true } });
        return () => firefox!.close();
      },
      browserLog: () => firefox?.output() ?? '',
    });
  },
);
