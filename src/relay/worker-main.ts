// Entry point of a relay worker thread: builds a RelayWorker from workerData and starts it.
// A start-up failure (e.g. the port is taken) is thrown, so the supervisor sees the worker's
// 'error' event with the reason.
import { parentPort, workerData } from 'node:worker_threads';
import { RelayWorker } from './worker.ts';
import type { WorkerInit } from './worker-protocol.ts';

if (!parentPort) throw new Error('worker-main.ts runs as a worker thread');
const init = workerData as WorkerInit;
const openRedis = init.store.kind === 'redis' ? (await import('./store/redis-store.ts')).RedisFlowStore.open : undefined;
const worker = await RelayWorker.create(init, parentPort, openRedis);
await worker.start();
