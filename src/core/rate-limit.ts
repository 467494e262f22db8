// Token buckets per key (the relay keys them by source IP, client_secrets by caller IP), with a hard bound on how many keys
// are tracked. When the bound is reached the oldest-inserted bucket is forgotten: that only
// gives one source a fresh (full) bucket, never unbounded memory, and a flood from many
// addresses is still capped per address. Pure: time is a parameter.

export interface TokenBucketOptions {
  /** Tokens added per second. */
  readonly ratePerSecond: number;
  /** Bucket size (the burst allowed after a quiet period). */
  readonly burst: number;
  /** Most keys tracked at once. */
  readonly maxKeys: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export class KeyedTokenBuckets {
  readonly #o: TokenBucketOptions;
  readonly #buckets = new Map<string, Bucket>();

  constructor(o: TokenBucketOptions) {
    this.#o = o;
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token for `key` at `now` (ms); false when the bucket is empty. */
  take(key: string, now: number): boolean {
    let b = this.#buckets.get(key);
    if (!b) {
      if (this.#buckets.size >= this.#o.maxKeys) {
        const oldest = this.#buckets.keys().next().value;
        if (oldest !== undefined) this.#buckets.delete(oldest);
      }
      b = { tokens: this.#o.burst, at: now };
      this.#buckets.set(key, b);
    } else if (now > b.at) {
      b.tokens = Math.min(this.#o.burst, b.tokens + ((now - b.at) / 1000) * this.#o.ratePerSecond);
      b.at = now;
    }
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  /**
   * Takes one token for `key` at `now` even from an empty bucket (it goes below zero and refills
   * from there): an attempt another limiter with the same budget already let through (the native
   * relay loop's, docs/relay.md), so the two together admit no more than this one budget.
   */
  charge(key: string, now: number): void {
    if (!this.take(key, now)) {
      const b = this.#buckets.get(key);
      if (b) b.tokens -= 1;
    }
  }

  /** Forgets buckets that have refilled completely (they behave like new ones). */
  prune(now: number): void {
    for (const [k, b] of this.#buckets) {
      if (b.tokens + ((now - b.at) / 1000) * this.#o.ratePerSecond >= this.#o.burst) this.#buckets.delete(k);
    }
  }
}
