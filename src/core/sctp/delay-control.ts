// Delay-based congestion control on top of RFC 9260's loss-based window, in the spirit of LEDBAT
// (RFC 6817) and TCP Vegas: the queueing delay is the DATA→SACK round trip over its minimum (the
// base RTT), and the bytes standing in a queue are the flight's share of that delay
// (flight · queueDelay / RTT). When they pass what is allowed — targetMs of queueing, and never
// more than maxQueueBytes, so a receiver's small UDP socket buffer (a browser's is 208 KiB of
// kernel memory, ~60–90 datagrams) never overflows — the window drops to the flight less the
// excess, at most once per round trip (a cut shows only one RTT later), and slow start ends
// there. A queue of less than minQueueMs is never cut, whatever its bytes: at tens of MB/s on
// loopback, a few ms of the two ends' own event-loop latency would read as a queue past the byte
// ceiling (and at the 1–3 MB/s a browser reads, 3 ms is 3–9 KB, far inside it). Loss-based
// control still grows the window below the target and halves it on loss; this only backs off
// earlier, before anything is dropped. A receiver that reads slowly (a browser
// busy sending) or a queue on the path thus holds a standing queue near the target instead of
// filling until it drops — and drops take the audio that shares the socket with them.
// Samples: the caller passes only RTTs of chunks sent once whose SACK came promptly (one that
// acknowledged two packets' worth: the receiver's "every second packet" rule, not its 200 ms
// delayed-ack timer). The current delay is the minimum of the last CURRENT_FILTER samples
// (LEDBAT's filter against noise); the base is the minimum over BASE_BUCKETS buckets of
// BASE_BUCKET_MS each, so a route change or a slower path is learnt within minutes.
// Not here: the window itself and loss reaction (sender.ts), or pacing (../peer/pacer.ts).

export interface DelayControlOptions {
  /** Queueing delay allowed over the base RTT, in ms (LEDBAT's TARGET; default 20). */
  targetMs: number;
  /** Bytes allowed to stand in a queue whatever the delay (default 48 KiB: a quarter of a 208 KiB socket buffer). */
  maxQueueBytes: number;
  /** Queueing delay always allowed, whatever its bytes (default 3 ms: event-loop latency, not a queue). */
  minQueueMs: number;
}

export const DEFAULT_DELAY_CONTROL: DelayControlOptions = { targetMs: 20, maxQueueBytes: 48 * 1024, minQueueMs: 3 };
export const CURRENT_FILTER = 4;
export const BASE_BUCKET_MS = 60_000;
export const BASE_BUCKETS = 4;

export class DelayControl {
  readonly #o: DelayControlOptions;
  readonly #recent: number[] = [];
  /** Minimum RTT per bucket, newest last. */
  readonly #base: Array<{ bucket: number; min: number }> = [];
  #nextDecisionAt = -Infinity;
  /** Since when the queue has been past its allowance (undefined: within it). */
  #overSince: number | undefined;
  #cuts = 0;

  constructor(o: DelayControlOptions) {
    this.#o = o;
  }

  /** One prompt RTT sample (ms). */
  sample(rtt: number, now: number): void {
    if (!(rtt >= 0)) return;
    this.#recent.push(rtt);
    if (this.#recent.length > CURRENT_FILTER) this.#recent.shift();
    const bucket = Math.floor(now / BASE_BUCKET_MS);
    const last = this.#base.at(-1);
    if (last !== undefined && last.bucket === bucket) last.min = Math.min(last.min, rtt);
    else {
      this.#base.push({ bucket, min: rtt });
      while (this.#base.length > 0 && this.#base[0].bucket <= bucket - BASE_BUCKETS) this.#base.shift();
    }
  }

  /** The minimum RTT of the last BASE_BUCKETS buckets (undefined before a sample). */
  get baseRtt(): number | undefined {
    if (this.#base.length === 0) return undefined;
    let min = Infinity;
    for (const b of this.#base) min = Math.min(min, b.min);
    return min;
  }

  /** The filtered current RTT (undefined before a sample). */
  get currentRtt(): number | undefined {
    return this.#recent.length === 0 ? undefined : Math.min(...this.#recent);
  }

  /** Queueing delay now: current RTT over base (ms, 0 before a sample). */
  get queueDelay(): number {
    const base = this.baseRtt;
    const current = this.currentRtt;
    return base === undefined || current === undefined ? 0 : current - base;
  }

  /** How often the window was cut for delay. */
  get cuts(): number {
    return this.#cuts;
  }

  /**
   * The window the queue allows for this flight (bytes in flight when the SACK came), or
   * undefined when the queue is within target or a cut is still taking effect. With `sustained`
   * (congestion avoidance, where the queue grows one MTU per RTT) the excess must last one RTT
   * before a cut: a stall of either end's event loop passes, a filling buffer stays. In slow start
   * the window doubles per RTT, so the cut is immediate.
   */
  limit(flight: number, floor: number, now: number, sustained = false): number | undefined {
    const current = this.currentRtt;
    if (current === undefined || now < this.#nextDecisionAt || flight <= floor) return undefined;
    const queueDelay = this.queueDelay;
    if (queueDelay <= 0) {
      this.#overSince = undefined;
      return undefined;
    }
    const rate = flight / Math.max(current, 1); // bytes per ms, what the bottleneck drains
    const queued = rate * queueDelay;
    const allowed = Math.max(Math.min(this.#o.targetMs * rate, this.#o.maxQueueBytes), this.#o.minQueueMs * rate);
    if (queued <= allowed) {
      this.#overSince = undefined;
      return undefined;
    }
    this.#overSince ??= now;
    if (sustained && now - this.#overSince < current) return undefined;
    this.#overSince = undefined;
    this.#nextDecisionAt = now + current;
    this.#cuts++;
    return Math.max(floor, Math.floor(flight - (queued - allowed)));
  }
}
