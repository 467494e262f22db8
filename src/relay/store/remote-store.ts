// The in-memory flow store across worker threads: the supervisor thread owns one
// MemoryFlowStore and serves it on a MessagePort per worker (hostMemoryStore); each worker
// uses a RemoteFlowStore, which batches writes into one message per tick and asks lookups and
// loads by request id. Not for Redis: each worker has its own Redis client.
import type { MessagePort } from 'node:worker_threads';
import type { TransportAddress } from '../../core/address.ts';
import type { Clock, Timer } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';
import { flowKey, parseFlowKey } from '../../contracts/flow-record.ts';
import type { FlowStore, StoreObserver } from './flow-store.ts';
import { nullObserver } from './flow-store.ts';
import type { MemoryFlowStore } from './memory-store.ts';

type Request =
  | { t: 'w'; items: [string, string][] }
  | { t: 'g'; id: number; key: string }
  | { t: 'h'; id: number; ufrag: string }
  | { t: 'l'; id: number }
  | { t: 'v'; ufrag: string; untilMs: number };
type Reply = { id: number; ufrag?: string; has?: boolean; entries?: [string, string][] };
/** Revocations, pushed to every worker (id 0: no request waits for it). */
type Revoked = { id: 0; revoked: [string, number][] };

const REQUEST_TIMEOUT_MS = 1000;
const WRITE_DELAY_MS = 5;

/** Supervisor side: answers one worker's port from `store`. */
export function hostMemoryStore(store: MemoryFlowStore, port: MessagePort): void {
  port.on('message', (m: Request) => {
    if (m.t === 'w') for (const [k, u] of m.items) store.writeKey(k, u);
    else if (m.t === 'g') port.postMessage({ id: m.id, ufrag: store.getKey(m.key) } satisfies Reply);
    else if (m.t === 'l') port.postMessage({ id: m.id, entries: store.entries() } satisfies Reply);
    else if (m.t === 'h') port.postMessage({ id: m.id, has: store.hasTokenNow(m.ufrag) } satisfies Reply);
    else if (m.t === 'v') store.revoke(m.ufrag, m.untilMs);
  });
  // The port queues what is posted before the worker listens: it gets the revocations held now, then each new one.
  const watcher = (ufrag: string, untilMs: number): void => port.postMessage({ id: 0, revoked: [[ufrag, untilMs]] } satisfies Revoked);
  store.watchRevoked(watcher);
  port.on('close', () => store.unwatchRevoked(watcher));
}

export class RemoteFlowStore implements FlowStore {
  readonly #port: MessagePort;
  readonly #obs: StoreObserver;
  readonly #clock: Clock;
  #batch: [string, string][] = [];
  #timer: Timer | undefined;
  #nextId = 1;
  readonly #waiting = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void; timer: Timer }>();
  #closed = false;
  #onRevoked: ((ufrag: string, untilMs: number) => void) | undefined;
  /** Revocations that arrived before watchRevoked (the supervisor sends them at once). */
  #early: [string, number][] = [];

  constructor(port: MessagePort, observer: StoreObserver = nullObserver, clock: Clock = systemClock) {
    this.#port = port;
    this.#obs = observer;
    this.#clock = clock;
    port.on('message', (r: Reply | Revoked) => {
      if ('revoked' in r) {
        for (const [u, until] of r.revoked) {
          if (this.#onRevoked) this.#onRevoked(u, until);
          else if (this.#early.length < 100_000) this.#early.push([u, until]);
        }
        return;
      }
      const w = this.#waiting.get(r.id);
      if (!w) return;
      this.#waiting.delete(r.id);
      w.timer.cancel();
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
    this.#timer ??= this.#clock.timeout(WRITE_DELAY_MS, () => this.#send());
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
    const started = this.#clock.now();
    return new Promise<Reply>((resolve, reject) => {
      const timer = this.#clock.timeout(REQUEST_TIMEOUT_MS, () => {
        this.#waiting.delete(req.id);
        reject(new Error('store request timed out'));
      });
      this.#waiting.set(req.id, {
        resolve: (r) => {
          this.#obs.latency((this.#clock.now() - started) / 1000);
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

  async hasToken(ufrag: string): Promise<boolean> {
    return (await this.#ask({ t: 'h', id: this.#nextId++, ufrag })).has === true;
  }

  revoke(ufrag: string, untilMs: number): void {
    if (!this.#closed) this.#port.postMessage({ t: 'v', ufrag, untilMs } satisfies Request);
  }

  watchRevoked(each: (ufrag: string, untilMs: number) => void): void {
    this.#onRevoked = each;
    for (const [u, until] of this.#early.splice(0)) each(u, until);
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
    this.#timer?.cancel();
    this.#send();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    await this.flush();
    this.#closed = true;
    for (const w of this.#waiting.values()) {
      w.timer.cancel();
      w.reject(new Error('store closed'));
    }
    this.#waiting.clear();
    this.#port.close();
  }
}
