// The flow-store record, a contract between relay processes (a restarted or replacement relay,
// or another worker, reads what this one wrote; docs/relay.md, "Flow store"): one record per
// flow, keyed `PREFIX` + `PUBLIC|CLIENT` (both HOST:PORT / [V6]:PORT), whose value is the routing
// token that authorized it, and whose TTL is FLOW_RECORD_TTL_IDLE_TIMEOUTS idle timeouts. Only the
// token is stored, never a destination: a reader opens the token again, so whoever can write to
// the store still cannot name one. The in-memory and the Redis store write and read this format.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress, parseAddress } from '../core/address.ts';

export const DEFAULT_FLOW_PREFIX = 'parley:relay:flow:';
/** A record lives this many idle timeouts; a live flow refreshes it about twice per timeout. */
export const FLOW_RECORD_TTL_IDLE_TIMEOUTS = 2;

export interface FlowRecord {
  readonly public: TransportAddress;
  readonly client: TransportAddress;
  /** The routing token (the server ICE ufrag) that authorized the flow. */
  readonly ufrag: string;
}

/** A record's TTL for a relay whose idle timeout is `idleMs`. */
export function flowRecordTtlMs(idleMs: number): number {
  return idleMs * FLOW_RECORD_TTL_IDLE_TIMEOUTS;
}

/** The key suffix of a record: `PUBLIC|CLIENT`, both formatted as HOST:PORT / [V6]:PORT. */
export function flowKey(pub: TransportAddress, client: TransportAddress): string {
  return `${formatAddress(pub)}|${formatAddress(client)}`;
}

/** Inverse of flowKey; undefined for anything else (keys are read back from a shared store). */
export function parseFlowKey(key: string): { public: TransportAddress; client: TransportAddress } | undefined {
  const bar = key.indexOf('|');
  if (bar < 0) return undefined;
  const pub = parseAddress(key.slice(0, bar));
  const client = parseAddress(key.slice(bar + 1));
  return pub && client ? { public: pub, client } : undefined;
}
