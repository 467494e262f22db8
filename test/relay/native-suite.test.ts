// The relay test suite again, with `--datapath native`: every test that starts a relay through
// harness.ts (relay-*.test.ts) runs in a child `node --test` with PARLEY_TEST_DATAPATH=native,
// so `npm test` checks that both datapaths behave as one. Where the addon did not build the
// suite is skipped with the reason — except in CI (CI=true), where that is a failure: a
// silent fallback to js must not hide a broken native build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { loadNativeAddon } from '../../src/relay/datapath-native.ts';
import { resolveRelayConfig } from '../../src/relay/config.ts';
import { runTestsInChild } from '../run-tests-in-child.ts';
import { KEYS_TEXT } from './helpers.ts';

const DIR = new URL('.', import.meta.url).pathname;
const FILES = readdirSync(DIR)
  .filter((f) => /^relay-.*\.test\.ts$/.test(f))
  .sort();

test('the native addon built and is the default datapath (required when CI=true)', (t) => {
  const addon = loadNativeAddon();
  if (addon instanceof Error) {
    if (process.env.CI === 'true') assert.fail(`CI=true but the native relay addon is not usable: ${addon.message}`);
    t.skip(addon.message);
    return;
  }
  const cfg = resolveRelayConfig([], { PARLEY_KEYS: KEYS_TEXT });
  assert.equal(cfg.datapath, 'native');
  assert.equal(cfg.datapathFallback, undefined);
  assert.equal(resolveRelayConfig(['--datapath', 'js'], { PARLEY_KEYS: KEYS_TEXT }).datapath, 'js');
});

// 360 s: twelve relay files with two relay processes each on a loaded 2-core machine (240 s ran out once the join-check and misconfiguration files came).
test(`relay suite with --datapath native (${FILES.join(', ')})`, { timeout: 360_000 }, async (t) => {
  if (loadNativeAddon() instanceof Error) {
    if (process.env.CI === 'true') assert.fail('CI=true but the native relay addon is not usable');
    t.skip('the native relay addon is not built');
    return;
  }
  assert.ok(FILES.length >= 5, `relay test files: ${FILES.join(', ')}`);
  const { code, out, summary } = await runTestsInChild(
    FILES.map((f) => DIR + f),
    { PARLEY_TEST_DATAPATH: 'native' },
    2,
  );
  t.diagnostic(`native: ${summary}`);
  assert.equal(code, 0, `relay tests failed with --datapath native:\n${out.slice(-20000)}`);
  assert.match(out, /ℹ fail 0/);
});
