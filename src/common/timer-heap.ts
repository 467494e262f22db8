// An I/O shell's one timer table (STYLE.md rule 3, as in quinn's endpoint): an indexed binary
// min-heap of "key → next deadline", used by the transceiver's media endpoint and the client's
// UDP driver. Each machine reports its pollTimeout() after every input; the shell arms a single setTimeout to `earliest()` and, when it fires, handles every key
// whose deadline has passed. Updating or removing a key is O(log n), so 10 000 calls with a
// 20 ms pacing deadline each cost one heap operation per packet, not a scan. Not a clock.
export class TimerHeap<K> {
  readonly #keys: K[] = [];
  readonly #deadlines: number[] = [];
  readonly #index = new Map<K, number>();

  get size(): number {
    return this.#keys.length;
  }

  /** Sets the key's deadline; `undefined` removes it. */
  set(key: K, deadline: number | undefined): void {
    const i = this.#index.get(key);
    if (deadline === undefined) {
      if (i !== undefined) this.#removeAt(i);
      return;
    }
    if (i === undefined) {
      this.#keys.push(key);
      this.#deadlines.push(deadline);
      this.#index.set(key, this.#keys.length - 1);
      this.#up(this.#keys.length - 1);
      return;
    }
    const old = this.#deadlines[i];
    this.#deadlines[i] = deadline;
    if (deadline < old) this.#up(i);
    else this.#down(i);
  }

  delete(key: K): void {
    this.set(key, undefined);
  }

  get(key: K): number | undefined {
    const i = this.#index.get(key);
    return i === undefined ? undefined : this.#deadlines[i];
  }

  /** The earliest deadline, or undefined when empty. */
  earliest(): number | undefined {
    return this.#deadlines.length > 0 ? this.#deadlines[0] : undefined;
  }

  /** Removes and returns every key whose deadline is ≤ now, earliest first. */
  takeExpired(now: number): K[] {
    const out: K[] = [];
    while (this.#deadlines.length > 0 && this.#deadlines[0] <= now) {
      out.push(this.#keys[0]);
      this.#removeAt(0);
    }
    return out;
  }

  #removeAt(i: number): void {
    const last = this.#keys.length - 1;
    this.#index.delete(this.#keys[i]);
    if (i !== last) {
      this.#keys[i] = this.#keys[last];
      this.#deadlines[i] = this.#deadlines[last];
      this.#index.set(this.#keys[i], i);
    }
    this.#keys.pop();
    this.#deadlines.pop();
    if (i < this.#keys.length) {
      this.#up(i);
      this.#down(i);
    }
  }

  #swap(a: number, b: number): void {
    const k = this.#keys[a];
    const d = this.#deadlines[a];
    this.#keys[a] = this.#keys[b];
    this.#deadlines[a] = this.#deadlines[b];
    this.#keys[b] = k;
    this.#deadlines[b] = d;
    this.#index.set(this.#keys[a], a);
    this.#index.set(this.#keys[b], b);
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (this.#deadlines[parent] <= this.#deadlines[i]) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#keys.length;
    while (true) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#deadlines[l] < this.#deadlines[m]) m = l;
      if (r < n && this.#deadlines[r] < this.#deadlines[m]) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
