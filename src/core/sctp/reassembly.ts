// Inbound streams (RFC 9260 §6.5, §6.6, §6.9): fragments held until their message is whole,
// ordered messages held until their SSN is next, both bounded. Every held fragment is counted as
// its payload plus HELD_CHUNK_OVERHEAD (so a peer sending one-byte chunks cannot hold a million
// objects "for free") against the association's limit and the shared budget. A message that
// would grow past maxMessageSize is a protocol violation: the caller aborts, which frees it all.
// Not here: which TSNs were received or acknowledged (receiver.ts).
import type { SctpBudget } from './budget.ts';
import type { DataChunk } from './chunks.ts';
import { DataFlag } from './chunks.ts';
import { ssnLt, tsnLte } from './serial.ts';

/** Bytes charged per held fragment beyond its payload (object, Buffer header, array slot). */
export const HELD_CHUNK_OVERHEAD = 64;
/**
 * How far past maxBytes the next in-sequence TSN may still be taken. A sender that respects our
 * window never needs it; it exists so a window full of stranded fragments can always take the
 * chunk that completes them (the zero-window deadlock pion and webrtc-rs hit), and it is bounded.
 */
export const IN_SEQUENCE_HEADROOM = 64 * 1024;

export interface Delivered {
  streamId: number;
  ppid: number;
  data: Buffer;
  unordered: boolean;
}

interface Frag {
  tsn: number;
  flags: number;
  ppid: number;
  payload: Buffer;
}

interface OrderedEntry {
  frags: Frag[];
  bytes: number;
}

class InboundStream {
  nextSsn = 0;
  readonly ordered = new Map<number, OrderedEntry>();
  /** Unordered fragments, sorted by TSN. */
  readonly unordered: Frag[] = [];
}

export type AddResult = 'ok' | 'full' | 'too_large';

export interface ReassemblyLimits {
  maxBytes: number;
  maxMessageSize: number;
  budget: SctpBudget;
}

export class Reassembly {
  readonly #o: ReassemblyLimits;
  readonly #streams = new Map<number, InboundStream>();
  #held = 0;

  constructor(o: ReassemblyLimits) {
    this.#o = o;
  }

