// A jitter buffer for one incoming RTP audio stream, sans-IO and driven by arrivals: frames go
// in as they arrive (any order, duplicated, lost) and come out in sequence order, one per
// sequence number, so a consumer gets a steady 20 ms cadence of media time. A missing frame is
// waited for while fewer than `depthFrames` later frames have arrived (reordering within that
// window is undone), then given up and reported as lost, for the consumer to conceal. Late
// frames (behind what was already released) and duplicates are dropped and counted; a jump of
// more than `maxGapFrames` (a restarted sender) resynchronises instead of conceal a long gap.
// Not here: decoding or concealment itself (handlers/pcm.ts), or a clock: a stream that stops
// keeps its last `depthFrames − 1` frames until the next arrival.

export interface JitterBufferOptions {
  /** Later frames that must have arrived before a missing one is declared lost (default 3 = 60 ms). */
  readonly depthFrames?: number;
  /** A jump ahead larger than this resynchronises (default 50 = 1 s). */
  readonly maxGapFrames?: number;
}

export type JitterOutput =
  | { readonly lost: false; readonly sequence: number; readonly payload: Buffer }
  /** `next`: the following frame's payload when it is held (its in-band FEC may rebuild this one; it stays queued). */
  | { readonly lost: true; readonly sequence: number; readonly next: Buffer | undefined };

/** What push() did with a frame: kept for its turn, or dropped (behind what was released, or already held). */
export type JitterPush = 'kept' | 'late' | 'duplicate';

export interface JitterStats {
  readonly received: number;
  readonly delivered: number;
  /** Frames given up as lost (the consumer conceals them). */
  readonly lost: number;
  readonly late: number;
  readonly duplicate: number;
  readonly resyncs: number;
}

export class JitterBuffer {
  readonly #depth: number;
  readonly #maxGap: number;
  /** Buffered frames by extended (unwrapped) sequence number. */
  readonly #frames = new Map<number, Buffer>();
  /** The next extended sequence number to release; undefined before the first frame. */
  #next: number | undefined;
  #highest = -1;
  #received = 0;
  #delivered = 0;
  #lost = 0;
  #late = 0;
  #duplicate = 0;
  #resyncs = 0;

  constructor(o: JitterBufferOptions = {}) {
    this.#depth = Math.max(1, o.depthFrames ?? 3);
    this.#maxGap = Math.max(this.#depth, o.maxGapFrames ?? 50);
  }

  get stats(): JitterStats {
    return {
      received: this.#received,
      delivered: this.#delivered,
      lost: this.#lost,
      late: this.#late,
      duplicate: this.#duplicate,
      resyncs: this.#resyncs,
    };
  }

  /** Frames held, waiting for their turn. */
  get buffered(): number {
    return this.#frames.size;
  }

  /**
   * One arrived frame (its 16-bit RTP sequence number). The payload is kept as given: copy it if
   * the caller reuses buffers. Says whether it was kept, or dropped as late or a duplicate.
   */
  push(sequence: number, payload: Buffer): JitterPush {
    this.#received++;
    if (this.#next === undefined) {
      this.#next = sequence;
      this.#highest = sequence - 1;
    }
    const ext = this.#extend(sequence);
    if (ext < this.#next) {
      this.#late++;
      return 'late';
    }
    if (this.#frames.has(ext)) {
      this.#duplicate++;
      return 'duplicate';
    }
    if (ext - this.#next > this.#maxGap) {
      // RFC 3550 §A.1's "probation" idea, simplified: a big jump is a new stream, not a loss burst.
      this.#resyncs++;
      this.#frames.clear();
      this.#next = ext;
    }
    this.#frames.set(ext, payload);
    if (ext > this.#highest) this.#highest = ext;
    return 'kept';
  }

  /** The next frame in order, a lost one to conceal, or undefined when it is worth waiting. */
  pop(): JitterOutput | undefined {
    const next = this.#next;
    if (next === undefined) return undefined;
    const payload = this.#frames.get(next);
    if (payload !== undefined) {
      this.#frames.delete(next);
      this.#next = next + 1;
      this.#delivered++;
      return { lost: false, sequence: next & 0xffff, payload };
    }
    if (this.#highest - next >= this.#depth) {
      this.#next = next + 1;
      this.#lost++;
      return { lost: true, sequence: next & 0xffff, next: this.#frames.get(next + 1) };
    }
    return undefined;
  }

  /** The 16-bit number as the extended one closest to what is expected next (RFC 3550 §A.1 wrap-around). */
  #extend(sequence: number): number {
    const ref = this.#next!;
    let ext = ref - (ref & 0xffff) + (sequence & 0xffff);
    if (ext < ref - 0x8000) ext += 0x10000;
    else if (ext > ref + 0x8000) ext -= 0x10000;
    return ext;
  }
}
