// Issue #19: the signaling API used to run without keys unless PARLEY_API_KEYS was set, so a
// transceiver deployed without it took offers from anyone. Now `parley transceiver` refuses to
// start without --api-keys (exit 2, naming the setting) unless --no-auth says the open API is
// meant; `parley dev` passes --no-auth (test/e2e/dev-lifecycle.test.ts runs it without keys).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProc, stopAll } from '../e2e/failover-helpers.ts';

after(() => stopAll());

const env = {
  PARLEY_HTTP: '127.0.0.1:0',
  PARLEY_OPS: '127.0.0.1:0',
  PARLEY_MEDIA: '127.0.0.1:0',
  PARLEY_DEMO_PAGE: 'off',
  PARLEY_API_KEYS: '',
  PARLEY_NO_AUTH: '',
};

test('parley transceiver without --api-keys exits 2 naming the setting and the way out', async () => {
  const p = startProc(['transceiver'], env);
  assert.equal(await p.exited(), 2, p.lines.join('\n'));
  const said = p.lines.join('\n');
  assert.match(said, /--api-keys \/ PARLEY_API_KEYS/);
  assert.match(said, /--no-auth/);
  assert.doesNotMatch(said, /\n\s+at /, 'no stack trace');
});

test('--no-auth (or PARLEY_NO_AUTH=on) runs it open; with keys, keys are required whatever --no-auth says', async () => {
  const open = startProc(['transceiver', '--no-auth'], env);
  assert.equal((await open.line('listening')).auth, false);
  const viaEnv = startProc(['transceiver'], { ...env, PARLEY_NO_AUTH: 'on' });
  assert.equal((await viaEnv.line('listening')).auth, false);
  const keyed = startProc(['transceiver', '--no-auth', '--api-keys', 'test-key-0123456789abcdef'], env);
  assert.equal((await keyed.line('listening')).auth, true);
  const bad = startProc(['transceiver', '--no-auth=maybe'], env);
  assert.equal(await bad.exited(), 2);
  assert.match(bad.lines.join('\n'), /--no-auth \/ PARLEY_NO_AUTH/);
});
