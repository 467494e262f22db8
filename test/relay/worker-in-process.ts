// A relay worker in this test's own thread on a ManualClock (no worker thread, no child
// process): the real RelayWorker with the datapath TEST_DATAPATH names and real sockets on
// 127.0.0.1, its in-memory flow store hosted here as the supervisor would. Time in the worker —
// its tick, the coarse clock the datapath stamps flows with, idle expiry, the store refresh, the
// store's own timers — moves only when the test advances the clock, so a test of behaviour that
// takes seconds of our own timers never sleeps.
import { MessageChannel } from 'node:worker_threads';
import type { ManualClock } from '../../src/common/clock.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { flowRecordTtlMs } from '../../src/contracts/flow-record.ts';
import { NATIVE_STATS_BASE, newStats } from '../../src/relay/stats.ts';
import { MemoryFlowStore } from '../../src/relay/store/memory-store.ts';
import { hostMemoryStore } from '../../src/relay/store/remote-store.ts';
import { RelayWorker } from '../../src/relay/worker.ts';
import type { WorkerInit, WorkerMessage } from '../../src/relay/worker-protocol.ts';
import { TEST_DATAPATH } from './harness.ts';
import { KEYS_TEXT } from './helpers.ts';
import { DEFAULT_TOKEN_LIMITS } from '../../src/relay/token-flows.ts';

export interface InProcessWorker {
  readonly publics: readonly TransportAddress[];
  readonly internal: TransportAddress;
  /** The supervisor's side of the flow store. */
  readonly store: MemoryFlowStore;
  /** A stats slot, both halves (JS and native) summed as /metrics does. */
  stat(slot: number): number;
  stop(): Promise<void>;
}

export async function startWorkerInProcess(
  clock: ManualClock,
  o: Partial<Pick<WorkerInit, 'idleMs' | 'maxFlows' | 'transceiverCidrs'>> = {},
): Promise<InProcessWorker> {
  const idleMs = o.idleMs ?? 60_000;
  const store = new MemoryFlowStore({ ttlMs: flowRecordTtlMs(idleMs), maxEntries: 1000, clock });
  const storeChannel = new MessageChannel();
  hostMemoryStore(store, storeChannel.port1);
  const supervisor = new MessageChannel();
  const stats = newStats();
  const init: WorkerInit = {
    index: 0,
    publics: [{ address: '127.0.0.1', port: 0, family: 'IPv4' }],
    listenTcp: [],
    internal: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    reusePort: false,
    datapath: TEST_DATAPATH,
    keys: KEYS_TEXT,
    transceiverCidrs: o.transceiverCidrs ?? '127.0.0.0/8',
    maxFlows: o.maxFlows ?? 100,
    idleMs,
    unconfirmedMs: DEFAULT_TOKEN_LIMITS.unconfirmedMs,
    newFlowRate: 100,
    newFlowBurst: 200,
    storeLookupRate: 1000,
    store: { kind: 'memory', port: storeChannel.port2 },
    stats: stats.buffer as SharedArrayBuffer,
    logLevel: 'silent',
    socketBufferBytes: 1 << 20,
    storeWaitMs: 2000,
  };
  const bound = new Promise<Extract<WorkerMessage, { t: 'bound' }>>((resolve) =>
    supervisor.port1.on('message', (m: WorkerMessage) => {
      if (m.t === 'bound') resolve(m);
    }),
  );
  const worker = await RelayWorker.create(init, supervisor.port2, { clock });
  await worker.start();
  const b = await bound;
  return {
    publics: b.publics,
    internal: b.internal,
    store,
    stat: (slot) => stats[slot] + stats[NATIVE_STATS_BASE + slot],
    async stop() {
      await worker.stop();
      supervisor.port1.close();
      storeChannel.port1.close();
      await store.close();
    },
  };
}
