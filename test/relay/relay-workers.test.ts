// Two workers (in-process supervisor, worker threads): flows spread over both SO_REUSEPORT
// sockets, and after one worker is restarted every old flow — wherever the kernel now sends
// it — is forwarded again without a new STUN check, recovered through the flow store (the
// supervisor's in-memory store, and Redis).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../src/common/log.ts';
import { resolveRelayConfig } from '../../src/relay/config.ts';
import { startRelay } from '../../src/relay/relay.ts';
import type { Relay } from '../../src/relay/relay.ts';
import { RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { KEYS_TEXT, rtp } from './helpers.ts';
import type { TestSocket } from './harness.ts';
import { REDIS_URL, startClients, deleteRedisKeys, openSocket, requireRedis, uniquePrefix } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const FLOWS = 40;

function flowsPerWorker(relay: Relay): number[] {
  const text = relay.metrics.render();
  return [0, 1].map((w) => Number(new RegExp(`^parley_relay_flows\\{worker="${w}"\\} (\\d+)$`, 'm').exec(text)?.[1] ?? 0));
}

async function spreadAndRecover(extra: string[]): Promise<void> {
  const cfg = resolveRelayConfig(
    ['--workers', '2', '--listen', '127.0.0.1:0', '--internal', '127.0.0.1:0', '--http', '127.0.0.1:0', '--pin', 'off', ...extra],
    { PARLEY_KEYS: KEYS_TEXT },
  );
  const relay = await startRelay(cfg, createLogger({ component: 'relay-test', level: 'silent' }));
  const tx = await openSocket();
  const clients: TestSocket[] = [];
  try {
    const pub = relay.publics[0];
    await startClients(FLOWS, tx, pub, clients);
    await waitFor(() => tx.received.length === FLOWS, 3000, 'every STUN check');
    await waitFor(() => flowsPerWorker(relay).reduce((a, b) => a + b) === FLOWS, 2000, 'flow gauges');
    const spread = flowsPerWorker(relay);
    assert.ok(spread[0] > 0 && spread[1] > 0, `flows per worker: ${spread}`);
    // The write-behind reaches the store (worker threads, real time) before the restart.
    await waitFor(
      () => Number(/^parley_relay_store_writes_total (\d+)$/m.exec(relay.metrics.render())?.[1]) >= FLOWS,
      2000,
      'every flow written to the store',
    );

    // Restarting worker 0 makes Linux move worker 1's socket into slot 0 of the SO_REUSEPORT
    // group and the new socket into slot 1, so the flows swap workers: the restarted worker
    // finds its new flows in its start-up load, the old worker finds them by store lookup.
    await relay.restartWorker(0);
    tx.received.length = 0;
    clients.forEach((c, i) => c.send(rtp(5000 + i), pub));
    await waitFor(() => tx.received.length === FLOWS, 2000, 'RTP of every old flow after the restart');
    const seqs = tx.received.map((r) => r.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12)).sort((a, b) => a - b);
    assert.deepEqual(
      seqs,
      Array.from({ length: FLOWS }, (_, i) => 5000 + i),
    );
    const text = relay.metrics.render();
    assert.match(text, /^parley_relay_flows_created_total 40$/m);
    const lookups = Number(/^parley_relay_store_lookups_total (\d+)$/m.exec(text)?.[1]);
    assert.ok(lookups > 0, 'some flows landed on the worker that had not seen them');
    assert.match(text, new RegExp(`^parley_relay_flows_recovered_total ${FLOWS + lookups}$`, 'm'));
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await tx.close();
    await relay.stop();
  }
}

test('2 workers: flows spread over both; after a worker restart old flows recover from the in-memory store', () => spreadAndRecover([]));

test('2 workers: the same through Redis', async (t) => {
  if (!(await requireRedis(t))) return;
  const prefix = uniquePrefix('workers');
  try {
    await spreadAndRecover(['--redis', REDIS_URL, '--redis-prefix', prefix]);
  } finally {
    await deleteRedisKeys(prefix);
  }
});
