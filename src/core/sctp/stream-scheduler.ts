// The send queue of an association: one FIFO per stream, served by deficit round robin over
// message bytes (Shreedhar & Varghese 1996; RFC 8260 §3.3 names such a "fair bandwidth"
// scheduler). Plain DATA cannot interleave fragments of two messages, so a message once begun is
// finished first; the next one goes to the stream, in turn order, whose saved quantum covers its
// head message. Streams with small messages (`oai-events`) therefore send them all while a bulk
// stream saves up for its next 256 KiB message: plain round robin by message let the events
// stream send one message per bulk message, and its latency grew by a bulk message's time (~0.7 s
// on a lossy path) for every event queued. Within a stream the order is send() order.
// Not here: cutting messages into chunks or the windows that allow it (sender.ts).
import { Deque } from './deque.ts';

export interface Scheduled {
  readonly streamId: number;
  readonly data: { readonly length: number };
}

/** Bytes each waiting stream earns per round. */
const QUANTUM = 1024;

interface StreamQueue<T> {
  readonly items: Deque<T>;
  /** Bytes earned and not yet spent (DRR's deficit counter); reset when the stream empties. */
  credit: number;
}

export class StreamScheduler<T extends Scheduled> {
  readonly #streams = new Map<number, StreamQueue<T>>();
  /** Streams with messages waiting, in turn order. */
  readonly #turns = new Deque<number>();
  /** The message being cut into chunks: it finishes before any other begins. */
  #current: T | undefined;
  #length = 0;

  get length(): number {
    return this.#length;
  }

  /** The message to cut next (undefined when nothing waits). */
  head(): T | undefined {
    if (this.#current !== undefined || this.#length === 0) return this.#current;
    let pick = this.#firstAffordable();
    if (pick === undefined) {
      // No stream can pay for its head yet: play as many rounds as the nearest one needs, at once.
      let rounds = Infinity;
      for (const s of this.#streams.values()) rounds = Math.min(rounds, Math.ceil((s.items.at(0)!.data.length - s.credit) / QUANTUM));
      for (const s of this.#streams.values()) s.credit += rounds * QUANTUM;
      pick = this.#firstAffordable()!;
    }
    // Streams passed over go to the back, in order; the chosen one keeps the front.
    while (this.#turns.at(0) !== pick) this.#turns.push(this.#turns.shift()!);
    const s = this.#streams.get(pick)!;
    this.#current = s.items.at(0)!;
    s.credit -= this.#current.data.length;
    return this.#current;
  }

  push(item: T): void {
    let s = this.#streams.get(item.streamId);
    if (s === undefined) {
      this.#streams.set(item.streamId, (s = { items: new Deque<T>(), credit: 0 }));
      this.#turns.push(item.streamId);
    }
    s.items.push(item);
    this.#length++;
  }

  /** Removes the head message (it has been cut whole); the stream keeps its turn while its credit lasts. */
  shift(): T | undefined {
    const item = this.head();
    if (item === undefined) return undefined;
    this.#current = undefined;
    const s = this.#streams.get(item.streamId)!;
    s.items.shift();
    this.#length--;
    if (s.items.length === 0) this.#forget(item.streamId);
    else if (s.credit < s.items.at(0)!.data.length) this.#turns.push(this.#turns.shift()!);
    return item;
  }

  /** Removes one message wherever it waits (rare: abandoning it). */
  remove(item: T): boolean {
    const s = this.#streams.get(item.streamId);
    if (s === undefined || !s.items.remove(item)) return false;
    if (this.#current === item) this.#current = undefined;
    this.#length--;
    if (s.items.length === 0) this.#forget(item.streamId);
    return true;
  }

  hasStream(streamId: number): boolean {
    return this.#streams.has(streamId);
  }

  clear(): void {
    this.#streams.clear();
    this.#turns.clear();
    this.#current = undefined;
    this.#length = 0;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (const s of this.#streams.values()) yield* s.items;
  }

  #firstAffordable(): number | undefined {
    for (let i = 0; i < this.#turns.length; i++) {
      const id = this.#turns.at(i)!;
      const s = this.#streams.get(id)!;
      if (s.credit >= s.items.at(0)!.data.length) return id;
    }
    return undefined;
  }

  #forget(streamId: number): void {
    this.#streams.delete(streamId);
    this.#turns.remove(streamId);
  }
}
