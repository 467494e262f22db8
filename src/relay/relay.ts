// The relay supervisor (main thread): starts the worker threads (worker 0 first, so a port-0
// listen address is fixed before the others join it with SO_REUSEPORT), pins them, hosts the
// in-memory flow store when there is no Redis, serves /metrics /healthz /readyz, restarts a
// worker that dies, and stops everything on request (SIGTERM: stop reading, flush, exit).
// It never touches packets. Why threads and not processes: docs/relay.md, "Workers".
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { MessageChannel, Worker } from 'node:worker_threads';
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import type { Clock, Timer } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import type { Logger } from '../common/log.ts';
import { MetricsRegistry } from '../common/metrics.ts';
import type { OpsHttp } from '../common/ops-http.ts';
import { startOpsHttp } from '../common/ops-http.ts';
import type { RelayConfig } from './config.ts';
import { RelayHeartbeat } from './heartbeat.ts';
import { pinThread } from './pin.ts';
import { checkJoin, refusalText } from './join-check.ts';
import { systemRng } from '../common/system-rng.ts';
import { ConfigError } from '../common/config-error.ts';
import { METRIC, Slot, newStats, registerRelayMetrics } from './stats.ts';
import { redactUrl } from '../common/redis.ts';
import { MemoryFlowStore } from './store/memory-store.ts';
import { hostMemoryStore } from './store/remote-store.ts';
import { flowRecordTtlMs } from '../contracts/flow-record.ts';
import { MAX_REVOCATION_BODY_BYTES, REVOCATION_HEADER, REVOCATIONS_PATH, RevocationAuth } from '../contracts/revocation-request.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, Keyring } from '../core/token/index.ts';
import type { WorkerInit, WorkerMessage, WorkerStoreInit } from './worker-protocol.ts';

const WORKER_URL = new URL('./worker-main.ts', import.meta.url);
const STOP_TIMEOUT_MS = 5000;
const SOCKET_BUFFER_BYTES = 4 << 20;
/**
 * Revocations one address may POST (issue #19): a transceiver sends one per ended call, so this
 * is ten times a busy transceiver's call-end rate, with a burst for many calls ending at once
 * (a drain); past it, 429 and `parley_relay_revocations_total{result="rate_limited"}`.
 */
export const REVOCATIONS_PER_IP = { ratePerSecond: 1000, burst: 2000 } as const;

export interface Relay {
  readonly publics: readonly TransportAddress[];
  /** ICE-TCP: the bound --listen-tcp addresses and the TCP side's internal UDP address (worker 0); none without --listen-tcp. */
  readonly tcp: { readonly publics: readonly TransportAddress[]; readonly internal: TransportAddress } | undefined;
  /** Internal address of each worker (transceivers answer to the one a packet came from). */
  readonly internals: readonly TransportAddress[];
  readonly http: TransportAddress;
  readonly metrics: MetricsRegistry;
  ready(): boolean;
  /** Stops worker `i` and starts a fresh one in its place (tests, operations). */
  restartWorker(i: number): Promise<void>;
  /** Stop reading, flush store writes, close everything. Idempotent. */
  stop(): Promise<void>;
}

interface Slot {
  worker: Worker | undefined;
  stats: Float64Array;
  ready: boolean;
  stopping: boolean;
  internal: TransportAddress;
}

