// Which relay locations a call's SDP answer advertises (DESIGN.md "Global relay"): the
// location named by the request's region hint (a header: `X-Parley-Region: us`, or a CDN's
// country header mapped by --region-map, `DE=eu,US=us`), else the transceiver's own --region,
// first; one backup location after it, at lower ICE priority. A location counts only while
// one of its relays is alive (a heartbeat in Redis, src/contracts/heartbeat.ts); without Redis, or
// while Redis cannot say, every configured location counts as alive.
// Not here: the relay spec syntax (relays/relay-spec.ts), candidate lines (src/core/sdp/answer.ts).
import type { TransportAddress } from '../../core/address.ts';
import type { Clock, Timer } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { Logger } from '../../common/log.ts';
import type { RedisClient } from '../../common/redis.ts';
import { closeRedisClient, createRedisClient } from '../../common/redis.ts';
import { readLiveRelays } from '../../contracts/heartbeat.ts';
import type { RelaySpec } from './relay-spec.ts';

/** What one answer advertises: addresses in preference order; from `backupFrom` on, the backup location. */
export interface CandidatePlan {
  readonly addresses: readonly TransportAddress[];
  readonly backupFrom: number;
  /** The same locations' ICE-TCP addresses (`--relays-tcp`), in the same order; empty without. */
  readonly tcpAddresses: readonly TransportAddress[];
  /** Location names ('' for an unnamed spec); for logs. */
  readonly primary: string;
  readonly backup: string | undefined;
  /** True when no location had a live relay and the plan ignores liveness (see choose()). */
  readonly noneLive: boolean;
}

/** Live location names, or undefined when unknown (no Redis, or it has not answered lately). */
export type LiveLocations = () => ReadonlySet<string> | undefined;

/** `DE=eu,FR=eu,US=us`: header value (case-insensitive) → location. Throws Error when bad. */
export function parseRegionMap(text: string): ReadonlyMap<string, string> {
  const map = new Map<string, string>();
  if (text.trim() === '') return map;
  for (const part of text.split(',')) {
    const eq = part.indexOf('=');
    const key = part.slice(0, eq).trim().toLowerCase();
    const value = part.slice(eq + 1).trim();
    if (eq < 0 || key === '' || !/^[a-z][a-z0-9-]{0,31}$/.test(value)) throw new Error(`'${part.trim()}' is not VALUE=LOCATION`);
    map.set(key, value);
  }
  return map;
}

export interface RelayLocationsOptions {
  readonly spec: RelaySpec;
  /** `--relays-tcp`: the ICE-TCP addresses, with the same location names as `spec` (or unnamed when it is). */
  readonly tcpSpec?: RelaySpec;
  /** The transceiver's own location (--region); default: the first location. */
  readonly region?: string;
  readonly regionMap?: ReadonlyMap<string, string>;
  readonly live?: LiveLocations;
}

export class RelayLocations {
  readonly #spec: RelaySpec;
  readonly #byName: ReadonlyMap<string, RelaySpec['locations'][number]>;
  readonly #tcpByName: ReadonlyMap<string, RelaySpec['locations'][number]>;
  readonly #region: string;
  readonly #map: ReadonlyMap<string, string>;
  readonly #live: LiveLocations;

