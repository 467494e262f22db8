// Echo round-trip time of a call's own audio: the time from sending a frame to hearing the same
// Opus payload come back (the echo handler returns payloads unchanged, restamped). Load tests
// send a short cycle of pre-encoded frames, so a returned payload is matched against the frames
// sent most recently, newest first; the echo normally comes back within a few frames, so this
// costs a few Buffer comparisons per packet and allocates nothing. A payload that matches none of
// the last `cycle` frames (another handler, an echo older than one cycle) gives no sample.
// Not here: RTCP RTT (src/core/peer/rtcp-session.ts), STUN RTT (./stun-rtt.ts).
export class EchoRttMeter {
  readonly #frames: readonly Buffer[];
  readonly #sentAt: Float64Array;
  /** Frames sent so far (index of the next one). */
  #sent = 0;
  samples = 0;
  sumMs = 0;

  constructor(frames: readonly Buffer[]) {
    this.#frames = frames;
    this.#sentAt = new Float64Array(Math.max(1, frames.length));
  }

  /** Frame number `index` (cycling through the frames) left at `now`. */
  onSend(index: number, now: number): void {
    this.#sentAt[index % this.#sentAt.length] = now;
    this.#sent = index + 1;
  }

  /** Frames `from`…`from+count-1` were skipped (never sent): no echo can match them. */
  onSkip(from: number, count: number): void {
    for (let k = 0; k < Math.min(count, this.#sentAt.length); k++) this.#sentAt[(from + k) % this.#sentAt.length] = NaN;
  }

  /** A returned payload; its round trip in ms, or undefined when it matches no recent frame. */
  onReceive(payload: Buffer, now: number): number | undefined {
    const n = this.#frames.length;
    for (let back = 1; back <= Math.min(n, this.#sent); back++) {
      const i = (this.#sent - back) % n;
      if (this.#frames[i].length === payload.length && this.#frames[i].equals(payload)) {
        if (Number.isNaN(this.#sentAt[i])) return undefined;
        const rtt = now - this.#sentAt[i];
        this.samples++;
        this.sumMs += rtt;
        return rtt;
      }
    }
    return undefined;
  }
}
