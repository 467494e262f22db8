// The retransmission timeout (RFC 9260 §6.3.1, the RFC 6298 rules with SCTP's constants):
// SRTT/RTTVAR from measurements (only of chunks sent once: Karn's rule, enforced by the
// caller), clamped to [min, max], doubled by each T3-rtx expiry (backOff) until the next
// measurement. Parley's RTO.min is 400 ms, not RFC 9260's 1 s: a data channel over a relay is
// one path, and browsers' stacks (dcsctp's default) use the lower floor so one lost packet does
// not stall a channel for a second. RTO.initial stays 1 s, RTO.max 60 s.

export interface RtoOptions {
  initialMs: number;
  minMs: number;
  maxMs: number;
}

export const DEFAULT_RTO: RtoOptions = { initialMs: 1000, minMs: 400, maxMs: 60_000 };
const ALPHA = 1 / 8;
const BETA = 1 / 4;

export class Rto {
  readonly #o: RtoOptions;
  #srtt: number | undefined;
  #rttvar = 0;
  #rto: number;

  constructor(o: RtoOptions) {
    this.#o = o;
    this.#rto = o.initialMs;
  }

  get rto(): number {
    return this.#rto;
  }

  get srtt(): number | undefined {
    return this.#srtt;
  }

  /** A new round-trip measurement R (RFC 6298 §2.2, §2.3). */
  measure(r: number): void {
    if (!(r >= 0)) return;
    if (this.#srtt === undefined) {
      this.#srtt = r;
      this.#rttvar = r / 2;
    } else {
      this.#rttvar = (1 - BETA) * this.#rttvar + BETA * Math.abs(this.#srtt - r);
      this.#srtt = (1 - ALPHA) * this.#srtt + ALPHA * r;
    }
    this.#rto = this.#clamp(this.#srtt + 4 * this.#rttvar);
  }

  /** RFC 9260 §6.3.3 E2: RTO = RTO * 2 on a T3-rtx (or T1/T2) expiry. */
  backOff(): void {
    this.#rto = this.#clamp(this.#rto * 2);
  }

  #clamp(v: number): number {
    return Math.min(this.#o.maxMs, Math.max(this.#o.minMs, v));
  }
}