  constructor(o: RelayLocationsOptions) {
    this.#spec = o.spec;
    this.#byName = new Map(o.spec.locations.map((l) => [l.name, l]));
    this.#region = o.region ?? o.spec.locations[0].name;
    if (!this.#byName.has(this.#region)) {
      throw new Error(`region '${this.#region}' is not one of the relay locations (${o.spec.locations.map((l) => l.name).join(', ')})`);
    }
    this.#map = o.regionMap ?? new Map();
    for (const [k, v] of this.#map)
      if (!this.#byName.has(v)) throw new Error(`region map sends '${k}' to '${v}', which is not a relay location`);
    this.#live = o.live ?? (() => undefined);
    const tcp = o.tcpSpec?.locations ?? [];
    for (const l of tcp) {
      if (!this.#byName.has(l.name)) {
        throw new Error(
          l.name === ''
            ? 'an unnamed list needs an unnamed --relays too; with named locations name the TCP addresses the same way (NAME=HOST:PORT;…)'
            : `location '${l.name}' is not one of the relay locations (${o.spec.locations.map((x) => x.name).join(', ')})`,
        );
      }
    }
    this.#tcpByName = new Map(tcp.map((l) => [l.name, l]));
  }

  #tcpOf(names: readonly string[]): TransportAddress[] {
    return names.flatMap((n) => this.#tcpByName.get(n)?.addresses ?? []);
  }

  get named(): boolean {
    return this.#spec.locations[0].name !== '';
  }

  /** The location a hint names: the region map first, then a location name itself; undefined otherwise. */
  resolveHint(hint: string | undefined): string | undefined {
    if (hint === undefined) return undefined;
    const h = hint.trim().toLowerCase();
    if (h === '') return undefined;
    const mapped = this.#map.get(h);
    if (mapped !== undefined) return mapped;
    return this.#byName.has(h) ? h : undefined;
  }

  /**
   * The plan for one call. Order of preference: the hinted location, our own region, then the
   * spec's order. Locations with no live relay are skipped; if that leaves none, all are
   * advertised in that order: the heartbeats may be what is wrong (Redis trouble, clock-free
   * TTLs racing a restart), and a call that may connect beats a certain 503.
   */
  choose(hint: string | undefined): CandidatePlan {
    const locations = this.#spec.locations;
    if (!this.named) {
      // An unnamed list (`--relays A,B`): every address, in the order written, no backup split.
      const all = locations[0].addresses;
      return { addresses: all, backupFrom: all.length, tcpAddresses: this.#tcpOf(['']), primary: '', backup: undefined, noneLive: false };
    }
    const order: string[] = [];
    const push = (n: string | undefined): void => {
      if (n !== undefined && !order.includes(n)) order.push(n);
    };
    push(this.resolveHint(hint));
    push(this.#region);
    for (const l of locations) push(l.name);
    const live = this.#live();
    let usable = live === undefined ? order : order.filter((n) => live.has(n));
    const noneLive = usable.length === 0;
    if (noneLive) usable = order;
    const primary = this.#byName.get(usable[0])!;
    const rest = noneLive ? usable.slice(1) : usable.slice(1, 2);
    const addresses = [...primary.addresses];
    for (const n of rest) addresses.push(...this.#byName.get(n)!.addresses);
    const tcpAddresses = this.#tcpOf([primary.name, ...rest]);
    return { addresses, backupFrom: primary.addresses.length, tcpAddresses, primary: primary.name, backup: rest[0], noneLive };
  }
}

/** How long start() waits for Redis before it serves without liveness (every location counts). */
const CONNECT_WAIT_MS = 1000;

export interface LiveRelaysOptions {
  readonly url: string;
  readonly prefix: string;
  /** How often to re-read the heartbeats; default 1000 ms. */
  readonly refreshMs?: number;
  /** After this long without a successful read, liveness is unknown again; default 5000 ms. */
  readonly staleMs?: number;
  readonly log?: Logger;
  /** Times the refreshes and the staleness; default the system clock. */
  readonly clock?: Clock;
}

/**
 * Reads relay heartbeats from Redis on a timer (never per request): the live members of the
 * heartbeat sorted set (src/contracts/heartbeat.ts) every refreshMs, and keeps their locations. The request path only
 * reads the cached set (`live()`).
 */
export class LiveRelays {
  readonly #o: LiveRelaysOptions;
  readonly #clock: Clock;
  #client: RedisClient | undefined;
  #timer: Timer | undefined;
  #live: ReadonlySet<string> | undefined;
  #readAt = -Infinity;
  #closed = false;
  #reading: Promise<void> | undefined;

  private constructor(o: LiveRelaysOptions) {
    this.#o = o;
    this.#clock = o.clock ?? systemClock;
  }

  /** Connects (node-redis is loaded only when --redis is set) and starts the refresh timer. */
  static async start(o: LiveRelaysOptions): Promise<LiveRelays> {
    const r = new LiveRelays(o);
    const clock = r.#clock;
    const client = await createRedisClient({
      url: o.url,
      what: 'relay heartbeat store',
      log: o.log,
      clock,
      setting: '--redis / PARLEY_REDIS',
    });
    r.#client = client;
    // Bounded: a transceiver starts without Redis (every location counts) rather than waiting.
    let t: Timer | undefined;
    await Promise.race([
      client.connect().catch(() => {}),
      new Promise((res) => (t = clock.timeout(CONNECT_WAIT_MS, () => res(undefined), { unref: true }))),
    ]);
    t?.cancel();
    await r.refresh();
    r.#timer = clock.interval(o.refreshMs ?? 1000, () => void r.refresh(), { unref: true });
    return r;
  }

  /** Whether the Redis connection is up now (/readyz details, issue #20). */
  get connected(): boolean {
    return this.#client?.isReady ?? false;
  }

  /** The cached set, or undefined while unknown (never read, or the last good read is stale). */
  live(): ReadonlySet<string> | undefined {
    if (this.#clock.now() - this.#readAt > (this.#o.staleMs ?? 5000)) return undefined;
    return this.#live;
  }

  /** One read of every heartbeat key; errors leave the previous set until it goes stale. */
  refresh(): Promise<void> {
    const client = this.#client;
    if (this.#closed || !client?.isReady) return Promise.resolve();
    this.#reading ??= this.#read(client).finally(() => (this.#reading = undefined));
    return this.#reading;
  }

  async #read(client: RedisClient): Promise<void> {
    try {
      const names = await readLiveRelays(client, this.#o.prefix);
      const before = this.#live;
      this.#live = names;
      this.#readAt = this.#clock.now();
      if (!before || before.size !== names.size || [...names].some((n) => !before.has(n))) {
        this.#o.log?.info('live relay locations', { locations: [...names].sort() });
      }
    } catch {
      // Counted by staleness: live() answers undefined once the last good read is too old.
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#timer?.cancel();
    await closeRedisClient(this.#client);
  }
}
