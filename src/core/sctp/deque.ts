// A FIFO with O(1) push, shift and indexed reads: a head index over an array, compacted when the
// dead prefix is at least half the array. Array.prototype.shift is O(n) on large arrays, and an
// association queues tens of thousands of small messages at once.

export class Deque<T> {
  #items: T[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  /** The i-th item from the front (undefined past the end). */
  at(i: number): T | undefined {
    return this.#items[this.#head + i];
  }

  push(item: T): void {
    this.#items.push(item);
  }

  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head];
    (this.#items as Array<T | undefined>)[this.#head] = undefined;
    this.#head++;
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** Removes the first item equal to `item` (rare: abandoning a queued message). */
  remove(item: T): boolean {
    const i = this.#items.indexOf(item, this.#head);
    if (i < 0) return false;
    this.#items.splice(i, 1);
    return true;
  }

  some(pred: (item: T) => boolean): boolean {
    for (let i = this.#head; i < this.#items.length; i++) if (pred(this.#items[i])) return true;
    return false;
  }

  clear(): void {
    this.#items = [];
    this.#head = 0;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let i = this.#head; i < this.#items.length; i++) yield this.#items[i];
  }
}
