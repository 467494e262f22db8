// Revokes the routing token of each call that ends, through the relays' flow store in Redis
// (src/contracts/flow-record.ts: a record that stands for the token's remaining lifetime, and an
// announcement every relay worker subscribes to), so no relay opens a new flow for it and every
// relay drops the flows it has (docs/security.md, "Relay"). Fire and forget: a call's end never
// waits for Redis. While Redis is down a revocation is lost (counted and logged): the token is
// then still bounded by the relays' first-flow window and per-token caps.
import type { Clock } from '../../common/clock.ts';
import { systemClock } from '../../common/clock.ts';
import type { Logger } from '../../common/log.ts';
import type { RedisClient } from '../../common/redis.ts';
import { closeRedisClient, createRedisClient } from '../../common/redis.ts';
import { publishRevocation } from '../../contracts/flow-record.ts';
import { postRevocation, RevocationAuth } from '../../contracts/revocation-request.ts';
import type { Keyring } from '../../core/token/index.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS } from '../../core/token/index.ts';

export interface TokenRevocationsOptions {
  readonly url: string;
  /** The relays' --redis-prefix. */
  readonly prefix: string;
  readonly log?: Logger;
  /** Each revocation that could not be published. */
  readonly onError?: (err: unknown) => void;
  readonly clock?: Clock;
}

export class TokenRevocations {
  readonly #o: TokenRevocationsOptions;
  readonly #client: RedisClient;
  readonly #clock: Clock;
  #closed = false;

  private constructor(o: TokenRevocationsOptions, client: RedisClient, clock: Clock) {
    this.#o = o;
    this.#client = client;
    this.#clock = clock;
  }

  /** Makes the client and starts connecting (node-redis reconnects on its own); never waits for Redis. */
  static async start(o: TokenRevocationsOptions): Promise<TokenRevocations> {
    const clock = o.clock ?? systemClock;
    const client = await createRedisClient({ url: o.url, what: 'token revocations', log: o.log, clock, setting: '--redis / PARLEY_REDIS' });
    client.connect().catch(() => {});
    return new TokenRevocations(o, client, clock);
  }

  /** Whether the Redis connection is up now (/readyz details, issue #20). */
  get connected(): boolean {
    return this.#client.isReady;
  }

  /**
   * The call of token `ufrag` ended. The revocation stands as long as any relay could still open
   * the token (its lifetime plus the clock skew relays allow, from now: at least the remainder).
   */
  revoke(ufrag: string): void {
    if (this.#closed) return;
    const now = this.#clock.wallNow();
    publishRevocation(this.#client, this.#o.prefix, ufrag, now + DEFAULT_TOKEN_LIFETIME_MS + DEFAULT_CLOCK_SKEW_MS, now).catch(
      (err: unknown) => this.#o.onError?.(err),
    );
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await closeRedisClient(this.#client);
  }
}

/**
 * Without Redis (one relay, `parley dev`): the same revocation POSTed to each relay's ops listener
 * (--revoke-urls; contracts/revocation-request.ts), which revokes it in its in-memory store. Fire
 * and forget, like the Redis path: a relay that does not answer misses it (counted by onError).
 */
export class HttpTokenRevocations {
  readonly #urls: readonly string[];
  readonly #auth: RevocationAuth;
  readonly #onError: ((err: unknown) => void) | undefined;

  constructor(o: { urls: readonly string[]; keyring: Keyring; onError?: (err: unknown) => void }) {
    this.#urls = o.urls;
    this.#auth = new RevocationAuth(o.keyring);
    this.#onError = o.onError;
  }

  revoke(ufrag: string): void {
    for (const url of this.#urls) {
      postRevocation(url, this.#auth, ufrag).then(
        (status) => {
          if (status !== 204) this.#onError?.(new Error(`${url} answered ${status}`));
        },
        (err: unknown) => this.#onError?.(err),
      );
    }
  }
}
