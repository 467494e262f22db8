// The routing tokens whose calls have ended, as one relay worker knows them (the transceiver
// revokes a token through the flow store when its call ends; the store tells every worker of
// every relay). A revoked token opens no new flow, and its flows are removed (token-flows.ts).
// Bounded: beyond maxEntries the oldest entry is forgotten. That is safe because a forgotten
// token is long past its first-flow window: it opens a flow again only where the store still
// holds a flow of it, and its flows were removed when it was revoked. Pure: time is a parameter.

export class RevokedTokens {
  readonly #maxEntries: number;
  /** Token → Unix ms until which it stands, in insertion order. */
  readonly #until = new Map<string, number>();

  constructor(maxEntries = 200_000) {
    this.#maxEntries = maxEntries;
  }

  get size(): number {
    return this.#until.size;
  }

  add(ufrag: string, untilMs: number): void {
    this.#until.delete(ufrag);
    if (this.#until.size >= this.#maxEntries) {
      const oldest = this.#until.keys().next().value;
      if (oldest !== undefined) this.#until.delete(oldest);
    }
    this.#until.set(ufrag, untilMs);
  }

  has(ufrag: string, now: number): boolean {
    const until = this.#until.get(ufrag);
    return until !== undefined && now < until;
  }

  /** Forgets entries that no longer stand. O(size): the worker calls it rarely. */
  prune(now: number): void {
    for (const [u, until] of this.#until) if (until <= now) this.#until.delete(u);
  }
}
