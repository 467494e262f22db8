// The tests that carry media through the transceiver's socket, again with `--media-io dgram`
// (the default run uses native where the addon built): in-process endpoint and transceiver,
// the transceiver process behind a relay, and calls and load through `parley dev`. They run in
// a child `node --test` with PARLEY_MEDIA_IO=dgram, which the in-process tests
// (helpers/media-io.ts) and the spawned transceivers both read. Where the addon did not build the
// native half is skipped with the reason — except in CI (CI=true), where that is a failure: a
// silent fallback to dgram must not hide a broken native build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { runTestsInChild } from '../run-tests-in-child.ts';
import { resolveMediaIo } from '../../src/transceiver/config.ts';
import { loadMediaSocketAddon } from '../../src/transceiver/media/media-socket-native.ts';

const FILES = [
  'transceiver/transceiver-in-process.test.ts',
  'transceiver/endpoint-contains-session-bugs.test.ts',
  'transceiver/transceiver-process-with-relay.test.ts',
  'e2e/call-through-relay.test.ts',
  'e2e/load-through-relay.test.ts',
].map((f) => new URL(`../${f}`, import.meta.url).pathname);

test('the native media socket built and is the default (required when CI=true)', (t) => {
  const addon = loadMediaSocketAddon();
  if (addon instanceof Error) {
    if (process.env.CI === 'true') assert.fail(`CI=true but the native media socket addon is not usable: ${addon.message}`);
    t.skip(addon.message);
    return;
  }
  assert.deepEqual(resolveMediaIo(undefined), { io: 'native' });
  assert.deepEqual(resolveMediaIo('dgram'), { io: 'dgram' });
});

test('media tests again with --media-io dgram', { timeout: 240_000 }, async (t) => {
  const { code, out, summary } = await runTestsInChild(FILES, { PARLEY_MEDIA_IO: 'dgram' }, 1);
  t.diagnostic(`dgram: ${summary}`);
  assert.equal(code, 0, `the dgram run failed:\n${out.slice(-4000)}`);
  assert.match(summary, /ℹ pass [1-9]/);
  assert.match(summary, /ℹ fail 0/);
});
