// Which of the peer's TSNs we hold (RFC 9260 §6.2, §6.7): the cumulative TSN (every TSN up to
// it received), the TSNs received above it (for gap ack blocks), and duplicates to report. TSNs
// more than MAX_TSN_AHEAD past the cumulative point are refused: gap block offsets are 16 bits,
// so no real sender can have more in flight, and the set above the point stays bounded.
// Not here: the bytes those TSNs carried (reassembly.ts), or when a SACK is sent (association.ts).
import type { SackChunk } from './chunks.ts';
import { tsnAdd, tsnLte } from './serial.ts';

export const MAX_TSN_AHEAD = 65535;
/** Duplicate TSNs remembered for the next SACK (RFC 9260 §3.3.4 leaves the number to us). */
const MAX_DUPS = 32;
/** Gap blocks per SACK: what fits beside data in a 1200-byte packet with room to spare. */
const MAX_GAPS = 128;

export type TsnClass = 'new' | 'duplicate' | 'too_far';

export class TsnTracker {
  #cum: number;
  /** TSNs received above #cum, as offsets from #cum (1..MAX_TSN_AHEAD), sorted ascending. */
  #above: number[] = [];
  #dups: number[] = [];

  constructor(peerInitialTsn: number) {
    this.#cum = tsnAdd(peerInitialTsn, -1);
  }

  get cumTsn(): number {
    return this.#cum;
  }

  get hasGaps(): boolean {
    return this.#above.length > 0;
  }

  get duplicatesPending(): boolean {
    return this.#dups.length > 0;
  }

  classify(tsn: number): TsnClass {
    const off = (tsn - this.#cum) >>> 0;
    if (off === 0 || off >= 0x80000000) return 'duplicate';
    if (off > MAX_TSN_AHEAD) return 'too_far';
    return this.#indexOf(off) >= 0 ? 'duplicate' : 'new';
  }

  /** How far `tsn` is past the cumulative point (0 or negative: at or behind it). */
  distance(tsn: number): number {
    return (tsn - this.#cum) | 0;
  }

  noteDuplicate(tsn: number): void {
    if (this.#dups.length < MAX_DUPS) this.#dups.push(tsn);
  }

  /** Marks a new TSN (classify() said 'new') received. */
  record(tsn: number): void {
    const off = (tsn - this.#cum) >>> 0;
    const a = this.#above;
    if (off === 1 && a.length === 0) {
      this.#cum = tsn;
      return;
    }
    let i = a.length;
    while (i > 0 && a[i - 1] > off) i--;
    a.splice(i, 0, off);
    this.#advance();
  }

  /** RFC 3758 §3.6: moves the cumulative point to newCum (when ahead of it). */
  forward(newCum: number): void {
    if (tsnLte(newCum, this.#cum)) return;
    const shift = (newCum - this.#cum) >>> 0;
    this.#above = this.#above.filter((o) => o > shift).map((o) => o - shift);
    this.#cum = newCum;
    this.#advance();
  }

  /** A SACK for the current state; takes the duplicates reported. */
  sack(aRwnd: number): SackChunk {
    const gaps: Array<[number, number]> = [];
    const a = this.#above;
    for (let i = 0; i < a.length && gaps.length < MAX_GAPS;) {
      let j = i;
      while (j + 1 < a.length && a[j + 1] === a[j] + 1) j++;
      gaps.push([a[i], a[j]]);
      i = j + 1;
    }
    const duplicates = this.#dups;
    this.#dups = [];
    return { cumTsn: this.#cum, aRwnd, gaps, duplicates };
  }

  #advance(): void {
    const a = this.#above;
    let n = 0;
    while (n < a.length && a[n] === n + 1) n++;
    if (n === 0) return;
    this.#cum = tsnAdd(this.#cum, n);
    if (n === a.length) this.#above = [];
    else this.#above = a.slice(n).map((o) => o - n);
  }

  #indexOf(off: number): number {
    const a = this.#above;
    let lo = 0;
    let hi = a.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid] === off) return mid;
      if (a[mid] < off) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
}
