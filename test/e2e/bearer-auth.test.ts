// `parley call --bearer KEY` against a transceiver that requires API keys (PARLEY_API_KEYS,
// which `parley dev` passes through to its children): without the key the POST is refused and
// the call exits 1 with ERR_CLIENT_SIGNALING naming the 401; with it the call connects.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { runCall, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const KEY = 'test-key-0123456789abcdef';
let dev: DevStack;
before(async () => {
  dev = await startDev([], 30_000, { PARLEY_API_KEYS: KEY });
});
after(async () => {
  await dev?.stop();
});

test('without --bearer the offer is refused with 401 and the call exits 1', { timeout: 30_000 }, async () => {
  const r = await runCall(dev.ready.signaling, ['--seconds', '1']);
  assert.equal(r.code, 1);
  const err = r.summary.error as { code: string; message: string };
  assert.equal(err.code, 'ERR_CLIENT_SIGNALING');
  assert.match(err.message, /401/);
});

test('with --bearer KEY the call connects and hangs up', { timeout: 30_000 }, async () => {
  const r = await runCall(dev.ready.signaling, ['--seconds', '1', '--bearer', KEY]);
  assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}`);
  const hangup = r.summary.hangupStatus as number;
  assert.ok(hangup >= 200 && hangup < 300, `DELETE with the bearer → ${hangup}`);
});
