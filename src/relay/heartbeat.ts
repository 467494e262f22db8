// The relay's liveness heartbeat (docs/global-relay.md): while the relay is ready it writes its
// heartbeat every intervalMs in the format of src/contracts/heartbeat.ts, and removes it when it
// stops, so transceivers stop advertising this relay's location at once.
// Not here: the flow store (store/redis-store.ts), which shares the Redis but not the keys.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import type { Clock, Timer } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import type { Logger } from '../common/log.ts';
import type { RedisClient } from '../common/redis.ts';
import { closeRedisClient, createRedisClient } from '../common/redis.ts';
import {
  HEARTBEAT_INTERVAL_MS,
  HEARTBEAT_TTL_MS,
  encodeHeartbeatValue,
  heartbeatKey,
  heartbeatMember,
  liveSetKey,
  writeHeartbeat,
} from '../contracts/heartbeat.ts';

/** How long close() waits for its key and member to be deleted before it closes the client anyway. */
const CLOSE_DELETE_MS = 500;

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
  /** Times the beats (and stamps their value); default the system clock. */
  readonly clock?: Clock;
}

export class RelayHeartbeat {
  readonly #o: HeartbeatOptions;
  readonly #key: string;
  readonly #member: string;
  readonly #clock: Clock;
  #client: RedisClient | undefined;
  #timer: Timer | undefined;
  #closing: Promise<void> | undefined;
  #beats = 0;

  private constructor(o: HeartbeatOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
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
    const client = await createRedisClient({
      url: o.url,
      what: 'heartbeat store',
      log: o.log,
      clock: h.#clock,
      setting: '--redis / PARLEY_REDIS',
    });
    h.#client = client;
    // The first beat goes out as soon as the connection is up, not a whole interval later.
    client.on('ready', () => void h.#beat());
    client.connect().catch(() => {});
    h.#timer = h.#clock.interval(o.intervalMs ?? HEARTBEAT_INTERVAL_MS, () => void h.#beat(), { unref: true });
    return h;
  }

  async #beat(): Promise<void> {
    const client = this.#client;
    if (this.#closing || !client?.isReady) return;
    const value = encodeHeartbeatValue({
      location: this.#o.location,
      public: this.#o.publics().map(formatAddress),
      at: this.#clock.wallNow(),
    });
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
      this.#timer?.cancel();
      const client = this.#client;
      if (client?.isReady) {
        const gone = Promise.all([client.del(this.#key), client.zRem(liveSetKey(this.#o.prefix), this.#member)]).catch(() => {});
        let t: Timer | undefined;
        await Promise.race([gone, new Promise((r) => (t = this.#clock.timeout(CLOSE_DELETE_MS, () => r(undefined), { unref: true })))]);
        t?.cancel();
      }
      await closeRedisClient(client);
    })();
    return this.#closing;
  }
}
