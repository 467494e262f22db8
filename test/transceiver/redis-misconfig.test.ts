// Loud misconfiguration on the transceiver (issue #20 item 1): `--redis` with unnamed `--relays`
// (heartbeats would silently not be read) exits 2 naming the setting; a Redis that is
// unreachable at start, or lost later, is a warning naming --redis and the URL and a line in
// /readyz — while the transceiver keeps serving (200). Real processes, a private redis-server.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { startProc, startTransceiver, stopAll } from '../e2e/failover-helpers.ts';
import { freePort, startPrivateRedis } from '../relay/harness.ts';
import { waitFor } from '../support/wait-for.ts';

after(() => stopAll());

const readyz = async (base: string): Promise<{ status: number; body: string }> => {
  const res = await fetch(`${base}/readyz`, { signal: AbortSignal.timeout(3000) });
  return { status: res.status, body: await res.text() };
};

test('--redis with unnamed --relays exits 2 naming --redis and how to name the location', async () => {
  const p = startProc(['transceiver', '--relays', '127.0.0.1:3478', '--redis', 'redis://127.0.0.1:6379', '--http', '127.0.0.1:0']);
  assert.equal(await p.exited(), 2, p.lines.join('\n'));
  const text = p.lines.join('\n');
  assert.match(text, /--redis \/ PARLEY_REDIS/);
  assert.match(text, /--relays default=127\.0\.0\.1:3478/);
});

test('Redis unreachable at start: a warning naming --redis and the URL, and a /readyz line (still 200)', async () => {
  const port = await freePort('tcp');
  const url = `redis://127.0.0.1:${port}`;
  const trx = await startTransceiver(['--relays', 'default=127.0.0.1:3478', '--redis', url]);
  const warned = await waitFor(
    () => trx.lines.find((l) => l.includes('"level":"warn"') && l.includes('"setting":"--redis / PARLEY_REDIS"')),
    10_000,
    'a Redis warning',
  );
  assert.ok(warned.includes(url), warned);
  const r = await readyz(trx.ops);
  assert.equal(r.status, 200, 'calls still work without Redis');
  assert.match(r.body, new RegExp(`warning: redis unreachable \\(--redis / PARLEY_REDIS ${url}\\)`));
  trx.child.kill('SIGTERM');
  await trx.exited();
});

test('Redis lost mid-run: /readyz gains the line, and loses it when Redis is back', { timeout: 60_000 }, async () => {
  const port = await freePort('tcp');
  let redis = await startPrivateRedis(port);
  const trx = await startTransceiver(['--relays', 'default=127.0.0.1:3478', '--redis', redis.url]);
  try {
    await waitFor(async () => !(await readyz(trx.ops)).body.includes('warning'), 10_000, 'no warning while Redis is up');
    await redis.stop();
    const lost = await waitFor(
      async () => {
        const r = await readyz(trx.ops);
        return r.body.includes('warning: redis unreachable') ? r : undefined;
      },
      15_000,
      '/readyz names the lost Redis',
    );
    assert.equal(lost.status, 200);
    redis = await startPrivateRedis(port);
    await waitFor(async () => !(await readyz(trx.ops)).body.includes('warning'), 15_000, 'the line goes once Redis is back');
  } finally {
    trx.child.kill('SIGTERM');
    await trx.exited();
    await redis.stop();
  }
});
