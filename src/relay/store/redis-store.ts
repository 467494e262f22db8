// Redis flow store (`--redis URL`, node-redis v6). Keys: PREFIX + flowKey → routing token, with
// a TTL (PX) refreshed while the flow lives. Writes are behind: write() puts the record in a
// bounded map (latest wins per key) and a timer sends them in pipelined batches; nothing on
// the packet path ever waits for Redis. With Redis down, commands fail fast (no offline queue),
// writes wait in the bounded map, errors are counted, and the client reconnects with capped
// exponential back-off (src/common/redis.ts); queued writes go out when it is back.
// Each flow write also writes its token record (same TTL). Revocations (flow-record.ts): a
// second connection subscribes to their channel; on every (re)connect the records are scanned,
// so none published while this relay was away is missed.
import type { TransportAddress } from '../../core/address.ts';
import type { Clock, Timer } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { RedisClient } from '../../common/redis.ts';
import { closeRedisClient, createRedisClient } from '../../common/redis.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';
import {
  REVOKED_CHANNEL,
  flowKey,
  globEscape,
  loadRevocations,
  parseFlowKey,
  parseRevocation,
  publishRevocation,
  tokenKey,
} from '../../contracts/flow-record.ts';
import type { FlowStore, StoreObserver } from './flow-store.ts';
import { nullObserver } from './flow-store.ts';
import { formatAddress, parseAddress } from '../../core/address.ts';

export interface RedisStoreOptions {
  readonly url: string;
  readonly prefix: string;
  readonly ttlMs: number;
  /** Most queued writes kept while Redis is slow or down; the oldest are dropped beyond it. */
  readonly maxPending?: number;
  readonly lookupTimeoutMs?: number;
  readonly observer?: StoreObserver;
  /** Bound public address → the address records are keyed by (`--listen POD=LB`), HOST:PORT text. */
  readonly aliases?: readonly (readonly [string, string])[];
  /** Times the write delay, lookup and close timeouts and latencies; default the system clock. */
  readonly clock?: Clock;
}

const BATCH = 512;
const WRITE_DELAY_MS = 5;
const CLOSE_FLUSH_MS = 2000;
const SCAN_COUNT = 1000;

export class RedisFlowStore implements FlowStore {
  readonly #o: RedisStoreOptions;
  readonly #obs: StoreObserver;
  readonly #client: RedisClient;
  readonly #clock: Clock;
  readonly #pending = new Map<string, string>();
  #timer: Timer | undefined;
  #flushing: Promise<void> | undefined;
  #closing: Promise<void> | undefined;
  #up = false;
  readonly #readyWaiters: (() => void)[] = [];
  readonly #alias: ReadonlyMap<string, TransportAddress>;
  readonly #unalias: ReadonlyMap<string, TransportAddress>;
  /** The subscriber connection for revocations, once watchRevoked is called. */
  #sub: RedisClient | undefined;
  #onRevoked: ((ufrag: string, untilMs: number) => void) | undefined;

  /** Makes the client (node-redis is loaded now) and starts connecting; never throws for a down Redis. */
  static async open(o: RedisStoreOptions): Promise<RedisFlowStore> {
    const obs = o.observer ?? nullObserver;
    // Errors go to the observer, which counts and logs them (the relay worker's policy).
    const clock = o.clock ?? systemClock;
    return new RedisFlowStore(
      o,
      obs,
      clock,
      await createRedisClient({ url: o.url, what: 'flow store', onError: (err) => obs.error(err), clock }),
    );
  }

