// The one bounded drive loop of Parley's tests (STYLE.md rule 9): time jumps on a ManualClock to
// the earliest deadline among the parts (peers, the Netem) and the clock's own timers, the parts
// that are due run, and this repeats until the test's condition holds. It never sleeps, and a
// run that does not converge fails with the bound it hit instead of hanging.
// Not here: the network (./netem.ts) or waiting on real sockets and processes (./wait-for.ts).
import type { ManualClock } from '../../src/common/clock.ts';

/** Anything driven by time: a sans-IO machine behind an adapter, or a Netem. */
export interface Driven {
  /** When this part next needs advance(), or undefined when it waits for input only. */
  nextDeadline(): number | undefined;
  /** Does everything due at or before `now`. */
  advance(now: number): void;
}

export interface ProgressOptions {
  clock: ManualClock;
  parts: Driven[];
  /** Checked before every step; progress() returns as soon as it holds. */
  until: () => boolean;
  /** Fails when until() still does not hold after this much simulated time. */
  maxMs: number;
  /** Fails after this many steps (default 1 000 000): catches a part that never clears its deadline. */
  maxSteps?: number;
  /** Names the run in the error. */
  what?: string;
}

export interface ProgressResult {
  /** Steps taken (each one moves the clock to a deadline and runs what is due there). */
  steps: number;
  /** Simulated time that passed. */
  elapsedMs: number;
}

export function progress(o: ProgressOptions): ProgressResult {
  const { clock, parts, until } = o;
  const maxSteps = o.maxSteps ?? 1_000_000;
  const start = clock.now();
  const label = o.what ? `progress (${o.what})` : 'progress';
  let steps = 0;
  while (!until()) {
    if (steps >= maxSteps) {
      throw new Error(`${label}: maxSteps ${maxSteps} reached at t=${clock.now()} (${clock.now() - start} ms in) before until() held`);
    }
    let next = clock.nextDeadline();
    for (const p of parts) {
      const d = p.nextDeadline();
      if (d !== undefined && (next === undefined || d < next)) next = d;
    }
    if (next === undefined) {
      throw new Error(
        `${label}: stalled at t=${clock.now()} after ${steps} steps: no part and no timer has a deadline, and until() does not hold`,
      );
    }
    const now = Math.max(next, clock.now());
    if (now - start > o.maxMs) {
      throw new Error(
        `${label}: maxMs ${o.maxMs} reached (next deadline t=${now}, started t=${start}, ${steps} steps) before until() held`,
      );
    }
    clock.advanceTo(now);
    for (const p of parts) {
      const d = p.nextDeadline();
      if (d !== undefined && d <= now) p.advance(now);
    }
    steps++;
  }
  return { steps, elapsedMs: clock.now() - start };
}

/**
 * progress() until the clock reads `t`: every part runs at each of its deadlines up to and
 * including `t`, and the clock ends at `t` even when nothing was due there.
 */
export function progressTo(o: { clock: ManualClock; parts: Driven[]; t: number; maxSteps?: number; what?: string }): ProgressResult {
  const stop: Driven = { nextDeadline: () => o.t, advance: () => {} };
  return progress({
    clock: o.clock,
    parts: [...o.parts, stop],
    until: () => o.clock.now() >= o.t,
    maxMs: Math.max(0, o.t - o.clock.now()),
    maxSteps: o.maxSteps,
    what: o.what ?? `until t=${o.t}`,
  });
}
