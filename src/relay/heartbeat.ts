// The relay's liveness heartbeat in Redis (docs/global-relay.md): while a relay is ready it
// writes, every intervalMs and in one script, `SET PREFIX<location>:<id> {public addresses} PX ttl`
// (for operators to read) and its member `<location>:<id>` into the sorted set `PREFIX` + `live`
// with the Redis clock's time + ttl as score; it removes both when it stops. A relay that dies
// simply stops refreshing: its key expires and its score falls behind the clock.
// Transceivers read the live members of that one sorted set (readLiveRelays below, used by
// src/transceiver/relay-locations.ts) and advertise only locations with at least one live relay:
// a read costs O(log n + live relays), never a walk over the keyspace that the flow store shares.
// Not here: the flow store (store/redis-store.ts), which shares the Redis but not the keys.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import type { Logger } from '../common/log.ts';
import type { RedisClient, ScriptRunner } from '../common/redis.ts';
import { cachedScript, closeRedisClient, createRedisClient, evalCached } from '../common/redis.ts';

export const DEFAULT_HEARTBEAT_PREFIX = 'parley:heartbeat:relay:';
export const HEARTBEAT_INTERVAL_MS = 1000;
export const HEARTBEAT_TTL_MS = 3000;

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
export async function writeHeartbeat(client: ScriptRunner, o: { prefix: string; location: string; id: string; value: string; ttlMs: number }): Promise<void> {
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

export interface HeartbeatOptions {
  readonly url: string;
  readonly prefix: string;
  readonly location: string;
  /** Unique per relay process (host name, pid, random). */
  readonly id: string;
  readonly publics: () => readonly TransportAddress[];
  readonly intervalMs?: number;
  readonly ttlMs?: number;
  readonly log?: Logger;
}

export class RelayHeartbeat {
  readonly #o: HeartbeatOptions;
  readonly #key: string;
  readonly #member: string;
  #client: RedisClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #beats = 0;

  private constructor(o: HeartbeatOptions) {
    this.#o = o;
    this.#key = heartbeatKey(o.prefix, o.location, o.id);
    this.#member = heartbeatMember(o.location, o.id);
  }

  get key(): string {
    return this.#key;
  }

  /** Heartbeats written so far. */
  get beats(): number {
    return this.#beats;
  }

  /** Connects (node-redis loaded only now) and starts beating; never throws for a down Redis. */
  static async start(o: HeartbeatOptions): Promise<RelayHeartbeat> {
    const h = new RelayHeartbeat(o);
    const client = await createRedisClient({ url: o.url, what: 'heartbeat store', log: o.log });
    h.#client = client;
    // The first beat goes out as soon as the connection is up, not a whole interval later.
    client.on('ready', () => void h.#beat());
    client.connect().catch(() => {});
    h.#timer = setInterval(() => void h.#beat(), o.intervalMs ?? HEARTBEAT_INTERVAL_MS);
    h.#timer.unref();
    return h;
  }

  async #beat(): Promise<void> {
    const client = this.#client;
    if (this.#closing || !client?.isReady) return;
    const value = JSON.stringify({ location: this.#o.location, public: this.#o.publics().map(formatAddress), at: Date.now() });
    try {
      await writeHeartbeat(client, { ...this.#o, value, ttlMs: this.#o.ttlMs ?? HEARTBEAT_TTL_MS });
      this.#beats++;
    } catch {
      // The client's 'error' listener logs; the key expires if this goes on.
    }
  }

  /** Stops beating and deletes its key and member, so transceivers stop advertising this relay at once. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      const client = this.#client;
      if (client?.isReady) {
        const gone = Promise.all([client.del(this.#key), client.zRem(liveSetKey(this.#o.prefix), this.#member)]).catch(() => {});
        await Promise.race([gone, new Promise((r) => setTimeout(r, 500).unref())]);
      }
      await closeRedisClient(client);
    })();
    return this.#closing;
  }
}
