// The one anti-replay sliding window of the core, for SRTP's replay list (RFC 3711 §3.3.2: 48-bit
// SRTP or 31-bit SRTCP indices) and DTLS records (RFC 6347 §4.1.2.6, the algorithm of RFC 4303
// §3.4.3: 48-bit sequence numbers per epoch). A ring of slots indexed by `index mod size`, each
// holding the last index written there: inside the window every index has its own slot, so
// "slot holds this index" means "seen". O(1) per packet with no bit shifting, exact for any size,
// and indices up to 2^53 fit a Float64Array slot. Callers check before decrypting (cheap) and
// commit only after the packet authenticated, so forged packets cannot move the window.

export type ReplayVerdict = 'ok' | 'replayed' | 'too_old';

export const DEFAULT_REPLAY_WINDOW = 128;

export class ReplayWindow {
  readonly #slots: Float64Array;
  readonly #size: number;
  #highest = -1;

  constructor(size = DEFAULT_REPLAY_WINDOW) {
    // RFC 3711 §3.3.2: the window MUST be at least 64.
    this.#size = Math.max(64, Math.floor(size));
    this.#slots = new Float64Array(this.#size).fill(-1);
  }

  get highest(): number {
    return this.#highest;
  }

  /** Checks without recording; call commit() only after the packet authenticates. */
  check(index: number): ReplayVerdict {
    if (index > this.#highest) return 'ok';
    if (index <= this.#highest - this.#size) return 'too_old';
    return this.#slots[index % this.#size] === index ? 'replayed' : 'ok';
  }

  /** Records an authenticated index. Returns true when it is the new highest. */
  commit(index: number): boolean {
    this.#slots[index % this.#size] = index;
    if (index > this.#highest) {
      this.#highest = index;
      return true;
    }
    return false;
  }
}
