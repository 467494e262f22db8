// One relay worker: the TypeScript control side around a datapath and its flow index. It turns
// first packets into flows through the pure route() (tokens, integrity, limits), writes flows
// behind to the store, asks the store about unknown senders (negative cache + rate limit, so
// junk cannot become a flood of store reads), bulk-loads the store at start, and has the index
// expire idle flows and hand over live ones to refresh in the store, applies the per-token limits
// (token-flows.ts) and the revocations the store announces (revoked-tokens.ts) — all on ONE 100 ms
// timer of its Clock that also advances the coarse clock the datapath stamps flows with.
// Runs inside a worker thread (worker-main.ts) but takes its port, data and clock as arguments,
// so a test runs one in process on a ManualClock.
// Past 400 lines because it is the one place where a worker's pieces meet — route, token limits,
// store, revocations, the TCP side, misconfiguration warnings — each a module of its own; what stays
// here is their wiring on the miss path and the one tick.
import type { RemoteInfo } from 'node:dgram';
import { readlinkSync } from 'node:fs';
import type { MessagePort } from 'node:worker_threads';
import type { TransportAddress } from '../core/address.ts';
import { CidrSet } from '../core/cidr.ts';
import { Keyring } from '../core/token/index.ts';
import type { Clock, Timer } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { createLogger } from '../common/log.ts';
import type { Logger } from '../common/log.ts';
import { flowRecordTtlMs } from '../contracts/flow-record.ts';
import type { Datapath, DatapathOptions } from './datapath.ts';
import { NodeDatapath } from './datapath.ts';
import { NativeDatapath, loadNativeAddon } from './datapath-native.ts';
import type { FirstCheckVerifier } from './first-check.ts';
import { nativeFirstCheck, typescriptFirstCheck } from './first-check.ts';
import type { FlowIndex, FlowView } from './flow-index.ts';
import { KeyedTokenBuckets } from '../core/rate-limit.ts';
import type { ClientRoute, RouteContext } from './route.ts';
import { TcpRelay } from './tcp/tcp-relay.ts';
import { FIRST_FLOW_WINDOW_MS, admitLate, rateKey, recoverFlow, routeFromClient } from './route.ts';
import { RevokedTokens } from './revoked-tokens.ts';
import { NATIVE_STATS_BASE, Slot, dropSlot, observeStoreLatency, removalSlot, tcpCloseSlot } from './stats.ts';
import { MisconfigWarnings } from './misconfig.ts';
import { redactUrl } from '../common/redis.ts';
import { peekUsername } from '../core/stun/index.ts';
import { fromIceChars } from '../core/token/format.ts';
import { open as openToken } from '../core/token/index.ts';
import type { DropReason, RemovalReason } from './stats.ts';
import type { OnRemoved } from './token-flows.ts';
import { DEFAULT_TOKEN_LIMITS, TokenFlows } from './token-flows.ts';
import type { NewFlow } from './flow-index.ts';
import { HELPER_NICE, lowerHelperThreads } from './thread-priority.ts';
import type { FlowStore, StoreObserver } from './store/flow-store.ts';
import type { RedisStoreOptions } from './store/redis-store.ts';
import { RemoteFlowStore } from './store/remote-store.ts';
import type { SupervisorMessage, WorkerInit, WorkerMessage } from './worker-protocol.ts';

const TICK_MS = 100;
const SWEEP_EVERY_TICKS = 10;
const NEGATIVE_CACHE_MS = 2000;
const NEGATIVE_CACHE_MAX = 10_000;
const MAX_LOOKUPS_IN_FLIGHT = 1000;
/**
 * First checks a second the native loop verifies itself, over all sources (docs/relay.md, "First
 * checks in the loop"): well above the ~68 a second its 4 096-token table holds over a first-flow
 * window; past it, checks go to JS as before.
 */
const LOOP_FIRST_CHECKS_PER_SECOND = 1000;
/** How often the per-token bookkeeping forgets tokens with no flow left (O(flows)). */
const PRUNE_EVERY_TICKS = 300;
/** At most one log line per refusal or removal reason per this interval. */
const REFUSAL_LOG_MS = 10_000;
/** Drop reasons that are the limits of docs/security.md at work: logged (rate-limited), not only counted. */
const LOGGED_DROPS: ReadonlySet<DropReason> = new Set([
  'token_revoked',
  'token_window_closed',
  'rate_limited',
  'table_full',
  'bad_integrity',
]);

