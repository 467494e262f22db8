// The DTLS anti-replay sliding window (RFC 6347 §4.1.2.6, the algorithm of RFC 4303 §3.4.3):
// a record is accepted once per (epoch, sequence number), and records too far behind the
// highest sequence seen are rejected. The check happens before decryption (cheap), the update
// only after the record authenticated, so forged records cannot move the window.
// 48-bit sequence numbers fit exactly in a JS number (2^48 < 2^53).

const WINDOW = 64;

export class ReplayWindow {
  #top = -1;
  // Bit i set ⇔ sequence number (#top - i) was received.
  #bits = 0n;

  /** True if `seq` is new and inside the window (does not change state). */
  check(seq: number): boolean {
    if (seq > this.#top) return true;
    const offset = this.#top - seq;
    if (offset >= WINDOW) return false;
    return ((this.#bits >> BigInt(offset)) & 1n) === 0n;
  }

  /** Records `seq` as received; call only after the record authenticated. */
  mark(seq: number): void {
    if (seq > this.#top) {
      const shift = seq - this.#top;
      this.#bits = shift >= WINDOW ? 1n : ((this.#bits << BigInt(shift)) | 1n) & ((1n << BigInt(WINDOW)) - 1n);
      this.#top = seq;
    } else {
      this.#bits |= 1n << BigInt(this.#top - seq);
    }
  }
}
