// The relay heartbeat schema in Redis (docs/global-relay.md), a contract between relays (which
// write it: src/relay/heartbeat.ts) and transceivers (which read it:
// src/transceiver/relays/relay-locations.ts). While a relay is ready it writes, every
// HEARTBEAT_INTERVAL_MS and in one script, `SET PREFIX<location>:<id> VALUE PX ttl` (VALUE: JSON,
// HeartbeatValue, for operators to read) and its member `<location>:<id>` into the sorted set
// `PREFIX` + `live` with the Redis clock's time + ttl as score; it removes both when it stops. A
// relay that dies simply stops refreshing: its key expires and its score falls behind the clock.
// Transceivers read the live members of that one sorted set (readLiveRelays) and advertise only
// locations with at least one live relay: a read costs O(log n + live relays), never a walk over
// the keyspace that the flow store shares.
// Not here: the flow records (flow-record.ts), which share the Redis but not the keys.
import type { ScriptRunner } from '../common/redis.ts';
import { cachedScript, evalCached } from '../common/redis.ts';

export const DEFAULT_HEARTBEAT_PREFIX = 'parley:heartbeat:relay:';
export const HEARTBEAT_INTERVAL_MS = 1000;
export const HEARTBEAT_TTL_MS = 3000;

/** The JSON value of a relay's heartbeat key (operators read it; transceivers read only the set). */
export interface HeartbeatValue {
  readonly location: string;
  /** The relay's public addresses, HOST:PORT / [V6]:PORT. */
  readonly public: readonly string[];
  /** When it was written, Unix ms (the relay's clock). */
  readonly at: number;
}

export function encodeHeartbeatValue(v: HeartbeatValue): string {
  return JSON.stringify({ location: v.location, public: v.public, at: v.at });
}

export function heartbeatKey(prefix: string, location: string, id: string): string {
  return `${prefix}${heartbeatMember(location, id)}`;
}

/** The sorted set of live relays under `prefix` (cannot clash with a heartbeatKey: those have a ':'). */
export function liveSetKey(prefix: string): string {
  return `${prefix}live`;
}

export function heartbeatMember(location: string, id: string): string {
  return `${location}:${id}`;
}

/** Inverse of heartbeatMember; undefined for anything else. Location names have no ':' (relay-spec.ts). */
export function parseHeartbeatMember(member: string): { location: string; id: string } | undefined {
  const colon = member.indexOf(':');
  if (colon <= 0 || colon === member.length - 1) return undefined;
  return { location: member.slice(0, colon), id: member.slice(colon + 1) };
}

// Scores are the Redis server's clock (TIME), so relays' and transceivers' clocks never meet.
const NOW_MS = "local t = redis.call('TIME') local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)";

/** KEYS: value key, live set. ARGV: member, value, ttl ms. The set lives as long as its newest member. */
const BEAT_SCRIPT = `${NOW_MS}
redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
redis.call('ZADD', KEYS[2], now + tonumber(ARGV[3]), ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
redis.call('PEXPIRE', KEYS[2], ARGV[3], 'GT')
redis.call('PEXPIRE', KEYS[2], ARGV[3], 'NX')
return now`;

/** KEYS: live set. The members whose deadline is still ahead. */
const READ_SCRIPT = `${NOW_MS}
return redis.call('ZRANGEBYSCORE', KEYS[1], now, '+inf')`;

export const BEAT = cachedScript(BEAT_SCRIPT);
export const READ_LIVE = cachedScript(READ_SCRIPT);

/**
 * Writes one heartbeat: the relay's value key and its member in the live set (one script, so
 * both or neither). `client` is a connected node-redis client.
 */
export async function writeHeartbeat(
  client: ScriptRunner,
  o: { prefix: string; location: string; id: string; value: string; ttlMs: number },
): Promise<void> {
  await evalCached(client, BEAT, {
    keys: [heartbeatKey(o.prefix, o.location, o.id), liveSetKey(o.prefix)],
    arguments: [heartbeatMember(o.location, o.id), o.value, String(o.ttlMs)],
  });
}

/** The locations with at least one live relay under `prefix`. */
export async function readLiveRelays(client: ScriptRunner, prefix: string): Promise<Set<string>> {
  const members = (await evalCached(client, READ_LIVE, { keys: [liveSetKey(prefix)], arguments: [] })) as string[];
  const names = new Set<string>();
  for (const m of members) {
    const p = parseHeartbeatMember(m);
    if (p) names.add(p.location);
  }
  return names;
}