  private constructor(o: RedisStoreOptions, obs: StoreObserver, clock: Clock, client: RedisClient) {
    this.#o = o;
    this.#obs = obs;
    this.#clock = clock;
    const pairs = (o.aliases ?? []).map(([b, a]) => [b, a, parseAddress(b), parseAddress(a)] as const);
    this.#alias = new Map(pairs.flatMap(([b, , , a]) => (a ? [[b, a] as const] : [])));
    this.#unalias = new Map(pairs.flatMap(([, a, b]) => (b ? [[a, b] as const] : [])));
    this.#client = client;
    this.#client.on('ready', () => {
      this.#up = true;
      this.#obs.connected(true);
      for (const w of this.#readyWaiters.splice(0)) w();
      this.#schedule();
      this.#loadRevocations();
    });
    this.#client.on('end', () => this.#down());
    this.#client.on('reconnecting', () => this.#down());
    this.#client.connect().catch((err: unknown) => this.#obs.error(err));
  }

  #down(): void {
    if (this.#up) this.#obs.connected(false);
    this.#up = false;
  }

  /** The public address a record is keyed by: the translated one for a `--listen POD=LB` address. */
  #keyed(pub: TransportAddress): TransportAddress {
    return this.#alias.size === 0 ? pub : (this.#alias.get(formatAddress(pub)) ?? pub);
  }

  get pending(): number {
    return this.#pending.size;
  }
  get connected(): boolean {
    return this.#up;
  }

  /** Resolves true once connected, false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean> {
    if (this.#up) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (): void => {
        t.cancel();
        resolve(true);
      };
      const t = this.#clock.timeout(timeoutMs, () => {
        const i = this.#readyWaiters.indexOf(done);
        if (i >= 0) this.#readyWaiters.splice(i, 1);
        resolve(false);
      });
      this.#readyWaiters.push(done);
    });
  }

  write(rec: FlowRecord): void {
    if (this.#closing) return;
    const key = this.#o.prefix + flowKey(this.#keyed(rec.public), rec.client);
    this.#pending.delete(key);
    if (this.#pending.size >= (this.#o.maxPending ?? 100_000)) {
      const oldest = this.#pending.keys().next().value;
      if (oldest !== undefined) this.#pending.delete(oldest);
      this.#obs.error(new Error('flow store write queue full; oldest write dropped'));
    }
    this.#pending.set(key, rec.ufrag);
    const tk = this.#o.prefix + tokenKey(rec.ufrag);
    this.#pending.delete(tk);
    this.#pending.set(tk, '1');
    this.#schedule();
  }

  async hasToken(ufrag: string): Promise<boolean> {
    return (await this.#read(() => this.#client.exists(this.#o.prefix + tokenKey(ufrag)))) === 1;
  }

  revoke(ufrag: string, untilMs: number): void {
    publishRevocation(this.#client, this.#o.prefix, ufrag, untilMs, this.#clock.wallNow()).catch((err: unknown) => this.#obs.error(err));
  }

  watchRevoked(each: (ufrag: string, untilMs: number) => void): void {
    if (this.#closing || this.#onRevoked) return;
    this.#onRevoked = each;
    const sub = this.#client.duplicate();
    this.#sub = sub;
    sub.on('error', (err: unknown) => this.#obs.error(err));
    sub
      .connect()
      .then(() =>
        sub.subscribe(this.#o.prefix + REVOKED_CHANNEL, (text: string) => {
          const r = parseRevocation(text);
          if (r) each(r.ufrag, r.untilMs);
        }),
      )
      .catch((err: unknown) => this.#obs.error(err));
    if (this.#up) this.#loadRevocations();
  }

  #loadRevocations(): void {
    const each = this.#onRevoked;
    if (!each || this.#closing) return;
    loadRevocations(this.#client, this.#o.prefix, each).catch((err: unknown) => this.#obs.error(err));
  }

  #schedule(): void {
    if (this.#timer || this.#flushing || !this.#up || this.#pending.size === 0) return;
    this.#timer = this.#clock.timeout(WRITE_DELAY_MS, () => {
      this.#timer = undefined;
      this.#flushing = this.#sendBatch().finally(() => {
        this.#flushing = undefined;
        this.#schedule();
      });
    });
  }

  async #sendBatch(): Promise<void> {
    const items: [string, string][] = [];
    for (const e of this.#pending) {
      items.push(e);
      if (items.length >= BATCH) break;
    }
    for (const [k] of items) this.#pending.delete(k);
    const started = this.#clock.now();
    try {
      const multi = this.#client.multi();
      for (const [k, v] of items) multi.set(k, v, { expiration: { type: 'PX', value: this.#o.ttlMs } });
      await multi.execAsPipeline();
      this.#obs.latency((this.#clock.now() - started) / 1000);
      this.#obs.written(items.length);
    } catch (err) {
      this.#obs.error(err);
      // Put back what a newer write did not replace; it goes out after the reconnect.
      for (const [k, v] of items) if (!this.#pending.has(k) && !this.#closing) this.#pending.set(k, v);
    }
  }

  async get(pub: TransportAddress, client: TransportAddress): Promise<string | undefined> {
    return (await this.#read(() => this.#client.get(this.#o.prefix + flowKey(this.#keyed(pub), client)))) ?? undefined;
  }

  /** One lookup with the lookup timeout; rejects when Redis is down or slow. */
  async #read<T>(command: () => Promise<T>): Promise<T> {
    if (!this.#up) throw new Error('flow store not connected');
    const started = this.#clock.now();
    let timer: Timer | undefined;
    try {
      const v = await Promise.race([
        command(),
        new Promise<never>((_, reject) => {
          timer = this.#clock.timeout(this.#o.lookupTimeoutMs ?? 250, () => reject(new Error('flow store lookup timed out')));
        }),
      ]);
      this.#obs.latency((this.#clock.now() - started) / 1000);
      return v;
    } finally {
      timer?.cancel();
    }
  }

  async loadAll(each: (rec: FlowRecord) => void): Promise<number> {
    if (!this.#up) throw new Error('flow store not connected');
    let n = 0;
    for await (const keys of this.#client.scanIterator({ MATCH: globEscape(this.#o.prefix) + '*', COUNT: SCAN_COUNT })) {
      if (keys.length === 0) continue;
      const started = this.#clock.now();
      const values = await this.#client.mGet(keys);
      this.#obs.latency((this.#clock.now() - started) / 1000);
      keys.forEach((k, i) => {
        const v = values[i];
        const parsed = parseFlowKey(k.slice(this.#o.prefix.length));
        if (v === null || v === undefined || !parsed) return;
        each({ ...parsed, public: this.#unalias.get(formatAddress(parsed.public)) ?? parsed.public, ufrag: v });
        n++;
      });
    }
    return n;
  }

  /** Sends what is queued; gives up (resolves) when Redis is down. */
  async flush(): Promise<void> {
    this.#timer?.cancel();
    this.#timer = undefined;
    while (this.#up && (this.#pending.size > 0 || this.#flushing)) {
      if (this.#flushing) await this.#flushing;
      else await (this.#flushing = this.#sendBatch().finally(() => (this.#flushing = undefined)));
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      let t: Timer | undefined;
      await Promise.race([this.flush(), new Promise((r) => (t = this.#clock.timeout(CLOSE_FLUSH_MS, () => r(undefined))))]);
      t?.cancel();
      this.#timer?.cancel();
      this.#pending.clear();
      for (const w of this.#readyWaiters.splice(0)) w();
      await closeRedisClient(this.#sub);
      await closeRedisClient(this.#client);
    })();
    return this.#closing;
  }
}
