// Issue #19 (reflection): how many bytes the ICE-lite agent may still send toward an address that
// has not yet proved it receives (IceLiteAgent.isConfirmed). A valid check proves only that its
// sender holds the credentials — its source address may be forged — so every byte toward such an
// address must be paid for by a byte received from it: a forged check can never make the victim
// receive more than the attacker sent (≤ 1×). Confirmed addresses are not tracked here.
// Not here: which packets the agent sends, or what confirms an address (ice-lite-agent.ts).

/**
 * Addresses tracked per agent. A check from a new address is answered by the agent whatever
 * this holds; the oldest address is forgotten past the cap, which only shrinks what may go to
 * it (its budget starts again at zero), so an attacker with many forged sources gains nothing.
 */
export const MAX_BUDGET_ADDRESSES = 16;

interface Account {
  received: number;
  sent: number;
}

export class UnconfirmedBudget {
  readonly #accounts = new Map<string, Account>();

  /** `bytes` arrived from `key` (any STUN packet routed to this agent, valid or not). */
  credit(key: string, bytes: number): void {
    let a = this.#accounts.get(key);
    if (a === undefined) {
      if (this.#accounts.size >= MAX_BUDGET_ADDRESSES) this.#accounts.delete(this.#accounts.keys().next().value!);
      a = { received: 0, sent: 0 };
      this.#accounts.set(key, a);
    }
    a.received += bytes;
  }

  /** Whether `bytes` more may go to `key`; when they may, they are charged. */
  spend(key: string, bytes: number): boolean {
    const a = this.#accounts.get(key);
    if (a === undefined || a.sent + bytes > a.received) return false;
    a.sent += bytes;
    return true;
  }

  /** What may still go to `key` (0 when unknown). */
  remaining(key: string): number {
    const a = this.#accounts.get(key);
    return a === undefined ? 0 : a.received - a.sent;
  }

  /** `key` confirmed: it is no longer limited. */
  forget(key: string): void {
    this.#accounts.delete(key);
  }
}
