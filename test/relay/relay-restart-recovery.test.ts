// Restart recovery through the real Redis (127.0.0.1:6379, a unique key prefix per run): flows
// are set up, the relay is killed with SIGKILL, a new relay starts on the same public port and
// RTP of the old flows — no new STUN — is forwarded again within 100 ms of it being ready.
// Also: SIGTERM flushes pending store writes and exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import type { RelayProcess, TestSocket } from './harness.ts';
import {
  REDIS_URL,
  startClients,
  answerChecks,
  countFlowRecords,
  deleteRedisKeys,
  freePort,
  openSocket,
  requireRedis,
  scrape,
  startRelayProcess,
  uniquePrefix,
  withRelayState,
} from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const FLOWS = 20;

test('after SIGKILL a new relay forwards the old flows from Redis within 100 ms of ready', async (t) => {
  if (!(await requireRedis(t))) return;
  const prefix = uniquePrefix('restart');
  const port = await freePort('udp');
  const args = ['--workers', '2', '--listen', `127.0.0.1:${port}`, '--redis', REDIS_URL, '--redis-prefix', prefix];
  const tx = await openSocket();
  answerChecks(tx);
  const clients: TestSocket[] = [];
  let a: RelayProcess | undefined;
  let b: RelayProcess | undefined;
  try {
    a = await startRelayProcess(args);
    const pub = a.publics[0];
    await startClients(FLOWS, tx, pub, clients);
    await waitFor(() => tx.received.length === FLOWS, 3000, 'all STUN checks at the transceiver');
    await waitFor(async () => (await countFlowRecords(prefix)) === FLOWS, 3000, 'flows written to Redis');
    await a.kill();
    tx.received.length = 0;

    b = await startRelayProcess(args);
    const readyAt = performance.now();
    clients.forEach((c, i) => c.send(rtp(1000 + i), pub));
    await waitFor(() => tx.received.length === FLOWS, 1000, 'RTP of every old flow').catch((e: unknown) => withRelayState(b, e));
    const elapsed = performance.now() - readyAt;
    assert.ok(elapsed <= 100, `forwarded ${elapsed.toFixed(1)} ms after ready`);
    const seqs = tx.received.map((r) => r.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12)).sort((x, y) => x - y);
    assert.deepEqual(
      seqs,
      Array.from({ length: FLOWS }, (_, i) => 1000 + i),
    );
    const m = await scrape(b.http);
    assert.equal(m.get('parley_relay_flows_recovered_total'), FLOWS * 2, 'each of 2 workers loads every flow');
    assert.equal(m.get('parley_relay_flows_created_total'), 0);
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await tx.close();
    await a?.kill();
    if (b) assert.equal(await b.stop(), 0);
    await deleteRedisKeys(prefix);
  }
});

test('SIGTERM flushes pending flow-store writes and exits 0', async (t) => {
  if (!(await requireRedis(t))) return;
  const prefix = uniquePrefix('sigterm');
  const tx = await openSocket();
  const c = await openSocket();
  const relay = await startRelayProcess(['--workers', '1', '--redis', REDIS_URL, '--redis-prefix', prefix]);
  try {
    const { ufrag, pwd } = mintFor(tx.address);
    c.send(stunCheck(ufrag, pwd), relay.publics[0]);
    await tx.next(2000).catch((e: unknown) => withRelayState(relay, e));
    assert.equal(await relay.stop(), 0);
    assert.equal(await countFlowRecords(prefix), 1);
  } finally {
    await c.close();
    await tx.close();
    await relay.kill();
    await deleteRedisKeys(prefix);
  }
});
