// What names a new call before its offer is read (issue #18): the routing token (the server ICE
// ufrag and password), the call id, our SSRC and CNAME and the SDP session id. None of them
// depends on the offer, so the next call's is made in idle time after a call is created, and the
// POST that takes it skips the token's mint (an AES-CTR, two HMACs) and the ids' random draws.
// Each is used once: take() hands out the prepared one and forgets it. A prepared one older than
// PREPARED_IDENTITY_MAX_AGE_MS (wall clock) is never handed out: the token's issue time is when it
// was minted, and a relay opens a token's first flow only within FIRST_FLOW_WINDOW_MS (60 s) of
// it (docs/relay.md), so a call's window is at most this much shorter than one minted on its POST.
// Not here: when the idle time comes (calls/call-registry.ts), the token's format (core/token).
import type { MintResult } from '../../core/token/index.ts';
import type { Rng } from '../../core/rng.ts';

/** How old (wall ms) a prepared identity may be when a POST takes it: what it may cost of a token's 60 s first-flow window. */
export const PREPARED_IDENTITY_MAX_AGE_MS = 5_000;

export interface CallIdentity {
  readonly token: MintResult;
  readonly id: string;
  /** RFC 3550 §8.1: random, never 0 (some stacks treat 0 as "unset"). */
  readonly ssrc: number;
  readonly cname: string;
  /** The SDP o= session id. */
  readonly sessionId: string;
}

export interface CallIdentitiesOptions {
  /** Mints a routing token issued at `wallNow`. */
  readonly mint: (wallNow: number) => MintResult;
  /** A call id made at `wallNow`. */
  readonly callId: (wallNow: number) => string;
  readonly rng: Rng;
  readonly maxAgeMs?: number;
}

export class CallIdentities {
  readonly #o: CallIdentitiesOptions;
  readonly #maxAgeMs: number;
  #prepared: { readonly identity: CallIdentity; readonly madeAt: number } | undefined;

  constructor(o: CallIdentitiesOptions) {
    this.#o = o;
    this.#maxAgeMs = o.maxAgeMs ?? PREPARED_IDENTITY_MAX_AGE_MS;
  }

  /** The prepared identity if it is fresh at `wallNow` (then forgotten), else one made now. */
  take(wallNow: number): CallIdentity {
    const p = this.#prepared;
    this.#prepared = undefined;
    return p !== undefined && this.#fresh(p.madeAt, wallNow) ? p.identity : this.#make(wallNow);
  }

  /** Idle work: makes the next call's identity unless a fresh one is waiting. */
  prepare(wallNow: number): void {
    if (this.#prepared !== undefined && this.#fresh(this.#prepared.madeAt, wallNow)) return;
    this.#prepared = { identity: this.#make(wallNow), madeAt: wallNow };
  }

  /** A clock that went back, or NaN, counts as stale: a new one is made. */
  #fresh(madeAt: number, wallNow: number): boolean {
    const age = wallNow - madeAt;
    return age >= 0 && age <= this.#maxAgeMs;
  }

  #make(wallNow: number): CallIdentity {
    const rng = this.#o.rng;
    return {
      token: this.#o.mint(wallNow),
      id: this.#o.callId(wallNow),
      ssrc: rng.bytes(4).readUInt32BE(0) || 1,
      cname: rng.bytes(12).toString('base64'),
      sessionId: String(rng.bytes(6).readUIntBE(0, 6)),
    };
  }
}
