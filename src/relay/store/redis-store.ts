// Redis flow store (`--redis URL`, node-redis v6). Keys: PREFIX + flowKey → routing token, with
// a TTL (PX) refreshed while the flow lives. Writes are behind: write() puts the record in a
// bounded map (latest wins per key) and a timer sends them in pipelined batches; nothing on
// the packet path ever waits for Redis. With Redis down, commands fail fast (no offline queue),
// writes wait in the bounded map, errors are counted, and the client reconnects with capped
// exponential back-off (src/common/redis.ts); queued writes go out when it is back.
import type { TransportAddress } from '../../core/address.ts';
import type { Clock, Timer } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { RedisClient } from '../../common/redis.ts';
import { closeRedisClient, createRedisClient } from '../../common/redis.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';
import { flowKey, parseFlowKey } from '../../contracts/flow-record.ts';
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

/** SCAN MATCH treats * ? [ ] \ as glob syntax; a prefix is literal. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

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
    this.#schedule();
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
    if (!this.#up) throw new Error('flow store not connected');
    const started = this.#clock.now();
    let timer: Timer | undefined;
    try {
      const v = await Promise.race([
        this.#client.get(this.#o.prefix + flowKey(this.#keyed(pub), client)),
        new Promise<never>((_, reject) => {
          timer = this.#clock.timeout(this.#o.lookupTimeoutMs ?? 250, () => reject(new Error('flow store lookup timed out')));
        }),
      ]);
      this.#obs.latency((this.#clock.now() - started) / 1000);
      return v ?? undefined;
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
      await closeRedisClient(this.#client);
    })();
    return this.#closing;
  }
}
