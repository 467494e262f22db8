// The tests that carry media through the transceiver's socket, again with `--media-io dgram`
// (the default run uses native where the addon built): in-process endpoint and transceiver,
// the transceiver process behind a relay, and calls and load through `parley dev`. They run in
// a child `node --test` with PARLEY_MEDIA_IO=dgram, which the in-process tests
// (helpers/media-io.ts) and the spawned transceivers both read. Where the addon did not build the
// native half is skipped with the reason — except in CI (CI=true), where that is a failure: a
// silent fallback to dgram must not hide a broken native build.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { resolveMediaIo } from '../../src/transceiver/config.ts';
import { loadMediaSocketAddon } from '../../src/transceiver/media-socket-native.ts';

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
  // Without NODE_TEST_CONTEXT: the child is a test run of its own, not a nested one.
  const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;
  const child = spawn(process.execPath, ['--test', '--test-concurrency=1', '--test-timeout=120000', ...FILES], {
    env: { ...env, PARLEY_MEDIA_IO: 'dgram' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 230_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const summary = out.split('\n').filter((l) => /^ℹ (tests|pass|fail|skipped)/.test(l)).join('; ');
  t.diagnostic(`dgram: ${summary}`);
  assert.equal(code, 0, `the dgram run failed:\n${out.slice(-4000)}`);
  assert.match(summary, /ℹ pass [1-9]/);
  assert.match(summary, /ℹ fail 0/);
});
