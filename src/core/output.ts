// What a sans-IO machine gives back, and how a shell takes it (STYLE.md rules 2-3). Every
// stateful protocol object in Parley is driven the same way: inputs go in through its own
// `handle…(…, now)` methods, and what comes out is one of three things, as in str0m's `Output`:
// a datagram to send (Transmit), something that happened (Event), or the time it next needs
// `handleTimeout(now)` (Timeout). Each shell — the transceiver's media endpoint, the client's
// UDP driver, the test networks — drains a machine with `drain()` after every input and arms
// its one timer to the deadline it returns.
// Not here: what a transmit or an event holds (each machine's own types), or any timer.

/** The poll half of a machine: transmits of type T, events of type E, one deadline. */
export interface SansIo<T, E> {
  pollTransmit(): T | undefined;
  pollEvent(): E | undefined;
  /** The earliest time (same clock as `now`) handleTimeout must run; undefined when none. */
  pollTimeout(): number | undefined;
}

export type Output<T, E> =
  | { readonly type: 'transmit'; readonly transmit: T }
  | { readonly type: 'event'; readonly event: E }
  | { readonly type: 'timeout'; readonly at: number | undefined };

/**
 * The machine's next output, transmits first, then events, then (when both are empty) its
 * deadline — one object per call, so for tests and shells off the media path; hot shells use
 * drain().
 */
export function pollOutput<T, E>(m: SansIo<T, E>): Output<T, E> {
  const transmit = m.pollTransmit();
  if (transmit !== undefined) return { type: 'transmit', transmit };
  const event = m.pollEvent();
  if (event !== undefined) return { type: 'event', event };
  return { type: 'timeout', at: m.pollTimeout() };
}

/**
 * Hands every queued transmit to `onTransmit` and every event to `onEvent` until both queues
 * are empty (a listener may act on the machine and queue more), then returns the machine's
 * next deadline. Allocates nothing: pass callbacks made once, not per datagram.
 */
export function drain<T, E>(m: SansIo<T, E>, onTransmit: (t: T) => void, onEvent: (e: E) => void): number | undefined {
  for (;;) {
    for (let t = m.pollTransmit(); t !== undefined; t = m.pollTransmit()) onTransmit(t);
    let e = m.pollEvent();
    if (e === undefined) return m.pollTimeout();
    for (; e !== undefined; e = m.pollEvent()) onEvent(e);
  }
}
