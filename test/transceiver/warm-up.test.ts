// The transceiver's start-up warm-up (src/cli/transceiver-warm-up.ts): before `parley transceiver`
// says "listening", whole calls are set up in memory through the real client and Session code,
// both DTLS roles, with and without data channels; and nothing of them is left behind — the
// process's /metrics read exactly as those of a transceiver started with --warm-up-ms 0.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { warmUp } from '../../src/cli/transceiver-warm-up.ts';
import { transceiverDtlsCrypto } from '../../src/transceiver/transceiver.ts';
import { startProc, stopAll } from '../e2e/failover-helpers.ts';

after(() => stopAll());

const certificate = generateCertificate(seededRng('warm-up-server'));

test('warmUp sets up every call it starts (both DTLS roles, with and without data channels) and stops at maxCalls', () => {
  const r = warmUp({
    certificate,
    dtlsCrypto: transceiverDtlsCrypto(undefined),
    rng: seededRng('warm-up'),
    budgetMs: 1,
    maxCalls: 4,
    // A clock that never moves: only maxCalls ends it.
    now: () => 0,
  });
  assert.deepEqual({ calls: r.calls, failed: r.failed }, { calls: 4, failed: 0 });
});

test('warmUp stops at its budget, and a budget of 0 sets up nothing', () => {
  let t = 0;
  // Each read moves this clock 5 ms: the budget check sees 5, 10, 15, 20, then 25 ms elapsed, so four calls.
  const r = warmUp({
    certificate,
    dtlsCrypto: transceiverDtlsCrypto(undefined),
    rng: seededRng('warm-up-budget'),
    budgetMs: 25,
    now: () => (t += 5),
  });
  assert.deepEqual({ calls: r.calls, failed: r.failed }, { calls: 4, failed: 0 });
  assert.deepEqual(warmUp({ certificate, dtlsCrypto: transceiverDtlsCrypto(undefined), rng: seededRng('x'), budgetMs: 0, now: () => 0 }), {
    calls: 0,
    failed: 0,
    ms: 0,
  });
});

/** Ports picked by the system, no demo page, no API keys; PARLEY_WARM_UP_MS unset (its default) unless a flag says. */
const ARGS = ['transceiver', '--http', '127.0.0.1:0', '--ops', '127.0.0.1:0', '--media', '127.0.0.1:0', '--demo-page', 'off', '--no-auth'];
const env = { PARLEY_WARM_UP_MS: '', PARLEY_API_KEYS: '' };

/** The transceiver's own metric samples (process_* and nodejs_* vary run to run). */
async function transceiverSamples(ops: string): Promise<string[]> {
  const text = await (await fetch(`http://${ops}/metrics`)).text();
  return text.split('\n').filter((l) => l.startsWith('parley_transceiver_'));
}

test('parley transceiver warms up before it listens and leaves no call, session or count behind', { timeout: 60_000 }, async () => {
  const warm = startProc(ARGS, env);
  const cold = startProc([...ARGS, '--warm-up-ms', '0'], env);
  const warmLine = await warm.line('listening');
  const coldLine = await cold.line('listening');
  const warmed = warmLine.warmUp as { calls: number; ms: number };
  assert.ok(warmed.calls >= 1, JSON.stringify(warmLine));
  assert.deepEqual(coldLine.warmUp, { calls: 0, ms: 0 });
  assert.ok(!warm.lines.some((l) => l.includes('warm-up calls did not connect')), warm.lines.join('\n'));
  const warmSamples = await transceiverSamples(String(warmLine.ops));
  assert.ok(warmSamples.length > 0, 'no parley_transceiver_ samples');
  assert.ok(!warmSamples.some((l) => / [1-9]/.test(l)), `a count the warm-up left:\n${warmSamples.join('\n')}`);
  assert.deepEqual(warmSamples, await transceiverSamples(String(coldLine.ops)));
});
