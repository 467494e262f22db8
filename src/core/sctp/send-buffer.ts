// What an association holds on the send side, counted (RFC 8831 §6.6 and the W3C
// bufferedAmount): bytes queued or sent but not yet acknowledged or abandoned, per stream and in
// total, bounded by the association's limit and the shared budget. Crossing a low-water mark
// from above queues a `buffered_low` (per stream) or `send_buffer_low` (association) event.
// Not here: the messages themselves (sender.ts).
import type { SctpBudget } from './budget.ts';
import type { SctpEvent } from './types.ts';

interface StreamCount {
  bytes: number;
  low: number;
}

export class SendBuffer {
  readonly #limit: number;
  readonly #low: number;
  readonly #budget: SctpBudget;
  readonly #events: SctpEvent[];
  readonly #streams = new Map<number, StreamCount>();
  #bytes = 0;

  constructor(limit: number, low: number, budget: SctpBudget, events: SctpEvent[]) {
    this.#limit = limit;
    this.#low = low;
    this.#budget = budget;
    this.#events = events;
  }

  get bytes(): number {
    return this.#bytes;
  }

  streamBytes(streamId: number): number {
    return this.#streams.get(streamId)?.bytes ?? 0;
  }

  setLowThreshold(streamId: number, bytes: number): void {
    this.#stream(streamId).low = Math.max(0, bytes);
  }

  /** Takes n bytes for a stream if both limits allow; false (nothing taken) otherwise. */
  reserve(streamId: number, n: number): boolean {
    if (this.#bytes + n > this.#limit || !this.#budget.reserve(n)) return false;
    this.#bytes += n;
    this.#stream(streamId).bytes += n;
    return true;
  }

  release(streamId: number, n: number): void {
    if (n <= 0) return;
    const s = this.#stream(streamId);
    const before = s.bytes;
    s.bytes -= n;
    if (before > s.low && s.bytes <= s.low) this.#events.push({ type: 'buffered_low', streamId });
    if (s.bytes === 0 && s.low === 0) this.#streams.delete(streamId);
    const total = this.#bytes;
    this.#bytes -= n;
    this.#budget.release(n);
    if (total > this.#low && this.#bytes <= this.#low) this.#events.push({ type: 'send_buffer_low' });
  }

  /** Gives everything back to the budget (the association ended); no events. */
  clear(): void {
    this.#budget.release(this.#bytes);
    this.#bytes = 0;
    this.#streams.clear();
  }

  #stream(streamId: number): StreamCount {
    let s = this.#streams.get(streamId);
    if (s === undefined) this.#streams.set(streamId, (s = { bytes: 0, low: 0 }));
    return s;
  }
}