/** The thread id, for pinning (Linux: /proc/thread-self → "PID/task/TID"); undefined elsewhere. */
function threadId(): number | undefined {
  try {
    const tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
    return Number.isInteger(tid) ? tid : undefined;
  } catch {
    return undefined;
  }
}

function storeObserver(stats: Float64Array, log: Logger, clock: Clock, redis: string | undefined): StoreObserver {
  let lastLog = -Infinity;
  return {
    error(err) {
      stats[Slot.storeErrors]++;
      // One line per 5 s at most: a dead Redis must not flood the logs.
      const now = clock.now();
      if (now - lastLog > 5000) {
        lastLog = now;
        if (redis === undefined) log.warn('flow store error', { err });
        else
          log.warn(`Redis unreachable or lost (flow store): is --redis / PARLEY_REDIS (${redis}) right and Redis up?`, {
            err,
            setting: '--redis / PARLEY_REDIS',
            value: redis,
          });
      }
    },
    latency: (s) => observeStoreLatency(stats, s),
    written: (n) => (stats[Slot.storeWrites] += n),
    connected(up) {
      stats[Slot.storeConnected] = up ? 1 : 0;
      log.info(up ? 'flow store connected' : 'flow store disconnected');
    },
  };
}

/** What a worker is made of besides its init data. */
export interface WorkerDeps<F extends FlowView> {
  readonly log: Logger;
  /** The worker's stats array (JS half + native half), over the supervisor's SharedArrayBuffer. */
  readonly stats: Float64Array;
  readonly store: FlowStore;
  /** The coarse clock cell the datapath stamps flows from (the worker writes it every tick). */
  readonly now: Float64Array;
  readonly datapath: Datapath<F>;
  /** The last source of return traffic outside the transceiver networks (the JS datapath writes it; the native one cannot). */
  readonly disallowedSource?: { last?: string };
  /** Time for the tick, the coarse clock (its wall time: tokens carry Unix times) and the store's timers. */
  readonly clock: Clock;
}

/** How RelayWorker.create makes the parts a test may replace. */
export interface CreateOptions {
  /** Opens the Redis store when `init` names one (worker-main.ts imports it only then). */
  readonly openRedis?: (o: RedisStoreOptions) => Promise<FlowStore>;
  /** Default: the system clock. */
  readonly clock?: Clock;
}

/** A worker as its runner sees it (worker-main.ts). */
export interface RelayWorkerHandle {
  start(): Promise<void>;
  stop(): Promise<void>;
}

export class RelayWorker<F extends FlowView> implements RelayWorkerHandle {
  readonly #init: WorkerInit;
  readonly #port: MessagePort;
  readonly #log: Logger;
  readonly #stats: Float64Array;
  readonly #now: Float64Array;
  readonly #clock: Clock;
  readonly #store: FlowStore;
  readonly #dp: Datapath<F>;
  readonly #transceiverAllowed: (ip: string) => boolean;
  readonly #keyring: Keyring;
  /** Token + MESSAGE-INTEGRITY of a first check: in the addon where it is built, whichever datapath runs. */
  readonly #firstCheck: FirstCheckVerifier;
  readonly #newFlowLimiter: KeyedTokenBuckets;
  readonly #lookupLimiter: KeyedTokenBuckets;
  readonly #negative = new Map<string, number>();
  readonly #inFlight = new Map<string, Buffer>();
  readonly #tokenFlows: TokenFlows;
  readonly #revoked = new RevokedTokens();
  readonly #removed: OnRemoved;
  readonly #misconfig: MisconfigWarnings;
  readonly #disallowedSource: { last?: string };
  /** disallowed_source drops (both halves) at the last check: the native datapath counts them in C. */
  #disallowedSeen = 0;
  /** Reason → when it was last logged (REFUSAL_LOG_MS). */
  readonly #lastLogged = new Map<string, number>();
  /** Set by start() once the datapath is bound (misses arrive only after that). */
  #ctx: RouteContext<F> | undefined;
  #publics: readonly TransportAddress[];
  #timer: Timer | undefined;
  #ticks = 0;
  #stopping = false;
  /** The ICE-TCP side, in worker 0 with --listen-tcp. */
  #tcp: TcpRelay | undefined;
  /** The sweep's callback for a flow due for a store refresh, made once (the tick allocates nothing of its own). */
  readonly #writeFlow: (f: FlowView) => void;

