// The relay's liveness heartbeat in Redis (docs/global-relay.md): while a relay is ready it
// writes `SET PREFIX<location>:<id> {public addresses} PX ttl` every intervalMs, and deletes the
// key when it stops; a relay that dies simply stops refreshing and its key expires after ttl.
// Transceivers read these keys (src/transceiver/relay-locations.ts) and advertise only
// locations with at least one live relay. The key format is defined here for both sides.
// Not here: the flow store (store/redis-store.ts), which shares the Redis but not the keys.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import type { Logger } from '../common/log.ts';

export const DEFAULT_HEARTBEAT_PREFIX = 'parley:heartbeat:relay:';
export const HEARTBEAT_INTERVAL_MS = 1000;
export const HEARTBEAT_TTL_MS = 3000;

/** SCAN MATCH treats * ? [ ] \ as glob syntax; a prefix is literal. */
function globEscape(s: string): string {
  return s.replace(/[*?[\]\\]/g, '\\$&');
}

export function heartbeatKey(prefix: string, location: string, id: string): string {
  return `${prefix}${location}:${id}`;
}

/** The SCAN MATCH pattern of every heartbeat under `prefix`. */
export function heartbeatMatch(prefix: string): string {
  return `${globEscape(prefix)}*`;
}

/** Inverse of heartbeatKey; undefined for other keys. Location names have no ':' (relay-spec.ts). */
export function parseHeartbeatKey(prefix: string, key: string): { location: string; id: string } | undefined {
  if (!key.startsWith(prefix)) return undefined;
  const rest = key.slice(prefix.length);
  const colon = rest.indexOf(':');
  if (colon <= 0 || colon === rest.length - 1) return undefined;
  return { location: rest.slice(0, colon), id: rest.slice(colon + 1) };
}

/**
 * A node-redis client for heartbeats (loaded only when called: processes without --redis never
 * load node-redis): fails fast while down, reconnects with capped back-off, logs errors at most
 * every 5 s. Not yet connected: the caller calls connect().
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export async function heartbeatClient(url: string, log: Logger | undefined, what: string): Promise<any> {
  const { createClient } = await import('redis');
  const client = createClient({
    url, disableOfflineQueue: true,
    socket: { connectTimeout: 1000, reconnectStrategy: (n: number) => Math.min(100 * 2 ** Math.min(n, 5), 2000) },
  });
  let lastErrLog = 0;
  client.on('error', (err: unknown) => {
    if (Date.now() - lastErrLog > 5000) {
      lastErrLog = Date.now();
      log?.warn(`${what} error`, { err });
    }
  });
  return client;
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
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  #client: any;
  #timer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #beats = 0;

  private constructor(o: HeartbeatOptions) {
    this.#o = o;
    this.#key = heartbeatKey(o.prefix, o.location, o.id);
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
    h.#client = await heartbeatClient(o.url, o.log, 'heartbeat store');
    // The first beat goes out as soon as the connection is up, not a whole interval later.
    h.#client.on('ready', () => void h.#beat());
    h.#client.connect().catch(() => {});
    h.#timer = setInterval(() => void h.#beat(), o.intervalMs ?? HEARTBEAT_INTERVAL_MS);
    h.#timer.unref();
    return h;
  }

  async #beat(): Promise<void> {
    if (this.#closing || !this.#client.isReady) return;
    const value = JSON.stringify({ location: this.#o.location, public: this.#o.publics().map(formatAddress), at: Date.now() });
    try {
      await this.#client.set(this.#key, value, { expiration: { type: 'PX', value: this.#o.ttlMs ?? HEARTBEAT_TTL_MS } });
      this.#beats++;
    } catch {
      // The client's 'error' listener logs; the key expires if this goes on.
    }
  }

  /** Stops beating and deletes the key, so transceivers stop advertising this relay at once. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= (async () => {
      clearInterval(this.#timer);
      try {
        if (this.#client.isReady) {
          await Promise.race([this.#client.del(this.#key), new Promise((r) => setTimeout(r, 500).unref())]);
          await this.#client.close();
        } else this.#client.destroy();
      } catch {
        this.#client.destroy();
      }
    })();
    return this.#closing;
  }
}
