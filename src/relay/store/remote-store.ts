// The in-memory flow store across worker threads: the supervisor thread owns one
// MemoryFlowStore and serves it on a MessagePort per worker (hostMemoryStore); each worker
// uses a RemoteFlowStore, which batches writes into one message per tick and asks lookups and
// loads by request id. Not for Redis: each worker has its own Redis client.
import type { MessagePort } from 'node:worker_threads';
import type { TransportAddress } from '../../core/address.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';
import { flowKey, parseFlowKey } from '../../contracts/flow-record.ts';
import type { FlowStore, StoreObserver } from './flow-store.ts';
import { nullObserver } from './flow-store.ts';
import type { MemoryFlowStore } from './memory-store.ts';

type Request = { t: 'w'; items: [string, string][] } | { t: 'g'; id: number; key: string } | { t: 'l'; id: number };
type Reply = { id: number; ufrag?: string; entries?: [string, string][] };

const REQUEST_TIMEOUT_MS = 1000;
const WRITE_DELAY_MS = 5;

/** Supervisor side: answers one worker's port from `store`. */
export function hostMemoryStore(store: MemoryFlowStore, port: MessagePort): void {
  port.on('message', (m: Request) => {
    if (m.t === 'w') for (const [k, u] of m.items) store.writeKey(k, u);
    else if (m.t === 'g') port.postMessage({ id: m.id, ufrag: store.getKey(m.key) } satisfies Reply);
    else if (m.t === 'l') port.postMessage({ id: m.id, entries: store.entries() } satisfies Reply);
  });
}

export class RemoteFlowStore implements FlowStore {
  readonly #port: MessagePort;
  readonly #obs: StoreObserver;
  #batch: [string, string][] = [];
  #timer: NodeJS.Timeout | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>();
  #closed = false;

  constructor(port: MessagePort, observer: StoreObserver = nullObserver) {
    this.#port = port;
    this.#obs = observer;
    port.on('message', (r: Reply) => {
      const w = this.#waiting.get(r.id);
      if (!w) return;
      this.#waiting.delete(r.id);
      clearTimeout(w.timer);
      w.resolve(r);
    });
    observer.connected(true);
  }

  get pending(): number {
    return this.#batch.length;
  }
  async whenReady(): Promise<boolean> {
    return this.connected;
  }
  get connected(): boolean {
    return !this.#closed;
  }

  write(rec: FlowRecord): void {
    if (this.#closed) return;
    this.#batch.push([flowKey(rec.public, rec.client), rec.ufrag]);
    this.#timer ??= setTimeout(() => this.#send(), WRITE_DELAY_MS);
  }

  #send(): void {
    this.#timer = undefined;
    if (this.#batch.length === 0) return;
    const items = this.#batch;
    this.#batch = [];
    this.#port.postMessage({ t: 'w', items } satisfies Request);
    this.#obs.written(items.length);
  }

  #ask(req: Request & { id: number }): Promise<Reply> {
    if (this.#closed) return Promise.reject(new Error('store closed'));
    const started = performance.now();
    return new Promise<Reply>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(req.id);
        reject(new Error('store request timed out'));
      }, REQUEST_TIMEOUT_MS);
      this.#waiting.set(req.id, {
        resolve: (r) => {
          this.#obs.latency((performance.now() - started) / 1000);
          resolve(r);
        },
        reject,
        timer,
      });
      this.#port.postMessage(req);
    });
  }

  async get(pub: TransportAddress, client: TransportAddress): Promise<string | undefined> {
    return (await this.#ask({ t: 'g', id: this.#nextId++, key: flowKey(pub, client) })).ufrag;
  }

  async loadAll(each: (rec: FlowRecord) => void): Promise<number> {
    const r = await this.#ask({ t: 'l', id: this.#nextId++ });
    let n = 0;
    for (const [k, ufrag] of r.entries ?? []) {
      const parsed = parseFlowKey(k);
      if (!parsed) continue;
      each({ ...parsed, ufrag });
      n++;
    }
    return n;
  }

  async flush(): Promise<void> {
    clearTimeout(this.#timer);
    this.#send();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    for (const w of this.#waiting.values()) {
      clearTimeout(w.timer);
      w.reject(new Error('store closed'));
    }
    this.#waiting.clear();
    this.#port.close();
  }
}
