// The flow store interface: where a relay writes its flows behind (so a restarted relay, or a
// worker that gets a flow it has never seen, finds them at once) and reads them back. Two
// implementations: memory-store.ts (default; shared by a process's workers through
// remote-store.ts) and redis-store.ts (`--redis URL`; shared by relay processes).
// Contract: write() never blocks or throws — it queues, and the store batches; get/loadAll may
// reject when the store is down, and the caller counts that and forwards from memory anyway.
// The record format is a contract between relay processes: src/contracts/flow-record.ts.
// Besides flows the store carries, per token, whether some relay holds a flow of it (written with
// each flow record) and whether its call has ended (revocations, which the transceiver publishes
// and every relay worker watches).
import type { TransportAddress } from '../../core/address.ts';
import type { FlowRecord } from '../../contracts/flow-record.ts';

export interface StoreObserver {
  /** A store operation failed (already retried or given up). */
  error(err: unknown): void;
  /** Round-trip time of a lookup, a load page or a write batch. */
  latency(seconds: number): void;
  /** Records made durable. */
  written(n: number): void;
  /** The connection went up or down. */
  connected(up: boolean): void;
}

export const nullObserver: StoreObserver = { error: () => {}, latency: () => {}, written: () => {}, connected: () => {} };

export interface FlowStore {
  /** Queues a write (or TTL refresh) of a live flow; returns at once. */
  write(rec: FlowRecord): void;
  /** The token of a stored flow, or undefined. Rejects when the store cannot answer. */
  get(pub: TransportAddress, client: TransportAddress): Promise<string | undefined>;
  /** Whether some relay holds (or held within the record TTL) a flow of this token. Rejects when the store cannot answer. */
  hasToken(ufrag: string): Promise<boolean>;
  /** Publishes that a token's call ended, standing until `untilMs` (Unix ms); returns at once. */
  revoke(ufrag: string, untilMs: number): void;
  /**
   * Calls `each` for every revocation the store holds now, again after each reconnect, and for
   * each one published from now on, until close.
   */
  watchRevoked(each: (ufrag: string, untilMs: number) => void): void;
  /** Calls `each` for every stored flow; resolves to the count. Rejects when the store is down. */
  loadAll(each: (rec: FlowRecord) => void): Promise<number>;
  /** Resolves when every queued write has been attempted. */
  flush(): Promise<void>;
  /** Writes queued and not yet done. */
  readonly pending: number;
  readonly connected: boolean;
  /** Resolves true once the store can answer, false after `timeoutMs`. */
  whenReady(timeoutMs: number): Promise<boolean>;
  /** Idempotent; flushes first (bounded by the implementation's timeout). */
  close(): Promise<void>;
}
