// In-memory flow store: the default when no --redis is given. One instance lives in the relay's
// supervisor thread and its workers reach it through remote-store.ts, so a worker that is
// restarted, or gets another worker's flow, recovers it as it would from Redis. It does not
// survive the process (use Redis for that). Entries expire after the TTL like Redis keys.
import type { TransportAddress } from '../../core/address.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';
import { flowKey, parseFlowKey } from '../../contracts/flow-record.ts';
import type { FlowStore } from './flow-store.ts';

export class MemoryFlowStore implements FlowStore {
  readonly #ttlMs: number;
  readonly #maxEntries: number;
  readonly #now: () => number;
  readonly #entries = new Map<string, { ufrag: string; expiresAt: number }>();

  constructor(o: { ttlMs: number; maxEntries: number; now?: () => number }) {
    this.#ttlMs = o.ttlMs;
    this.#maxEntries = o.maxEntries;
    this.#now = o.now ?? Date.now;
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
    this.#entries.set(key, { ufrag: rec.ufrag, expiresAt: this.#now() + this.#ttlMs });
  }

  writeKey(key: string, ufrag: string): void {
    const parsed = parseFlowKey(key);
    if (parsed) this.write({ ...parsed, ufrag });
  }

  getKey(key: string): string | undefined {
    const e = this.#entries.get(key);
    if (!e) return undefined;
    if (e.expiresAt <= this.#now()) {
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
    const now = this.#now();
    for (const [k, e] of this.#entries) if (e.expiresAt <= now) this.#entries.delete(k);
  }

  async flush(): Promise<void> {}
  async close(): Promise<void> {
    this.#entries.clear();
  }
}