  /**
   * Opens the worker's flow store and makes the worker with the datapath `init` names. Workers
   * with the in-memory store never load node-redis (`o.openRedis` is imported only for Redis).
   */
  static async create(init: WorkerInit, port: MessagePort, o: CreateOptions = {}): Promise<RelayWorkerHandle> {
    const clock = o.clock ?? systemClock;
    const log = createLogger({ component: 'relay', level: init.logLevel, fields: { worker: init.index } });
    const stats = new Float64Array(init.stats);
    const obs = storeObserver(stats, log, clock, init.store.kind === 'redis' ? redactUrl(init.store.url) : undefined);
    let store: FlowStore;
    if (init.store.kind === 'memory') store = new RemoteFlowStore(init.store.port, obs, clock);
    else if (o.openRedis) {
      const { url, prefix, aliases } = init.store;
      store = await o.openRedis({ url, prefix, ttlMs: flowRecordTtlMs(init.idleMs), observer: obs, aliases, clock });
    } else throw new TypeError('a Redis store needs openRedis');
    const now = new Float64Array(1);
    now[0] = clock.wallNow();
    const disallowedSource: { last?: string } = {};
    const dpo: DatapathOptions = {
      onDisallowedSource: (a) => (disallowedSource.last = a),
      publics: init.publics,
      internal: init.internal,
      reusePort: init.reusePort,
      socketBufferBytes: init.socketBufferBytes,
      maxFlows: init.maxFlows,
      idleMs: init.idleMs,
      stats,
      now,
      transceiverCidrs: CidrSet.parse(init.transceiverCidrs),
    };
    const deps = { log, stats, store, now, clock, disallowedSource };
    return init.datapath === 'native'
      ? new RelayWorker(init, port, { ...deps, datapath: new NativeDatapath(dpo) })
      : new RelayWorker(init, port, { ...deps, datapath: new NodeDatapath(dpo) });
  }

