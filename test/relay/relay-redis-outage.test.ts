// A Redis outage, on a private redis-server this test starts and stops (never the machine's
// shared Redis): forwarding of existing flows never pauses, a new flow still works while Redis
// is down, errors are counted (and media from unknown addresses as store_unavailable), and the
// relay reconnects when Redis returns and writes the flow it made during the outage.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import type { RelayProcess, TestSocket } from './harness.ts';
import {
  answerChecks,
  countFlowRecords,
  drops,
  startClients,
  freePort,
  openSocket,
  requireRedis,
  scrape,
  startPrivateRedis,
  startRelayProcess,
} from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const FLOWS = 5;
const INTERVAL_MS = 10;

test('Redis outage: existing flows keep forwarding, new flows work, the relay reconnects', async (t) => {
  if (!(await requireRedis(t))) return; // CI guarantees redis-server is installed, as for the shared one
  const redisPort = await freePort('tcp');
  let redis = await startPrivateRedis(redisPort);
  const prefix = 'parley-test:outage:';
  const tx = await openSocket();
  answerChecks(tx);
  const clients: TestSocket[] = [];
  let relay: RelayProcess | undefined;
  let pump: NodeJS.Timeout | undefined;
  try {
    relay = await startRelayProcess(['--workers', '1', '--redis', redis.url, '--redis-prefix', prefix]);
    const pub = relay.publics[0];
    await startClients(FLOWS, tx, pub, clients);
    await waitFor(() => tx.received.length === FLOWS, 3000, 'STUN checks at the transceiver');
    await waitFor(async () => (await countFlowRecords(prefix, redis.url)) === FLOWS, 3000, 'flows in Redis');
    tx.received.length = 0;

    // Steady media on every old flow: one packet per flow every 10 ms. Each packet's sequence
    // number maps to its send time, so the check is per packet (no loss, bounded delay) and
    // does not depend on how punctually this busy test process's timer fires.
    const sentAt = new Map<number, number>();
    const got: { seq: number; delay: number }[] = [];
    tx.sock.on('message', (m: Buffer) => {
      if (m[RELAY_HEADER_LENGTH] !== 0x80) return;
      const seqOf = m.readUInt32BE(RELAY_HEADER_LENGTH + 12);
      const at = sentAt.get(seqOf);
      if (at !== undefined) got.push({ seq: seqOf, delay: performance.now() - at });
    });
    const old = [...clients];
    let seq = 0;
    pump = setInterval(() => {
      seq++;
      sentAt.set(seq, performance.now());
      for (const c of old) c.send(rtp(seq), pub);
    }, INTERVAL_MS);
    await new Promise((r) => setTimeout(r, 300));

    await redis.stop();
    const firstSeq = seq + 1;
    await waitFor(async () => (await scrape(relay!.http)).get('parley_relay_store_connected') === 0, 5000, 'relay to notice Redis is down');

    // Media from an address the relay does not know, while the store cannot answer: counted as
    // store_unavailable (the store might have had its flow), not as not_stun.
    const stranger = await openSocket();
    clients.push(stranger);
    const unavailable = drops(await scrape(relay.http), 'store_unavailable');
    stranger.send(rtp(1), pub);
    await waitFor(async () => drops(await scrape(relay!.http), 'store_unavailable') === unavailable + 1, 3000, 'store_unavailable counted');

    // A new flow while Redis is down.
    const late = await openSocket();
    clients.push(late);
    const token = mintFor(tx.address);
    late.send(stunCheck(token.ufrag, token.pwd), pub);
    await tx.next(2000, (m) => m[RELAY_HEADER_LENGTH] === 0x00 && m[RELAY_HEADER_LENGTH + 1] === 0x01);
    await new Promise((r) => setTimeout(r, 700));
    const lastSeq = seq;
    await new Promise((r) => setTimeout(r, 200));

    // Never paused: every packet sent while Redis was down arrived, none held up.
    const expected = (lastSeq - firstSeq + 1) * FLOWS;
    assert.ok(expected >= 20 * FLOWS, `rounds during the outage: ${lastSeq - firstSeq + 1}`);
    const during = got.filter((g) => g.seq >= firstSeq && g.seq <= lastSeq);
    assert.equal(during.length, expected, 'every packet sent during the outage was forwarded');
    const worst = Math.max(...during.map((g) => g.delay));
    assert.ok(worst < 250, `worst relay delay while Redis was down: ${worst.toFixed(1)} ms`);

    redis = await startPrivateRedis(redisPort);
    await waitFor(async () => (await scrape(relay!.http)).get('parley_relay_store_connected') === 1, 8000, 'reconnect');
    // The empty new Redis receives the flow made during the outage (it waited in the queue).
    await waitFor(async () => (await countFlowRecords(prefix, redis.url)) >= 1, 3000, 'queued write after reconnect');
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
