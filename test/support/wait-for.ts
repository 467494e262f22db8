// The one poll-until-true of Parley's tests, for what runs in real time: real sockets, child
// processes, browsers, Redis. Code of our own that runs on a Clock is driven with progress()
// (./progress.ts) instead, never waited for.
import { inspect } from 'node:util';

export interface WaitForOptions {
  /** Give up after this long (real time). */
  timeoutMs: number;
  /** Pause between checks (default 20 ms). */
  intervalMs?: number;
  /** What is awaited, for the error; a function is called when the error is built. */
  what: string | (() => string);
}

/**
 * Calls `predicate` until it returns a truthy value and resolves with that value. Rejects after
 * `timeoutMs` with an Error naming `what` and the last value seen; a predicate that throws
 * rejects at once (a predicate that should keep trying through errors catches them itself). `waitFor(p, 5000, 'x')` is short for `waitFor(p, { timeoutMs: 5000, what: 'x' })`.
 */
export async function waitFor<T>(predicate: () => T | Promise<T>, options: WaitForOptions): Promise<NonNullable<T>>;
export async function waitFor<T>(predicate: () => T | Promise<T>, timeoutMs: number, what: string): Promise<NonNullable<T>>;
export async function waitFor<T>(
  predicate: () => T | Promise<T>,
  options: WaitForOptions | number,
  what?: string,
): Promise<NonNullable<T>> {
  const o: WaitForOptions = typeof options === 'number' ? { timeoutMs: options, what: what ?? 'a condition' } : options;
  const start = performance.now();
  const interval = o.intervalMs ?? 20;
  for (;;) {
    const last = await predicate();
    if (last) return last as NonNullable<T>;
    const left = start + o.timeoutMs - performance.now();
    if (left <= 0) {
      const what = typeof o.what === 'function' ? o.what() : o.what;
      throw new Error(
        `timed out after ${o.timeoutMs} ms waiting for ${what} (last value: ${inspect(last, { depth: 2, breakLength: Infinity })})`,
      );
    }
    await new Promise((r) => setTimeout(r, Math.min(interval, left)));
  }
}
