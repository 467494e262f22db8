// A Redis outage, on a private redis-server this test starts and stops (never the machine's
// shared Redis): forwarding of existing flows never pauses, a new flow still works while Redis
// is down, errors are counted, and the relay reconnects when Redis returns and writes the flow
// it made during the outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELAY_HEADER_LENGTH } from '../../src/core/relay-header.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import type { RelayProcess, TestSocket } from './harness.ts';
import { countRedisKeys, startClients, freePort, openSocket, requireRedis, scrape, startPrivateRedis, startRelayProcess, waitFor } from './harness.ts';

const FLOWS = 5;
const INTERVAL_MS = 10;

test('Redis outage: existing flows keep forwarding, new flows work, the relay reconnects', async (t) => {
  if (!(await requireRedis(t))) return; // CI guarantees redis-server is installed, as for the shared one
  const redisPort = await freePort('tcp');
  let redis = await startPrivateRedis(redisPort);
  const prefix = 'parley-test:outage:';
  const tx = await openSocket();
  const clients: TestSocket[] = [];
  let relay: RelayProcess | undefined;
  let pump: NodeJS.Timeout | undefined;
  try {
    relay = await startRelayProcess(['--workers', '1', '--redis', redis.url, '--redis-prefix', prefix]);
    const pub = relay.publics[0];
    await startClients(FLOWS, tx, pub, clients);
    await waitFor(() => tx.received.length === FLOWS, 3000, 'STUN checks at the transceiver');
    await waitFor(async () => (await countRedisKeys(prefix, redis.url)) === FLOWS, 3000, 'flows in Redis');
    tx.received.length = 0;

    // Steady media on every flow: one packet per flow every 10 ms, recorded with arrival times.
    const arrivals: number[] = [];
    tx.sock.on('message', () => arrivals.push(performance.now()));
    let seq = 0;
    pump = setInterval(() => {
      seq++;
      for (const c of clients) c.send(rtp(seq), pub);
    }, INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 300));

    await redis.stop();
    const downAt = performance.now();
    await waitFor(async () => (await scrape(relay!.http)).get('parley_relay_store_connected') === 0, 5000, 'relay to notice Redis is down');

    // A new flow while Redis is down.
    const late = await openSocket();
    clients.push(late);
    const token = mintFor(tx.address);
    late.send(stunCheck(token.ufrag, token.pwd), pub);
    await tx.next(2000, (m) => m[RELAY_HEADER_LENGTH] === 0x00 && m[RELAY_HEADER_LENGTH + 1] === 0x01);
    await new Promise((r) => setTimeout(r, 700));

    // Never paused: no gap between arrivals during the outage longer than a few intervals.
    const during = arrivals.filter((a) => a >= downAt);
    assert.ok(during.length > 50, `packets during the outage: ${during.length}`);
    let maxGap = 0;
    for (let i = 1; i < during.length; i++) maxGap = Math.max(maxGap, during[i] - during[i - 1]);
    assert.ok(maxGap < 150, `longest gap while Redis was down: ${maxGap.toFixed(1)} ms`);

    redis = await startPrivateRedis(redisPort);
    await waitFor(async () => (await scrape(relay!.http)).get('parley_relay_store_connected') === 1, 8000, 'reconnect');
    // The empty new Redis receives the flow made during the outage (it waited in the queue).
    await waitFor(async () => (await countRedisKeys(prefix, redis.url)) >= 1, 3000, 'queued write after reconnect');
    const m = await scrape(relay.http);
    assert.ok((m.get('parley_relay_store_errors_total') ?? 0) > 0, 'store errors are counted');
    assert.equal(m.get('parley_relay_flows_created_total'), FLOWS + 1);
    assert.equal(m.get('parley_relay_drops_total{reason="send_error"}'), 0);
  } finally {
    clearInterval(pump);
    await Promise.all(clients.map((c) => c.close()));
    await tx.close();
    if (relay) assert.equal(await relay.stop(), 0);
    await redis.stop();
  }
});
