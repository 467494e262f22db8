// OpenAI's Agents SDK for browsers, unchanged, in Chromium: `@openai/agents-realtime` (pinned in
// package.json) bundled by esbuild into a page on another origin (./agents-sdk/), the fake
// microphone playing 440 Hz, `RealtimeSession` over `OpenAIRealtimeWebRTC` with only `baseUrl`
// pointed at Parley and an `ek_` secret from Parley's client_secrets. Behind Parley (`parley dev`
// with --realtime-url) runs the Realtime-protocol test model (test/support/realtime-model.ts),
// which answers each second of caller audio with a 660 Hz tone and its transcript. What is
// asserted is listed in ./agents-sdk/sdk-call.ts. In CI (CI=true) a missing Chromium fails the
// test; elsewhere it is skipped with the reason.
import { after, before, test } from 'node:test';
import { startRealtimeModel } from '../support/realtime-model.ts';
import type { RealtimeModel } from '../support/realtime-model.ts';
import { chromiumSkip, openDemo } from './browser.ts';
import { REPLY_HZ, REPLY_MS, SDK_API_KEY, sdkCall } from './agents-sdk/sdk-call.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();

let dev: DevStack | undefined;
let model: RealtimeModel | undefined;

before(async () => {
  if (skip) return;
  model = await startRealtimeModel({ replyHz: REPLY_HZ, replyMs: REPLY_MS });
  dev = await startDev(['--realtime-url', model.url], 60_000, { PARLEY_API_KEYS: SDK_API_KEY });
});

after(async () => {
  await dev?.stop();
  await model?.close();
});

test(
  'the Agents SDK in Chromium: ek_ from client_secrets, only baseUrl at Parley; relay, events, tones both ways, interrupt(), close()',
  { skip, timeout: 150_000 },
  async (t) => {
    await sdkCall(t, {
      dev: dev!,
      model: model!,
      callerHz: 440,
      open: async (url) => {
        const browser = await openDemo(url, 440, null);
        return () => browser.close();
      },
    });
  },
);
