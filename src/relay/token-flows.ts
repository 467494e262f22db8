// The per-token flow limits of one relay worker (docs/relay.md, "Limits per token"; docs/security.md):
// which flows each routing token holds in the worker's flow index, so that one token — one POST to
// signaling — cannot fill the relay. A new flow is unconfirmed until the transceiver sends to the
// client on it (the reply path: forged source addresses never get that far unless the transceiver
// answers them); unconfirmed flows live in a small pool, bounded per token and per worker and
// removed when not confirmed in time, so checks from forged addresses cannot push confirmed flows
// out. Confirmed flows are capped per token: beyond the cap the least recently seen goes (a NAT
// rebinding's old address). Decisions only; the index holds the flows (flow-index.ts), and this
// keeps references it checks lazily against the index (a flow may have expired or been replaced
// there), so no datapath has to report removals. Pure: time is a parameter.
import type { FlowIndex, FlowView } from './flow-index.ts';
import type { RemovalReason } from './stats.ts';

export interface TokenLimits {
  /** Confirmed flows one token may hold in one worker. */
  readonly flowsPerToken: number;
  /** Unconfirmed flows one token may hold in one worker; a new one pushes out its oldest. */
  readonly unconfirmedPerToken: number;
  /** Unconfirmed flows in one worker; a new one pushes out the oldest. */
  readonly unconfirmedPool: number;
  /** An unconfirmed flow not confirmed within this (ms) is removed. */
  readonly unconfirmedMs: number;
}

/**
 * A call has one client address at a time; a few cover a rebinding while the old address still
 * lingers and an ICE restart. The transceiver answers a check within milliseconds, so 5 s to
 * confirm is generous, and a lost answer is retried by the client's next check.
 */
export const DEFAULT_TOKEN_LIMITS: TokenLimits = { flowsPerToken: 4, unconfirmedPerToken: 2, unconfirmedPool: 1024, unconfirmedMs: 5000 };

/** Called for each flow the limits remove (the worker counts it by reason). */
export type OnRemoved = (reason: RemovalReason, flow: FlowView) => void;

interface Ref {
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly publicIndex: number;
  readonly ufrag: string;
  readonly created: number;
}

const refKey = (f: { clientAddress: string; clientPort: number; publicIndex: number }): string =>
  `${f.publicIndex}|${f.clientAddress}|${f.clientPort}`;

export class TokenFlows {
  readonly #limits: TokenLimits;
  /** Token → references to its flows, oldest first (some may be gone from the index). */
  readonly #byToken = new Map<string, Ref[]>();
  /** Unconfirmed flows when created, oldest first (some may be confirmed or gone since). */
  readonly #pool = new Map<string, Ref>();
  /** Tokens with more references than flowsPerToken: the tick checks their confirmed count. */
  readonly #over = new Set<string>();

  constructor(limits: TokenLimits = DEFAULT_TOKEN_LIMITS) {
    this.#limits = limits;
  }

  /** Tokens tracked (the memory bound is the index's: every token has a flow, or is pruned). */
  get tokens(): number {
    return this.#byToken.size;
  }

  /** Does the worker hold a flow of this token? */
  has(index: FlowIndex<FlowView>, ufrag: string): boolean {
    return this.#live(index, ufrag).length > 0;
  }

