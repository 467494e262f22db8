// The one Redis client factory (src/common/redis.ts): a client to a Redis that is not there
// fails fast, reconnects with the capped back-off, counts every error and logs at most one
// line per interval (timed on the injected clock), and closes cleanly while disconnected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { ManualClock } from '../../src/common/clock.ts';
import { createLogger } from '../../src/common/log.ts';
import { ERROR_LOG_INTERVAL_MS, RECONNECT_CAP_MS, closeRedisClient, createRedisClient, reconnectDelay } from '../../src/common/redis.ts';
import { waitFor } from '../support/wait-for.ts';

/** A TCP port nothing listens on (taken and released; another process could still take it). */
async function closedPort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

test('Redis reconnect back-off doubles from 100 ms to a 2 s cap', () => {
  assert.deepEqual([0, 1, 2, 3, 4, 5, 10].map(reconnectDelay), [100, 200, 400, 800, 1600, 2000, 2000]);
});

test('a Redis that is down: every error counted, one log line per interval, close while down', async () => {
  const lines: string[] = [];
  const log = createLogger({ component: 'test', level: 'warn', sink: (l) => lines.push(l) });
  const clock = new ManualClock(1000);
  let errors = 0;
  const client = await createRedisClient({
    url: `redis://127.0.0.1:${await closedPort()}`,
    what: 'test store',
    log,
    clock,
    onError: () => errors++,
  });
  try {
    client.connect().catch(() => {});
    // The first attempt and the first reconnect (100 ms later) both fail.
    await waitFor(() => errors >= 2, 5000, 'two connection errors');
    assert.equal(lines.length, 1, 'one line for the errors within the interval');
    assert.match(JSON.parse(lines[0]).msg, /^test store error$/);
    clock.advance(ERROR_LOG_INTERVAL_MS);
    const seen = errors;
    await waitFor(() => errors > seen, 5000, 'another error');
    assert.equal(lines.length, 2, 'the next interval logs again');
    assert.equal(client.isReady, false);
  } finally {
    await closeRedisClient(client);
  }
  await closeRedisClient(client);
  await closeRedisClient(undefined);
  // node-redis sleeps out its back-off (an uncancellable timers/promises setTimeout, at most
  // RECONNECT_CAP_MS) even after destroy(): the client is closed but that timer is still ending.
  await waitFor(() => !process.getActiveResourcesInfo().includes('Timeout'), RECONNECT_CAP_MS + 1000, "node-redis's back-off sleep to end");
});