  constructor(init: WorkerInit, port: MessagePort, deps: WorkerDeps<F>) {
    this.#init = init;
    this.#port = port;
    this.#log = deps.log;
    this.#stats = deps.stats;
    this.#store = deps.store;
    this.#now = deps.now;
    this.#clock = deps.clock;
    this.#dp = deps.datapath;
    this.#stats[Slot.flows] = 0;
    this.#publics = init.publics;
    const allowed = CidrSet.parse(init.transceiverCidrs).matcher();
    const internalV6 = init.internal.family === 'IPv6';
    // The internal socket has one family; a destination of the other could never be reached.
    this.#transceiverAllowed = (ip) => ip.includes(':') === internalV6 && allowed(ip);
    this.#keyring = Keyring.parse(init.keys);
    const addon = loadNativeAddon();
    this.#firstCheck = addon instanceof Error ? typescriptFirstCheck(this.#keyring) : nativeFirstCheck(addon, this.#keyring);
    this.#tokenFlows = new TokenFlows({ ...DEFAULT_TOKEN_LIMITS, unconfirmedMs: init.unconfirmedMs });
    this.#newFlowLimiter = new KeyedTokenBuckets({ ratePerSecond: init.newFlowRate, burst: init.newFlowBurst, maxKeys: 100_000 });
    this.#lookupLimiter = new KeyedTokenBuckets({ ratePerSecond: init.storeLookupRate, burst: init.storeLookupRate, maxKeys: 1 });
    this.#writeFlow = (f) => this.#storeWrite(f);
    this.#removed = (reason, f) => this.#onRemoved(reason, f);
    this.#disallowedSource = deps.disallowedSource ?? {};
    this.#misconfig = new MisconfigWarnings({
      transceiverCidrs: init.transceiverCidrs,
      keyIds: this.#keyring.keys.map((k) => k.id),
      redis: init.store.kind === 'redis' ? redactUrl(init.store.url) : undefined,
    });
    port.on('message', (m: SupervisorMessage) => {
      if (m.t === 'stop') void this.stop();
    });
  }

  #post(m: WorkerMessage): void {
    this.#port.postMessage(m);
  }

  async start(): Promise<void> {
    const bound = await this.#dp.bind({
      onClientMiss: (msg, rinfo, i) => this.#onClientMiss(msg, rinfo, i),
      onFirstFlowMade: (msg, rinfo, i) => this.#onFirstFlowMade(rinfo, i),
      onSocketError: (err) => this.#log.debug('socket error', { err }),
    });
    this.#publics = bound.publics;
    this.#ctx = {
      keyring: this.#keyring,
      firstCheck: this.#firstCheck,
      table: bound.index,
      newFlowLimiter: this.#newFlowLimiter,
      publics: bound.publics,
      transceiverAllowed: this.#transceiverAllowed,
      tokenFlows: this.#tokenFlows,
      revoked: this.#revoked,
      removed: this.#removed,
    };
    const ctx = this.#ctx;
    const native = this.#firstCheck.native;
    const inLoop = native !== undefined && this.#dp.firstChecksInLoop !== undefined && this.#init.firstChecksInLoop !== false;
    if (inLoop)
      this.#dp.firstChecksInLoop?.({
        ...native,
        firstFlowWindowMs: FIRST_FLOW_WINDOW_MS,
        ratePerSecond: this.#init.newFlowRate,
        burst: this.#init.newFlowBurst,
        checksPerSecond: LOOP_FIRST_CHECKS_PER_SECOND,
      });
    this.#log.debug('first checks verified', { by: this.#firstCheck.kind, inLoop });
    this.#store.watchRevoked((ufrag, untilMs) => {
      this.#revoked.add(ufrag, untilMs);
      if (untilMs > this.#now[0]) this.#dp.revokeToken?.(ufrag);
      if (untilMs > this.#now[0]) this.#tcp?.revoke(ufrag);
      if (untilMs > this.#now[0]) this.#tokenFlows.release(ctx.table, ufrag, this.#removed);
      this.#stats[Slot.flows] = ctx.table.size;
    });
    const tid = threadId();
    const loops = this.#dp.tids;
    if (loops.length > 0) {
      // The loop threads forward; V8's helper threads yield the core to them.
      const p = lowerHelperThreads(loops);
      if (p.failed) this.#log.warn('cannot lower the priority of the V8 helper threads', { reason: p.failed });
      else this.#log.debug('V8 helper threads at lower priority', { nice: HELPER_NICE, threads: p.changed.length });
    }
    if (this.#init.listenTcp.length > 0) this.#tcp = await this.#startTcp(ctx, bound.internal);
    const tcp = this.#tcp && { publics: [...this.#tcp.listening], internal: this.#tcp.internal };
    this.#post({ t: 'bound', publics: bound.publics, internal: bound.internal, tcp, tid, nativeTids: loops });
    this.#timer = this.#clock.interval(TICK_MS, () => this.#tick());
    const loaded = await this.#bulkLoad(this.#ctx);
    this.#post({ t: 'ready', loaded });
  }

  /** The ICE-TCP side (worker 0 with --listen-tcp): the same checks as this worker's UDP flows, counted in its stats. */
  #startTcp(ctx: RouteContext<F>, internal: TransportAddress): Promise<TcpRelay> {
    const stats = this.#stats;
    return TcpRelay.start({
      listen: this.#init.listenTcp,
      internal: { ...internal, port: 0 },
      check: ctx,
      clock: this.#clock,
      socketBufferBytes: this.#init.socketBufferBytes,
      log: this.#log,
      events: {
        accepted: () => {
          stats[Slot.tcpAccepted]++;
          stats[Slot.tcpConnections]++;
        },
        closed: (reason) => {
          stats[tcpCloseSlot[reason]]++;
          // A refusal at accept never counted as held.
          if (reason !== 'too_many_connections' && reason !== 'too_many_from_ip') stats[Slot.tcpConnections]--;
          this.#logLimited(`tcp:${reason}`, 'tcp connection closed', { reason });
        },
        dropped: (reason) => this.#drop(reason),
        forwarded: (direction, bytes) => {
          if (direction === 'to_client') {
            stats[Slot.pktsToClient]++;
            stats[Slot.bytesToClient] += bytes;
          } else {
            stats[Slot.pktsToTransceiver]++;
            stats[Slot.bytesToTransceiver] += bytes;
          }
        },
      },
    });
  }

  async #bulkLoad(ctx: RouteContext<F>): Promise<number> {
    if (!(await this.#store.whenReady(this.#init.storeWaitMs))) {
      this.#log.warn('flow store not reachable at start; serving without loading stored flows');
      return 0;
    }
    const started = this.#clock.now();
    try {
      let n = 0;
      await this.#store.loadAll((rec) => {
        const i = this.#publicIndex(rec.public);
        if (i >= 0 && 'flow' in recoverFlow(ctx, rec.client, i, rec.ufrag, this.#now[0])) n++;
      });
      this.#stats[Slot.flowsRecovered] += n;
      this.#stats[Slot.flows] = ctx.table.size;
      this.#log.info('loaded flows from the store', { flows: n, ms: Math.round(this.#clock.now() - started) });
      return n;
    } catch (err) {
      this.#stats[Slot.storeErrors]++;
      this.#log.warn('bulk load from the flow store failed', { err });
      return 0;
    }
  }

  #publicIndex(a: TransportAddress): number {
    return this.#publics.findIndex((p) => p.port === a.port && p.address === a.address);
  }

  #drop(reason: DropReason, rinfo?: RemoteInfo, msg?: Buffer): void {
    this.#stats[dropSlot[reason]]++;
    if (LOGGED_DROPS.has(reason)) this.#logLimited(reason, 'new flow refused', rinfo && { from: `${rinfo.address}:${rinfo.port}` });
    const w = this.#misconfig.dropped(reason, this.#clock.now(), 1, msg && (() => this.#offendingValue(reason, msg)), rinfo?.address);
    if (w) this.#log.warn(w.msg, w.fields);
  }

  /** What a misconfiguration warning names for a dropped check: the token's destination or key id. Only on drop paths. */
  #offendingValue(reason: DropReason, msg: Buffer): string | undefined {
    if (reason !== 'disallowed_destination' && reason !== 'token_unknown_key') return undefined;
    const username = peekUsername(msg);
    const ufrag = username?.slice(0, Math.max(0, username.indexOf(':')));
    if (!ufrag) return undefined;
    if (reason === 'token_unknown_key') {
      const id = fromIceChars(ufrag)?.[1];
      return id === undefined ? undefined : `key id ${id}`;
    }
    const opened = openToken(ufrag, this.#keyring, this.#now[0]);
    return opened.ok ? opened.destination.address : undefined;
  }

  /** Return traffic dropped as disallowed_source since the last check (counted by either datapath), warned about with its source. */
  #checkDisallowedSources(): void {
    const slot = dropSlot.disallowed_source;
    const total = this.#stats[slot] + (this.#stats[NATIVE_STATS_BASE + slot] ?? 0);
    const n = total - this.#disallowedSeen;
    this.#disallowedSeen = total;
    if (n <= 0) return;
    const w = this.#misconfig.dropped('disallowed_source', this.#clock.now(), n, this.#disallowedSource.last);
    if (w) this.#log.warn(w.msg, w.fields);
  }

  #onRemoved(reason: RemovalReason, f: FlowView): void {
    this.#stats[removalSlot[reason]]++;
    this.#stats[Slot.flows] = this.#ctx?.table.size ?? 0;
    this.#logLimited(`removed:${reason}`, 'flow removed by the per-token limits', { reason, client: `${f.clientAddress}:${f.clientPort}` });
  }

  /** One line per key per REFUSAL_LOG_MS: a flood is counted in /metrics, not written to the log. */
  #logLimited(key: string, msg: string, fields: Record<string, unknown> = {}): void {
    const now = this.#clock.now();
    if (now - (this.#lastLogged.get(key) ?? -Infinity) < REFUSAL_LOG_MS) return;
    this.#lastLogged.set(key, now);
    this.#log.info(msg, { reason: key, ...fields });
  }

  #onClientMiss(msg: Buffer, rinfo: RemoteInfo, index: number): void {
    const ctx = this.#ctx;
    if (this.#stopping || !ctx) return;
    this.#carryOut(ctx, routeFromClient(ctx, msg, rinfo, index, this.#now[0]), msg, rinfo, index);
  }

  /**
   * The native loop made this first check's flow itself and forwarded the check (docs/relay.md,
   * "First checks in the loop"): what route.ts admit and #carryOut do for a created flow besides
   * the insert — the per-token limits (token-flows.ts stays their authority: they may remove
   * another flow of the token at once), this worker's rate bucket, the stats, the store write.
   * It comes through the miss queue in packet order, so this runs before any later packet of
   * the client reaches route.ts.
   */
  #onFirstFlowMade(rinfo: RemoteInfo, index: number): void {
    const ctx = this.#ctx;
    if (this.#stopping || !ctx) return;
    const now = this.#now[0];
    this.#newFlowLimiter.charge(rateKey(rinfo.address), now);
    const flow = ctx.table.get(rinfo.address, rinfo.port, index);
    if (!flow) return;
    // As route.ts admit: room is made for an unconfirmed flow (the transceiver may have answered already).
    if (!flow.confirmed) ctx.tokenFlows.makeRoom(ctx.table, flow.ufrag, ctx.removed);
    ctx.tokenFlows.track(flow, now);
    this.#stats[Slot.flowsCreated]++;
    this.#stats[Slot.flows] = ctx.table.size;
    this.#storeWrite(flow);
    this.#negative.delete(`${index}|${rinfo.address}|${rinfo.port}`);
  }

  #carryOut(ctx: RouteContext<F>, r: ClientRoute<F>, msg: Buffer, rinfo: RemoteInfo, index: number): void {
    switch (r.kind) {
      case 'forward':
        this.#dp.forward(r.flow, msg);
        return;
      case 'takeover_refused':
        this.#stats[Slot.takeoversRefused]++;
        this.#logLimited('takeover_refused', "check for another call from a live flow's address", {
          from: `${rinfo.address}:${rinfo.port}`,
        });
        this.#dp.forward(r.flow, msg);
        return;
      case 'created':
        // The check first (issue #18: it is on the call's setup path); the store's copy is queued after it.
        this.#dp.forward(r.flow, msg);
        this.#stats[Slot.flowsCreated]++;
        this.#stats[Slot.flows] = ctx.table.size;
        this.#storeWrite(r.flow);
        this.#negative.delete(`${index}|${rinfo.address}|${rinfo.port}`);
        return;
      case 'lookup':
        this.#lookup(ctx, msg, rinfo, index);
        return;
      case 'ask_store':
        this.#askToken(ctx, r.flow, msg, rinfo, index);
        return;
      case 'drop':
        this.#drop(r.reason, rinfo, msg);
        return;
    }
  }

  /** A verified check for a token past its first-flow window that this worker holds no flow of: does any relay? */
  #askToken(ctx: RouteContext<F>, flow: NewFlow, msg: Buffer, rinfo: RemoteInfo, index: number): void {
    const key = `${index}|${rinfo.address}|${rinfo.port}`;
    if (this.#inFlight.has(key) || !this.#store.connected) {
      this.#drop(this.#store.connected ? 'token_window_closed' : 'store_unavailable', rinfo);
      return;
    }
    if (this.#inFlight.size >= MAX_LOOKUPS_IN_FLIGHT || !this.#lookupLimiter.take('', this.#now[0])) {
      this.#stats[Slot.storeLookupsSkipped]++;
      this.#drop('store_unavailable', rinfo);
      return;
    }
    this.#inFlight.set(key, msg);
    this.#stats[Slot.tokenLookups]++;
    this.#store.hasToken(flow.ufrag).then(
      (has) => {
        this.#inFlight.delete(key);
        if (!this.#stopping) this.#carryOut(ctx, admitLate(ctx, flow, has, this.#now[0]), msg, rinfo, index);
      },
      () => {
        this.#inFlight.delete(key);
        this.#stats[Slot.storeErrors]++;
        this.#drop('store_unavailable');
      },
    );
  }

  #storeWrite(f: FlowView): void {
    this.#store.write({
      public: this.#publics[f.publicIndex],
      client: { address: f.clientAddress, port: f.clientPort, family: f.clientFamily },
      ufrag: f.ufrag,
    });
  }

  /** A media-shaped packet from an unknown sender: maybe another worker's or process's flow. */
  #lookup(ctx: RouteContext<F>, msg: Buffer, rinfo: RemoteInfo, index: number): void {
    const key = `${index}|${rinfo.address}|${rinfo.port}`;
    const now = this.#now[0];
    if (this.#inFlight.has(key)) {
      // Keep only the newest packet to forward if the flow is found.
      this.#inFlight.set(key, msg);
      this.#drop('not_stun');
      return;
    }
    const neg = this.#negative.get(key);
    if (neg !== undefined && neg > now) {
      // Asked lately, and the store had no flow for it.
      this.#stats[Slot.storeLookupsSkipped]++;
      this.#drop('not_stun');
      return;
    }
    if (!this.#store.connected) {
      this.#stats[Slot.storeLookupsSkipped]++;
      this.#drop('store_unavailable');
      return;
    }
    if (this.#inFlight.size >= MAX_LOOKUPS_IN_FLIGHT || !this.#lookupLimiter.take('', now)) {
      // Over the lookup budget: junk from many addresses must not become a flood of store reads.
      this.#stats[Slot.storeLookupsSkipped]++;
      this.#drop('not_stun');
      return;
    }
    this.#inFlight.set(key, msg);
    this.#stats[Slot.storeLookups]++;
    const client: TransportAddress = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    this.#store.get(this.#publics[index], client).then(
      (ufrag) => {
        const held = this.#inFlight.get(key);
        this.#inFlight.delete(key);
        if (this.#stopping || !held) return;
        const r = ufrag === undefined ? { reason: 'not_stun' as const } : recoverFlow(ctx, client, index, ufrag, this.#now[0]);
        if ('reason' in r) {
          this.#remember(key);
          this.#drop(r.reason);
          return;
        }
        this.#stats[Slot.flowsRecovered]++;
        this.#stats[Slot.flows] = ctx.table.size;
        this.#dp.forward(r.flow, held);
      },
      () => {
        // A failed lookup (store down or slow) loses this packet, not the flow: the client's next
        // consent check re-creates it.
        this.#inFlight.delete(key);
        this.#stats[Slot.storeErrors]++;
        this.#drop('store_unavailable');
      },
    );
  }

  #remember(key: string): void {
    if (this.#negative.size >= NEGATIVE_CACHE_MAX) {
      const oldest = this.#negative.keys().next().value;
      if (oldest !== undefined) this.#negative.delete(oldest);
    }
    this.#negative.set(key, this.#now[0] + NEGATIVE_CACHE_MS);
  }

  #tick(): void {
    const now = this.#clock.wallNow();
    this.#now[0] = now;
    const index: FlowIndex<F> | undefined = this.#ctx?.table;
    if (!index || this.#stopping) return;
    // Unconfirmed flows past their time, tokens over their cap (cheap when there are none).
    this.#tokenFlows.tick(index, now, this.#removed);
    if (++this.#ticks % PRUNE_EVERY_TICKS === 0) {
      this.#tokenFlows.prune(index);
      this.#revoked.prune(now);
    }
    if (this.#ticks % SWEEP_EVERY_TICKS !== 0) return;
    this.#checkDisallowedSources();
    // Idle expiry, and the store refresh: RFC 7675 consent checks (every ~5 s) keep flows seen;
    // a flow that saw traffic since its last write is written again about twice per idle timeout.
    this.#stats[Slot.flowsExpired] += index.sweep(now, this.#init.idleMs / 2, this.#writeFlow);
    for (const [k, until] of this.#negative) if (until <= now) this.#negative.delete(k);
    if (this.#ticks % (SWEEP_EVERY_TICKS * 10) === 0) this.#newFlowLimiter.prune(now);
    this.#stats[Slot.flows] = index.size;
    this.#stats[Slot.storePending] = this.#store.pending;
  }

  /** SIGTERM path: stop reading, flush pending store writes, release everything. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    this.#timer?.cancel();
    await this.#tcp?.stop();
    await this.#dp.close();
    await this.#store.flush().catch(() => {});
    await this.#store.close().catch(() => {});
    this.#stats[Slot.flows] = 0;
    this.#stats[Slot.storePending] = 0;
    this.#stats[Slot.storeConnected] = 0;
    this.#post({ t: 'stopped' });
    this.#port.close();
  }
}
