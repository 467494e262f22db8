// Percentiles for `parley load`: exact ones from a small list (setup time, one value per call)
// and a fixed-bucket histogram for per-packet samples (echo RTT: 50 a second per call), which
// costs one array increment per sample and no allocation. Buckets are 0.05 ms wide up to 50 ms,
// then 1 ms wide up to 60 s; a percentile is reported as its bucket's upper edge.
export interface Percentiles {
  readonly n: number;
  readonly p50: number | undefined;
  readonly p95: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

const FINE_MS = 0.05;
const FINE_BUCKETS = 1000; // 0..50 ms
const COARSE_BUCKETS = 60_000; // 50 ms..60 s, 1 ms each

/** Exact percentiles (nearest rank) of a list. */
export function percentiles(values: readonly number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number | undefined => (s.length === 0 ? undefined : s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]);
  return { n: s.length, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: s[s.length - 1] };
}

export class LatencyHistogram {
  readonly #counts = new Uint32Array(FINE_BUCKETS + COARSE_BUCKETS + 1);
  #n = 0;
  #max = 0;

  static exact(values: readonly number[]): Percentiles {
    return percentiles(values);
  }

  add(ms: number): void {
    if (!(ms >= 0)) return;
    const i =
      ms < FINE_BUCKETS * FINE_MS
        ? Math.floor(ms / FINE_MS)
        : Math.min(FINE_BUCKETS + Math.floor(ms - FINE_BUCKETS * FINE_MS), FINE_BUCKETS + COARSE_BUCKETS);
    this.#counts[i]++;
    this.#n++;
    if (ms > this.#max) this.#max = ms;
  }

  percentiles(): Percentiles {
    if (this.#n === 0) return { n: 0, p50: undefined, p95: undefined, p99: undefined, max: undefined };
    const edge = (i: number): number =>
      Math.min(this.#max, i < FINE_BUCKETS ? (i + 1) * FINE_MS : FINE_BUCKETS * FINE_MS + (i - FINE_BUCKETS + 1));
    const at = (p: number): number => {
      const rank = Math.ceil(p * this.#n);
      let seen = 0;
      for (let i = 0; i < this.#counts.length; i++) {
        seen += this.#counts[i];
        if (seen >= rank) return edge(i);
      }
      return this.#max;
    };
    return { n: this.#n, p50: at(0.5), p95: at(0.95), p99: at(0.99), max: this.#max };
  }
}
