// The flow-store record, a contract between relay processes (a restarted or replacement relay,
// or another worker, reads what this one wrote; docs/relay.md, "Flow store"): one record per
// flow, keyed `PREFIX` + `PUBLIC|CLIENT` (both HOST:PORT / [V6]:PORT), whose value is the routing
// token that authorized it, and whose TTL is FLOW_RECORD_TTL_IDLE_TIMEOUTS idle timeouts. Only the
// token is stored, never a destination: a reader opens the token again, so whoever can write to
// the store still cannot name one. The in-memory and the Redis store write and read this format.
// Beside the flow records, under the same prefix: a token record per routing token that has a
// flow (`PREFIX` + `token|TOKEN`, same TTL: a relay that sees a token after its first-flow window
// admits it only if some relay holds a flow of it), and a revocation per ended call (`PREFIX` +
// `revoked|TOKEN` → the Unix ms until which it stands, TTL to then; announced on the channel
// `PREFIX` + `revoked` as `UNTIL TOKEN`). The transceiver writes revocations, relays read them.
// Neither kind parses as a flow key (parseFlowKey), so a scan of flow records skips them.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress, parseAddress } from '../core/address.ts';
import type { RedisClient } from '../common/redis.ts';

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

/** Key suffix of the record that says some relay holds a flow of this token. */
export function tokenKey(ufrag: string): string {
  return `token|${ufrag}`;
}

/** Key suffix of a revoked token (the call ended); its value is the Unix ms until which it stands. */
export function revokedKey(ufrag: string): string {
  return `revoked|${ufrag}`;
}

/** Channel suffix on which revocations are announced, as revocationMessage(). */
export const REVOKED_CHANNEL = 'revoked';

/** What the revocation channel carries: `UNTIL TOKEN`. */
export function revocationMessage(ufrag: string, untilMs: number): string {
  return `${Math.ceil(untilMs)} ${ufrag}`;
}

/** Inverse of revocationMessage; undefined for anything else (the channel is shared). */
export function parseRevocation(text: string): { ufrag: string; untilMs: number } | undefined {
  const sp = text.indexOf(' ');
  const untilMs = Number(text.slice(0, sp));
  const ufrag = text.slice(sp + 1);
  if (sp <= 0 || !Number.isSafeInteger(untilMs) || ufrag.length === 0 || ufrag.length > 256 || !/^[A-Za-z0-9+/]+$/.test(ufrag))
    return undefined;
  return { ufrag, untilMs };
}

/** SCAN MATCH treats * ? [ ] \ as glob syntax; a prefix is literal. */
export function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

/**
 * Revokes a token in Redis (the transceiver, when a call ends): the revocation record, standing
 * until `untilMs` (Unix ms; its TTL runs to then from `now`), and its announcement to every relay.
 */
export async function publishRevocation(client: RedisClient, prefix: string, ufrag: string, untilMs: number, now: number): Promise<void> {
  const ttl = Math.max(1, Math.ceil(untilMs - now));
  await client
    .multi()
    .set(prefix + revokedKey(ufrag), String(Math.ceil(untilMs)), { expiration: { type: 'PX', value: ttl } })
    .publish(prefix + REVOKED_CHANNEL, revocationMessage(ufrag, untilMs))
    .execAsPipeline();
}

/** Calls `each` for every revocation record in Redis (a relay connecting, or reconnecting after missing announcements). */
export async function loadRevocations(
  client: RedisClient,
  prefix: string,
  each: (ufrag: string, untilMs: number) => void,
): Promise<number> {
  let n = 0;
  const match = globEscape(prefix + revokedKey('')) + '*';
  for await (const keys of client.scanIterator({ MATCH: match, COUNT: 1000 })) {
    if (keys.length === 0) continue;
    const values = await client.mGet(keys);
    keys.forEach((k, i) => {
      const r = parseRevocation(`${values[i]} ${k.slice((prefix + revokedKey('')).length)}`);
      if (!r) return;
      each(r.ufrag, r.untilMs);
      n++;
    });
  }
  return n;
}
