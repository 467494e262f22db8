// In-memory flow store: the default when no --redis is given. One instance lives in the relay's
// supervisor thread and its workers reach it through remote-store.ts, so a worker that is
// restarted, or gets another worker's flow, recovers it as it would from Redis. It does not
// survive the process (use Redis for that). Entries expire after the TTL like Redis keys.
// Token records and revocations (flow-store.ts) are kept beside, bounded like the flows.
import type { TransportAddress } from '../../core/address.ts';
import type { Clock } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';
import { flowKey, parseFlowKey } from '../../contracts/flow-record.ts';
import type { FlowStore } from './flow-store.ts';

export class MemoryFlowStore implements FlowStore {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, { ufrag: string; expiresAt: number }>();
  /** Token → when its record expires (written with each of its flows). */
  readonly #tokens = new Map<string, number>();
  /** Revoked token → Unix ms until which it stands. */
  readonly #revoked = new Map<string, number>();
  readonly #watchers = new Set<(ufrag: string, untilMs: number) => void>();

  constructor(o: { ttlMs: number; maxEntries: number; clock?: Clock }) {
    this.#ttlMs = o.ttlMs;
    this.#maxEntries = o.maxEntries;
    this.#clock = o.clock ?? systemClock;
  }

  get pending(): number {
    return 0;
  }
  async whenReady(): Promise<boolean> {
    return this.connected;
  }
  get connected(): boolean {
    return true;
  }
  get size(): number {
    return this.#entries.size;
  }

  write(rec: FlowRecord): void {
    const key = flowKey(rec.public, rec.client);
    // Re-insert so Map order is oldest-written first, and evict from the front when full.
    this.#entries.delete(key);
    if (this.#entries.size >= this.#maxEntries) this.#sweep();
    if (this.#entries.size >= this.#maxEntries) {
      const oldest = this.#entries.keys().next().value;
      if (oldest !== undefined) this.#entries.delete(oldest);
    }
    this.#entries.set(key, { ufrag: rec.ufrag, expiresAt: this.#clock.now() + this.#ttlMs });
    setBounded(this.#tokens, rec.ufrag, this.#clock.now() + this.#ttlMs, this.#maxEntries);
  }

  async hasToken(ufrag: string): Promise<boolean> {
    return this.hasTokenNow(ufrag);
  }

  hasTokenNow(ufrag: string): boolean {
    const until = this.#tokens.get(ufrag);
    return until !== undefined && this.#clock.now() < until;
  }

  revoke(ufrag: string, untilMs: number): void {
    setBounded(this.#revoked, ufrag, untilMs, this.#maxEntries);
    for (const w of this.#watchers) w(ufrag, untilMs);
  }

  watchRevoked(each: (ufrag: string, untilMs: number) => void): void {
    const now = this.#clock.wallNow();
    for (const [u, until] of this.#revoked) if (until > now) each(u, until);
    this.#watchers.add(each);
  }

  /** Stops calling `each` (a worker's port closed). */
  unwatchRevoked(each: (ufrag: string, untilMs: number) => void): void {
    this.#watchers.delete(each);
  }

  writeKey(key: string, ufrag: string): void {
    const parsed = parseFlowKey(key);
    if (parsed) this.write({ ...parsed, ufrag });
  }

  getKey(key: string): string | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.#clock.now()) {
      this.#entries.delete(key);
      return undefined;
    }
    return e.ufrag;
  }

  async get(pub: TransportAddress, client: TransportAddress): Promise<string | undefined> {
    return this.getKey(flowKey(pub, client));
  }

  entries(): [string, string][] {
    this.#sweep();
    return [...this.#entries].map(([k, e]) => [k, e.ufrag]);
  }

  async loadAll(each: (rec: FlowRecord) => void): Promise<number> {
    let n = 0;
    for (const [key, ufrag] of this.entries()) {
      const parsed = parseFlowKey(key);
      if (!parsed) continue;
      each({ ...parsed, ufrag });
      n++;
    }
    return n;
  }

  #sweep(): void {
    const now = this.#clock.now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
    for (const [k, until] of this.#tokens) if (until <= now) this.#tokens.delete(k);
    const wall = this.#clock.wallNow();
    for (const [k, until] of this.#revoked) if (until <= wall) this.#revoked.delete(k);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.#entries.clear();
    this.#tokens.clear();
    this.#revoked.clear();
    this.#watchers.clear();
  }
}

/** Sets k → v in insertion order, forgetting the oldest entry beyond `max`. */
function setBounded<K, V>(m: Map<K, V>, k: K, v: V, max: number): void {
  m.delete(k);
  if (m.size >= max) {
    const oldest = m.keys().next().value;
    if (oldest !== undefined) m.delete(oldest);
  }
  m.set(k, v);
}