  /** The token's flows still in the index, oldest first; forgets the references that are gone. */
  #live(index: FlowIndex<FlowView>, ufrag: string): FlowView[] {
    const refs = this.#byToken.get(ufrag);
    if (!refs) return [];
    const live: FlowView[] = [];
    const keep: Ref[] = [];
    for (const r of refs) {
      const f = index.get(r.clientAddress, r.clientPort, r.publicIndex);
      if (f && f.ufrag === ufrag) {
        live.push(f);
        keep.push(r);
      }
    }
    if (keep.length === 0) this.#byToken.delete(ufrag);
    else if (keep.length !== refs.length) this.#byToken.set(ufrag, keep);
    return live;
  }

  #remove(index: FlowIndex<FlowView>, f: FlowView, reason: RemovalReason, removed: OnRemoved): void {
    if (index.remove(f)) removed(reason, f);
  }

  /** Before an unconfirmed flow of `ufrag` is added: pushes out what the pool limits say. */
  makeRoom(index: FlowIndex<FlowView>, ufrag: string, removed: OnRemoved): void {
    const { flowsPerToken, unconfirmedPerToken } = this.#limits;
    const live = this.#live(index, ufrag);
    const unconfirmed = live.filter((f) => !f.confirmed);
    for (let i = 0; i <= unconfirmed.length - unconfirmedPerToken; i++)
      this.#remove(index, unconfirmed[i], 'unconfirmed_per_token', removed);
    // Flows confirmed since the last tick may put the token over its cap: never more than
    // flowsPerToken + unconfirmedPerToken at once, the least recently seen confirmed ones go first.
    const confirmed = live.filter((f) => f.confirmed).sort((x, y) => x.lastSeen - y.lastSeen);
    const after = confirmed.length + Math.min(unconfirmed.length, unconfirmedPerToken - 1) + 1;
    for (let i = 0; i < after - (flowsPerToken + unconfirmedPerToken); i++) this.#remove(index, confirmed[i], 'token_cap', removed);
    // Oldest first; each entry looked at leaves the pool, so this is O(1) per flow over time.
    for (const [k, r] of this.#pool) {
      if (this.#pool.size < this.#limits.unconfirmedPool) break;
      this.#pool.delete(k);
      const f = index.get(r.clientAddress, r.clientPort, r.publicIndex);
      if (f && f.ufrag === r.ufrag && !f.confirmed) this.#remove(index, f, 'unconfirmed_pool_full', removed);
    }
  }

  /** A flow was added to the index (made from a check, or recovered from the store). */
  track(flow: FlowView, now: number): void {
    const ref: Ref = {
      clientAddress: flow.clientAddress,
      clientPort: flow.clientPort,
      publicIndex: flow.publicIndex,
      ufrag: flow.ufrag,
      created: now,
    };
    const refs = this.#byToken.get(flow.ufrag);
    if (refs) refs.push(ref);
    else this.#byToken.set(flow.ufrag, [ref]);
    if ((refs?.length ?? 1) > this.#limits.flowsPerToken) this.#over.add(flow.ufrag);
    if (!flow.confirmed) {
      const k = refKey(flow);
      this.#pool.delete(k);
      this.#pool.set(k, ref);
    }
  }

  /**
   * The worker's tick: removes unconfirmed flows older than unconfirmedMs, and each token's
   * least recently seen confirmed flows beyond flowsPerToken.
   */
  tick(index: FlowIndex<FlowView>, now: number, removed: OnRemoved): void {
    for (const [k, r] of this.#pool) {
      if (now - r.created < this.#limits.unconfirmedMs) break;
      this.#pool.delete(k);
      const f = index.get(r.clientAddress, r.clientPort, r.publicIndex);
      if (f && f.ufrag === r.ufrag && !f.confirmed) this.#remove(index, f, 'unconfirmed_timeout', removed);
    }
    for (const ufrag of this.#over) {
      const confirmed = this.#live(index, ufrag)
        .filter((f) => f.confirmed)
        .sort((a, b) => a.lastSeen - b.lastSeen);
      for (let i = 0; i < confirmed.length - this.#limits.flowsPerToken; i++) this.#remove(index, confirmed[i], 'token_cap', removed);
      if (this.#live(index, ufrag).length <= this.#limits.flowsPerToken) this.#over.delete(ufrag);
    }
  }

  /** The token was revoked (its call ended): removes all its flows. */
  release(index: FlowIndex<FlowView>, ufrag: string, removed: OnRemoved): void {
    for (const f of this.#live(index, ufrag)) this.#remove(index, f, 'revoked', removed);
    this.#byToken.delete(ufrag);
    this.#over.delete(ufrag);
  }

  /** Forgets tokens none of whose flows is left (idle expiry happens in the index). O(flows). */
  prune(index: FlowIndex<FlowView>): void {
    for (const ufrag of [...this.#byToken.keys()]) this.#live(index, ufrag);
  }
}