/** `clock` times the supervisor's stop timeout and the heartbeat (the workers, in their threads, use the system clock). */
export async function startRelay(cfg: RelayConfig, log: Logger, clock: Clock = systemClock): Promise<Relay> {
  if (cfg.datapathFallback !== undefined)
    log.warn('relay datapath: js (the native addon is not available)', { reason: cfg.datapathFallback });
  else log.info(`relay datapath: ${cfg.datapath}`);
  if (cfg.joinCheck === 'on') await refuseForeignHolder(cfg, log);
  const metrics = new MetricsRegistry();
  const slots: Slot[] = Array.from({ length: cfg.workers }, (_, i) => ({
    worker: undefined,
    stats: newStats(),
    ready: false,
    stopping: false,
    internal: { ...cfg.internal, port: cfg.internal.port === 0 ? 0 : cfg.internal.port + i },
  }));
  registerRelayMetrics(metrics, () => slots.map((s) => s.stats));
  const memory =
    cfg.redis === undefined
      ? new MemoryFlowStore({ ttlMs: flowRecordTtlMs(cfg.idleTimeout * 1000), maxEntries: cfg.maxFlows * 2, clock })
      : undefined;
  let publics: TransportAddress[] = cfg.listen.map(({ advertised: _a, ...bind }) => bind);
  // `--listen POD=LB`: flow records are keyed by the LB address, so another pod behind it finds them.
  const aliases = cfg.listen.flatMap((l) => (l.advertised ? [[formatAddress(l), formatAddress(l.advertised)] as const] : []));
  let stopping = false;
  let tcp: { publics: TransportAddress[]; internal: TransportAddress } | undefined;
  const perWorkerFlows = Math.ceil(cfg.maxFlows / cfg.workers);

  /**
   * Without a shared store, a transceiver revokes an ended call's token here (contracts/
   * revocation-request.ts); the in-memory store tells every worker, as Redis would (issue #19).
   */
  function revocationsInto(store: MemoryFlowStore): NonNullable<Parameters<typeof startOpsHttp>[0]['post']> {
    const auth = new RevocationAuth(Keyring.parse(cfg.keys));
    const results = metrics.counter({
      name: METRIC.revocations,
      help: 'Token revocations POSTed to the ops listener (no shared store), by result.',
      labelNames: ['result'],
    });
    return {
      path: REVOCATIONS_PATH,
      maxBytes: MAX_REVOCATION_BODY_BYTES,
      perIp: REVOCATIONS_PER_IP,
      handle: (ufrag, headers) => {
        const header = headers[REVOCATION_HEADER];
        if (!auth.verify(ufrag, typeof header === 'string' ? header : undefined)) {
          results.labels('forbidden').inc();
          return 403;
        }
        store.revoke(ufrag, clock.wallNow() + DEFAULT_TOKEN_LIFETIME_MS + DEFAULT_CLOCK_SKEW_MS);
        results.labels('revoked').inc();
        return 204;
      },
      refused: (status) => results.labels(status === 429 ? 'rate_limited' : 'too_large').inc(),
    };
  }

  function storeInit(): { init: WorkerStoreInit; transfer: MessageChannel['port2'][] } {
    if (!memory) return { init: { kind: 'redis', url: cfg.redis as string, prefix: cfg.redisPrefix, aliases }, transfer: [] };
    const ch = new MessageChannel();
    hostMemoryStore(memory, ch.port1);
    ch.port1.unref();
    return { init: { kind: 'memory', port: ch.port2 }, transfer: [ch.port2] };
  }

  /** Starts worker i; resolves once it is bound and has loaded the store (or gave up on it). */
  function spawn(i: number): Promise<void> {
    const slot = slots[i];
    const { init: store, transfer } = storeInit();
    const data: WorkerInit = {
      index: i,
      publics,
      internal: slot.internal,
      listenTcp: i === 0 ? cfg.listenTcp : [],
      // Always SO_REUSEPORT, even with one worker: a replacement relay process binds the same
      // port while this one still runs, and takes over when this one closes (hand-over,
      // docs/global-relay.md).
      reusePort: true,
      datapath: cfg.datapath,
      keys: cfg.keys,
      transceiverCidrs: cfg.transceiverCidrs.toString(),
      maxFlows: perWorkerFlows,
      idleMs: cfg.idleTimeout * 1000,
      unconfirmedMs: cfg.unconfirmedTimeout * 1000,
      newFlowRate: cfg.newFlowRate,
      newFlowBurst: cfg.newFlowBurst,
      storeLookupRate: cfg.storeLookupRate,
      store,
      stats: slot.stats.buffer as SharedArrayBuffer,
      logLevel: cfg.logLevel,
      socketBufferBytes: SOCKET_BUFFER_BYTES,
      storeWaitMs: 2000,
    };
    const w = new Worker(WORKER_URL, { workerData: data, transferList: transfer, name: `relay-${i}` });
    slot.worker = w;
    slot.ready = false;
    slot.stopping = false;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      w.on('message', (m: WorkerMessage) => {
        if (m.t === 'bound') {
          publics = m.publics;
          slot.internal = m.internal;
          if (m.tcp) tcp = m.tcp;
          if (cfg.pin === 'on') {
            void pin(i, m.tid);
            // The native loop threads do the packet work: they get the worker's CPU too.
            for (const tid of m.nativeTids ?? []) void pin(i, tid);
          }
        } else if (m.t === 'ready') {
          slot.ready = true;
          started = true;
          resolve();
        }
      });
      w.on('error', (err) => {
        log.error('relay worker failed', { worker: i, err });
        if (!started) reject(err);
      });
      w.on('exit', (code) => {
        if (slot.worker !== w) return;
        slot.worker = undefined;
        slot.ready = false;
        if (!started) reject(new Error(`relay worker ${i} exited during start (code ${code})`));
        else if (!stopping && !slot.stopping) {
          log.error('relay worker exited; restarting it', { worker: i, code });
          spawn(i).catch((err: unknown) => log.error('relay worker restart failed', { worker: i, err }));
        }
      });
    });
  }

  async function pin(i: number, tid: number | undefined): Promise<void> {
    const cpu = cfg.cpus[i % cfg.cpus.length];
    if (tid === undefined) {
      log.warn('cannot pin relay worker: thread id unknown on this OS', { worker: i });
      return;
    }
    const why = await pinThread(tid, cpu);
    if (why) log.warn('cannot pin relay worker', { worker: i, cpu, reason: why });
    else log.info('relay worker pinned', { worker: i, cpu, tid });
  }

  async function stopWorker(i: number): Promise<void> {
    const slot = slots[i];
    const w = slot.worker;
    if (!w) return;
    slot.stopping = true;
    slot.ready = false;
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage({ t: 'stop' });
    let timer: Timer | undefined;
    await Promise.race([exited, new Promise<void>((r) => (timer = clock.timeout(STOP_TIMEOUT_MS, r)))]);
    timer?.cancel();
    if (slot.worker === w) {
      await w.terminate();
      slot.worker = undefined;
    }
  }

  /** Issue #20: an unreachable Redis is a /readyz detail (the relay still forwards the flows it holds). */
  const redisText = cfg.redis === undefined ? undefined : redactUrl(cfg.redis);
  const storeDetails = (): string[] => {
    if (redisText === undefined) return [];
    const down = slots.flatMap((s, i) => (s.worker && s.ready && s.stats[Slot.storeConnected] === 0 ? [i] : []));
    return down.length === 0 ? [] : [`flow store unreachable (--redis / PARLEY_REDIS ${redisText}) on worker(s) ${down.join(',')}`];
  };

  let ops: OpsHttp | undefined;
  try {
    ops = await startOpsHttp({
      host: cfg.http.address,
      port: cfg.http.port,
      metrics,
      ready: () => !stopping && slots.every((s) => s.ready),
      readyDetails: () => storeDetails(),
      healthy: () => !stopping,
      log,
      post: memory && revocationsInto(memory),
    });
    await spawn(0);
    await Promise.all(slots.slice(1).map((_, j) => spawn(j + 1)));
  } catch (err) {
    stopping = true;
    await Promise.all(slots.map((_, i) => stopWorker(i)));
    await ops?.close();
    throw err;
  }

  // With Redis, tell the transceivers this location has a live relay (docs/global-relay.md).
  const heartbeat =
    cfg.redis === undefined
      ? undefined
      : await RelayHeartbeat.start({
          url: cfg.redis,
          prefix: cfg.heartbeatPrefix,
          location: cfg.location,
          id: `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`,
          publics: () => publics,
          log,
          clock,
        });

  let stopped: Promise<void> | undefined;
  const relay: Relay = {
    get publics() {
      return publics;
    },
    get internals() {
      return slots.map((s) => s.internal);
    },
    get tcp() {
      return tcp;
    },
    http: ops.address,
    metrics,
    ready: () => !stopping && slots.every((s) => s.ready),
    async restartWorker(i: number): Promise<void> {
      await stopWorker(i);
      await spawn(i);
    },
    stop(): Promise<void> {
      stopped ??= (async () => {
        stopping = true;
        await heartbeat?.close();
        await Promise.all(slots.map((_, i) => stopWorker(i)));
        await ops.close();
        await memory?.close();
        log.info('relay stopped');
      })();
      return stopped;
    },
  };
  log.info('relay ready', {
    public: publics.map(formatAddress),
    internal: relay.internals.map(formatAddress),
    ...(tcp ? { tcp: tcp.publics.map(formatAddress), tcpInternal: formatAddress(tcp.internal) } : {}),
    http: formatAddress(ops.address),
    workers: cfg.workers,
    store: cfg.redis === undefined ? 'memory' : 'redis',
    datapath: cfg.datapath,
    location: cfg.location,
  });
  return relay;
}

/**
 * Issue #20: a public port already held must be held by a relay with our keys (a hand-over);
 * join-check.ts. Throws ConfigError (exit 2) naming the keys setting otherwise.
 */
async function refuseForeignHolder(cfg: RelayConfig, log: Logger): Promise<void> {
  const keyring = Keyring.parse(cfg.keys);
  const started = performance.now();
  const r = await checkJoin({
    publics: cfg.listen.map(({ advertised: _a, ...bind }) => bind),
    internal: cfg.internal,
    keyring,
    rng: systemRng,
  });
  if (r.kind === 'same_keys')
    log.info('joining a relay with the same keys on its port (hand-over)', {
      public: formatAddress(r.public),
      ms: Math.round(performance.now() - started),
    });
  if (r.kind === 'refused')
    throw new ConfigError(
      '--keys-file / PARLEY_KEYS',
      refusalText(
        r.public,
        keyring.keys.map((k) => k.id),
        cfg.internal,
      ),
    );
}
