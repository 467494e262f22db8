// Pacing of a peer's SCTP output, sans-IO: a token bucket refilled at gain·cwnd/SRTT (the rate
// Linux's fq pacing and QUIC pacers use, RFC 9002 §7.7, gain 1.25) with a small burst allowance,
// and a hard cap on the bytes of each 20 ms slot (the audio frame time), also spread over the slot
// as a ceiling on the rate. Without it a 256 KiB message left as one burst of ~220 packets once
// the window opened, more than a browser's UDP receive buffer holds, and usrsctp/dcsctp lost and
// retransmitted hundreds of packets while the audio sharing that socket lost frames. Before the
// first RTT measurement only the cap's rate applies. The peer turns allowance() into the
// association's send allowance, so packets are built only when they may leave, and charges
// sent() with the DATA payload bytes built: control chunks (SACKs) are not paced or charged.
// The cap was 256 KiB until delay-based control (../sctp/delay-control.ts) made the window back
// off before a browser's socket overflows; with it a raised cap no longer costs audio.
// Not here: which packets exist (the association's congestion control) or audio (never paced).

export interface PacerOptions {
  /** Multiplier on cwnd/SRTT (default 1.25: a little faster than the window, so pacing never limits throughput by itself). */
  readonly gain?: number;
  /** Bytes that may leave back to back when the bucket is full (default 16 KiB ≈ 14 packets). */
  readonly burstBytes?: number;
  /**
   * Hard cap on the bytes sent within one 20 ms slot; default 1 MiB (≈ 52 MB/s, 420 Mbit/s): a
   * ceiling, not the governor — delay-based congestion control (../sctp/delay-control.ts) sets
   * the rate toward a slow reader. Infinity turns it off.
   */
  readonly maxBytesPerSlot?: number;
}

export const PACING_SLOT_MS = 20;
export const DEFAULT_PACING_GAIN = 1.25;
export const DEFAULT_PACING_BURST_BYTES = 16 * 1024;
export const DEFAULT_MAX_BYTES_PER_SLOT = 1024 * 1024;

export class Pacer {
  readonly #gain: number;
  readonly #burst: number;
  readonly #cap: number;
  /** Bytes per ms: the window's rate, at most the cap's; Infinity only with no cap and no RTT. */
  #rate: number;
  #tokens: number;
  #refilledAt: number | undefined;
  #slot = -1;
  #slotBytes = 0;

  constructor(o: PacerOptions = {}) {
    this.#gain = o.gain ?? DEFAULT_PACING_GAIN;
    this.#burst = o.burstBytes ?? DEFAULT_PACING_BURST_BYTES;
    this.#cap = o.maxBytesPerSlot ?? DEFAULT_MAX_BYTES_PER_SLOT;
    if (!(this.#gain > 0) || !(this.#burst > 0) || !(this.#cap > 0))
      throw new RangeError('pacer gain, burstBytes and maxBytesPerSlot must be positive');
    this.#tokens = this.#burst;
    this.#rate = this.#cap / PACING_SLOT_MS;
  }

  /**
   * The current window and smoothed RTT (ms); an RTT below 1 ms counts as 1 ms. The rate never
   * exceeds the cap spread over its slot, so on a short path (SRTT of 1-3 ms through a local
   * relay) the cap still arrives as bursts of burstBytes, not as one 64 KiB burst per slot.
   */
  setRate(cwnd: number, srtt: number | undefined): void {
    const byWindow = srtt === undefined || cwnd <= 0 ? Infinity : (this.#gain * cwnd) / Math.max(1, srtt);
    this.#rate = Math.min(byWindow, this.#cap / PACING_SLOT_MS);
  }

  /** Bytes per ms the bucket refills at (Infinity: no rate limit). */
  get rate(): number {
    return this.#rate;
  }

  /** Whether a packet may leave now (it may overdraw the bucket once: packets are not split). */
  canSend(now: number): boolean {
    this.#refill(now);
    return this.#tokens > 0 && this.#slotBytes < this.#cap;
  }

  /** Bytes that may leave now (0 while blocked): what the bucket holds, at most the slot's room. */
  allowance(now: number): number {
    return this.canSend(now) ? Math.min(this.#tokens, this.#cap - this.#slotBytes) : 0;
  }

  sent(bytes: number, now: number): void {
    this.#refill(now);
    this.#tokens -= bytes;
    this.#slotBytes += bytes;
  }

  /** When canSend turns true again (≥ now + 1 ms while blocked, so a shell never spins). */
  nextSendAt(now: number): number {
    this.#refill(now);
    let at = now;
    if (this.#slotBytes >= this.#cap) at = (this.#slot + 1) * PACING_SLOT_MS;
    if (this.#tokens <= 0) at = Math.max(at, now + (1 - this.#tokens) / this.#rate);
    return at <= now ? now : Math.max(now + 1, Math.ceil(at));
  }

  #refill(now: number): void {
    // A caller may ask with an older `now` (a deadline computed from the last input): time never runs back here.
    if (this.#refilledAt !== undefined && now < this.#refilledAt) return;
    const slot = Math.floor(now / PACING_SLOT_MS);
    if (slot !== this.#slot) {
      this.#slot = slot;
      this.#slotBytes = 0;
    }
    const last = this.#refilledAt ?? now;
    this.#refilledAt = now;
    if (this.#rate === Infinity) this.#tokens = this.#burst;
    else if (now > last) this.#tokens = Math.min(this.#burst, this.#tokens + (now - last) * this.#rate);
  }
}
