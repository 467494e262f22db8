// `parley load` when the server refuses calls: `parley dev --max-sessions 5` takes five calls
// and answers the rest 503 + Retry-After (session limit); `parley load --calls 20` reports the
// refusals by reason — the error code with the HTTP status, and the server's message — and
// exits 1, while the five it got connect.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDev } from './helpers.ts';
import { runParleyLoad } from './load-process.ts';
import type { DevStack } from './helpers.ts';

let dev: DevStack;
before(async () => {
  dev = await startDev(['--max-sessions', '5']);
});
after(async () => {
  await dev?.stop();
});

const runLoad = (args: string[]): ReturnType<typeof runParleyLoad> => runParleyLoad(dev.ready.signaling, args);

test('parley load reports 503 refusals at the session limit by reason and exits 1', { timeout: 90_000 }, async () => {
  // 20 calls within one second, each lasting 3 s: only the first five fit under the limit.
  const r = await runLoad(['--calls', '20', '--ramp-per-sec', '20', '--seconds', '3']);
  assert.equal(r.code, 1, `${r.out}\n${r.err}\n${dev.log()}`);
  assert.match(r.out, /^calls: 20, connected 5, failed 15$/m, r.out);
  assert.match(r.out, /failed 15 × ERR_CLIENT_SIGNALING \(HTTP 503\): POST \S+ → 503 .*Retry-After/, r.out);
  // Progress while ramping, on stderr.
  assert.match(r.err, /load: [\d.]+ s {2}started \d+\/20 {2}connected \d+ {2}failed \d+/, r.err);
  assert.match(r.out, /receive ratio: [\d.]+/, r.out);
});

test('parley load --json carries the refusals by reason', { timeout: 90_000 }, async () => {
  const r = await runLoad(['--json', '--calls', '8', '--ramp-per-sec', '100', '--seconds', '2']);
  assert.equal(r.code, 1, `${r.out}\n${r.err}`);
  const report = JSON.parse(r.out) as {
    calls: number;
    connected: number;
    failed: number;
    failures: Record<string, number>;
    failureExamples: Record<string, string>;
  };
  assert.equal(report.connected, 5, r.out);
  assert.deepEqual(report.failures, { 'ERR_CLIENT_SIGNALING (HTTP 503)': 3 });
  assert.match(report.failureExamples['ERR_CLIENT_SIGNALING (HTTP 503)'], /→ 503 /);
});
