// A byte budget shared by many associations (one per process by default): reassembly and send
// buffers reserve from it before they hold bytes and release when they let go, so the memory all
// associations hold together stays under one ceiling whatever the peers send. Each association
// has its own limits too (types.ts); this is the ceiling above them.
// Not here: what an association does when a reservation fails (it drops, or send() refuses).

export class SctpBudget {
  readonly limit: number;
  #used = 0;

  constructor(limitBytes: number) {
    if (!Number.isFinite(limitBytes) || limitBytes < 0) throw new RangeError('budget limit must be a non-negative number of bytes');
    this.limit = limitBytes;
  }

  get used(): number {
    return this.#used;
  }

  get available(): number {
    return Math.max(0, this.limit - this.#used);
  }

  /** Takes n bytes if they fit; false (and nothing taken) if not. */
  reserve(n: number): boolean {
    if (this.#used + n > this.limit) return false;
    this.#used += n;
    return true;
  }

  release(n: number): void {
    this.#used = Math.max(0, this.#used - n);
  }
}

/** The default ceiling for every association that is not given its own budget. */
export const DEFAULT_PROCESS_BUDGET_BYTES = 256 * 1024 * 1024;
export const processBudget = new SctpBudget(DEFAULT_PROCESS_BUDGET_BYTES);