  get held(): number {
    return this.#held;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Bytes we can still take (our a_rwnd before the overhead correction). */
  get room(): number {
    return Math.max(0, Math.min(this.#o.maxBytes - this.#held, this.#o.budget.available));
  }

  /**
   * Takes one DATA chunk whose TSN is new. `inSequence`: its TSN is the next after the
   * cumulative point (may use IN_SEQUENCE_HEADROOM). Whole messages go to `out`.
   */
  add(c: DataChunk, inSequence: boolean, out: Delivered[]): AddResult {
    const whole = (c.flags & (DataFlag.begin | DataFlag.end)) === (DataFlag.begin | DataFlag.end);
    const unordered = (c.flags & DataFlag.unordered) !== 0;
    let s = this.#streams.get(c.streamId);
    // Fast path: a whole message that can be delivered now is never held.
    if (whole && (unordered || c.ssn === (s?.nextSsn ?? 0))) {
      if (c.payload.length > this.#o.maxMessageSize) return 'too_large';
      out.push({ streamId: c.streamId, ppid: c.ppid, data: Buffer.from(c.payload), unordered });
      if (!unordered) {
        if (s === undefined) this.#streams.set(c.streamId, (s = new InboundStream()));
        s.nextSsn = (s.nextSsn + 1) & 0xffff;
        if (s.ordered.size > 0) this.#deliverOrdered(c.streamId, s, out);
      }
      return 'ok';
    }
    if (c.payload.length > this.#o.maxMessageSize) return 'too_large';
    const cost = c.payload.length + HELD_CHUNK_OVERHEAD;
    const limit = this.#o.maxBytes + (inSequence ? IN_SEQUENCE_HEADROOM : 0);
    if (this.#held + cost > limit || !this.#o.budget.reserve(cost)) return 'full';
    this.#held += cost;
    if (s === undefined) this.#streams.set(c.streamId, (s = new InboundStream()));
    const frag: Frag = { tsn: c.tsn, flags: c.flags, ppid: c.ppid, payload: Buffer.from(c.payload) };
    if (unordered) return this.#addUnordered(c.streamId, s, frag, out);
    let entry = s.ordered.get(c.ssn);
    if (entry === undefined) s.ordered.set(c.ssn, (entry = { frags: [], bytes: 0 }));
    insertByTsn(entry.frags, frag);
    entry.bytes += frag.payload.length;
    if (entry.bytes > this.#o.maxMessageSize) return 'too_large';
    this.#deliverOrdered(c.streamId, s, out);
    return 'ok';
  }

  /**
   * RFC 3758 §3.6: the peer abandoned everything up to newCumTsn. Fragments at or below it can
   * never complete and go; listed ordered streams skip past their SSN; stranded messages flow.
   */
  forwardTsn(newCumTsn: number, skipped: Array<{ streamId: number; ssn: number }>, out: Delivered[]): void {
    for (const { streamId, ssn } of skipped) {
      const s = this.#streams.get(streamId);
      if (s === undefined) {
        const fresh = new InboundStream();
        fresh.nextSsn = (ssn + 1) & 0xffff;
        this.#streams.set(streamId, fresh);
        continue;
      }
      for (const [k, e] of s.ordered) {
        if (!ssnLt(ssn, k)) {
          this.#free(e.frags);
          s.ordered.delete(k);
        }
      }
      if (!ssnLt(ssn, s.nextSsn)) s.nextSsn = (ssn + 1) & 0xffff;
    }
    for (const [streamId, s] of this.#streams) {
      for (const [k, e] of s.ordered) {
        if (!isWhole(e.frags) && tsnLte(e.frags[0].tsn, newCumTsn)) {
          this.#free(e.frags);
          s.ordered.delete(k);
        }
      }
      const keep = s.unordered.filter((f) => !tsnLte(f.tsn, newCumTsn));
      this.#free(s.unordered.filter((f) => tsnLte(f.tsn, newCumTsn)));
      s.unordered.length = 0;
      s.unordered.push(...keep);
      this.#deliverOrdered(streamId, s, out);
    }
  }

  /** RFC 6525 §5.2.2: the peer reset these outgoing streams; their SSNs start again at 0. */
  resetStreams(ids: number[]): void {
    for (const id of ids) {
      const s = this.#streams.get(id);
      if (s === undefined) continue;
      for (const e of s.ordered.values()) this.#free(e.frags);
      this.#free(s.unordered);
      this.#streams.delete(id);
    }
  }

  /** Frees everything (the association ended). */
  clear(): void {
    this.resetStreams([...this.#streams.keys()]);
  }

  #addUnordered(streamId: number, s: InboundStream, frag: Frag, out: Delivered[]): AddResult {
    const a = s.unordered;
    const i = insertByTsn(a, frag);
    // Fragments of one message have consecutive TSNs (RFC 9260 §6.9): look around the new one.
    let first = i;
    while (!(a[first].flags & DataFlag.begin) && first > 0 && a[first - 1].tsn === (a[first].tsn - 1) >>> 0) first--;
    let last = i;
    let bytes = 0;
    for (let k = first; k <= last; k++) bytes += a[k].payload.length;
    while (!(a[last].flags & DataFlag.end) && last + 1 < a.length && a[last + 1].tsn === (a[last].tsn + 1) >>> 0) {
      last++;
      bytes += a[last].payload.length;
    }
    if (bytes > this.#o.maxMessageSize) return 'too_large';
    if (a[first].flags & DataFlag.begin && a[last].flags & DataFlag.end) {
      const frags = a.splice(first, last - first + 1);
      this.#free(frags);
      out.push({ streamId, ppid: frags[0].ppid, data: concat(frags), unordered: true });
    }
    return 'ok';
  }

  #deliverOrdered(streamId: number, s: InboundStream, out: Delivered[]): void {
    for (let e = s.ordered.get(s.nextSsn); e !== undefined && isWhole(e.frags); e = s.ordered.get(s.nextSsn)) {
      s.ordered.delete(s.nextSsn);
      s.nextSsn = (s.nextSsn + 1) & 0xffff;
      this.#free(e.frags);
      out.push({ streamId, ppid: e.frags[0].ppid, data: concat(e.frags), unordered: false });
    }
  }

  #free(frags: Frag[]): void {
    let n = 0;
    for (const f of frags) n += f.payload.length + HELD_CHUNK_OVERHEAD;
    this.#held -= n;
    this.#o.budget.release(n);
  }
}

function isWhole(frags: Frag[]): boolean {
  const first = frags[0];
  const last = frags[frags.length - 1];
  return (first.flags & DataFlag.begin) !== 0 && (last.flags & DataFlag.end) !== 0 && (last.tsn - first.tsn) >>> 0 === frags.length - 1;
}

function concat(frags: Frag[]): Buffer {
  return frags.length === 1 ? frags[0].payload : Buffer.concat(frags.map((f) => f.payload));
}

/** Inserts in TSN order (fragments mostly arrive in order: search from the end); returns the index. */
function insertByTsn(a: Frag[], f: Frag): number {
  let i = a.length;
  while (i > 0 && tsnLte(f.tsn, a[i - 1].tsn)) i--;
  a.splice(i, 0, f);
  return i;
}
