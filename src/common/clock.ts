// The one source of time for Parley's I/O shells (STYLE.md rules 1 and 9): the relay worker,
// heartbeats, relay locations and the media endpoint take a Clock instead of reading
// Date.now / performance.now or arming their own setTimeout, so tests drive them with a
// ManualClock and never sleep for a timer of our own code. src/core never sees a Clock: it is
// given `now` as a number by the shell that holds one.
// Not here: deadline bookkeeping of many objects (TimerHeap), or scheduling policy.

/** A pending timeout or interval; cancel() is idempotent. */
export interface Timer {
  cancel(): void;
}

export interface TimerOptions {
  /** System clock only: do not keep the process alive for this timer (Node's unref). */
  readonly unref?: boolean;
}

export interface Clock {
  /** Monotonic milliseconds (performance.now() on the system clock): for durations and deadlines. */
  now(): number;
  /** Unix epoch milliseconds (Date.now() on the system clock): for timestamps that leave the process. */
  wallNow(): number;
  /** Calls fn once, `ms` from now. */
  timeout(ms: number, fn: () => void, options?: TimerOptions): Timer;
  /** Calls fn every `ms` from now until cancelled. */
  interval(ms: number, fn: () => void, options?: TimerOptions): Timer;
  /** Resolves `ms` from now. */
  sleep(ms: number): Promise<void>;
}

/** Node's timers and clocks. */
export const systemClock: Clock = {
  now: () => performance.now(),
  wallNow: () => Date.now(),
  timeout(ms, fn, options) {
    const t = setTimeout(fn, Math.max(0, ms));
    if (options?.unref) t.unref();
    return { cancel: () => clearTimeout(t) };
  },
  interval(ms, fn, options) {
    const t = setInterval(fn, Math.max(1, ms));
    if (options?.unref) t.unref();
    return { cancel: () => clearInterval(t) };
  },
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms))),
};

interface Pending {
  at: number;
  /** Insertion order: timers due at the same instant run in the order they were armed. */
  seq: number;
  fn: () => void;
  /** 0 for a timeout; the period of an interval. */
  every: number;
  cancelled: boolean;
}

/**
 * A clock that moves only when told to. Due timers run in deadline order, each with now() equal
 * to its own deadline, so a test sees exactly the sequence the system clock would produce.
 */
export class ManualClock implements Clock {
  #now: number;
  readonly #wallOffset: number;
  #seq = 0;
  #pending: Pending[] = [];

  /** `start` is the monotonic time; wallNow() = now() + wallOffset (default: a fixed 2026 instant). */
  constructor(start = 0, wallOffset = Date.UTC(2026, 0, 1)) {
    this.#now = start;
    this.#wallOffset = wallOffset;
  }

  now(): number {
    return this.#now;
  }

  wallNow(): number {
    return this.#now + this.#wallOffset;
  }

  timeout(ms: number, fn: () => void): Timer {
    return this.#arm(ms, fn, 0);
  }

  interval(ms: number, fn: () => void): Timer {
    return this.#arm(ms, fn, Math.max(1, ms));
  }

  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#arm(ms, resolve, 0));
  }

  /** Timers not yet run or cancelled. */
  get pendingTimers(): number {
    return this.#pending.length;
  }

  /** The earliest deadline of a pending timer. */
  nextDeadline(): number | undefined {
    return this.#pending.length > 0 ? this.#pending[0].at : undefined;
  }

  /** Moves time forward by `ms`, running every timer that falls due on the way. */
  advance(ms: number): void {
    this.advanceTo(this.#now + ms);
  }

  /** Moves time to `t` (never backwards), running every timer due at or before it. */
  advanceTo(t: number): void {
    for (let p = this.#takeDue(t); p; p = this.#takeDue(t)) this.#run(p);
    if (t > this.#now) this.#now = t;
  }

  /**
   * As advance(), but lets promise callbacks settle before and after each due timer, so code that
   * awaits between timers (a store write, a heartbeat's await) sees them run as it would in real time.
   */
  async advanceAsync(ms: number): Promise<void> {
    const end = this.#now + ms;
    await settle();
    for (let p = this.#takeDue(end); p; p = this.#takeDue(end)) {
      this.#run(p);
      await settle();
    }
    if (end > this.#now) this.#now = end;
  }

  #arm(ms: number, fn: () => void, every: number): Timer {
    const p: Pending = { at: this.#now + Math.max(0, ms), seq: this.#seq++, fn, every, cancelled: false };
    this.#insert(p);
    return {
      cancel: () => {
        if (p.cancelled) return;
        p.cancelled = true;
        this.#pending = this.#pending.filter((q) => q !== p);
      },
    };
  }

  #insert(p: Pending): void {
    let i = this.#pending.length;
    while (i > 0 && (this.#pending[i - 1].at > p.at || (this.#pending[i - 1].at === p.at && this.#pending[i - 1].seq > p.seq))) i--;
    this.#pending.splice(i, 0, p);
  }

  #takeDue(t: number): Pending | undefined {
    const p = this.#pending[0];
    if (!p || p.at > t) return undefined;
    this.#pending.shift();
    return p;
  }

  #run(p: Pending): void {
    if (p.at > this.#now) this.#now = p.at;
    if (p.every > 0) {
      p.at += p.every;
      p.seq = this.#seq++;
      this.#insert(p);
    } else {
      p.cancelled = true;
    }
    p.fn();
  }
}

/** Lets every queued promise continuation run (one turn of the event loop). */
function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
