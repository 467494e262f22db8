// Round-trip times from the STUN Binding transactions a call already makes (ICE checks and
// RFC 7675 consent checks): the client sees every datagram it sends and receives, so it
// notes when each request left and matches the response by transaction id (RFC 8489 §6.3).
// It reads only the 20-byte header; the ICE agent still validates the response. Bounded: only
// the last few outstanding transactions are remembered.
import { BINDING_ERROR, BINDING_REQUEST, BINDING_SUCCESS, HEADER_LENGTH, MAGIC_COOKIE } from '../core/stun/index.ts';

const MAX_OUTSTANDING = 16;

function isStunType(b: Buffer, type: number): boolean {
  return b.length >= HEADER_LENGTH && ((b[0] << 8) | b[1]) === type && b.readUInt32BE(4) === MAGIC_COOKIE;
}

function txKey(b: Buffer): string {
  return b.toString('latin1', 8, HEADER_LENGTH);
}

export class StunRttMeter {
  readonly #sent = new Map<string, number>();
  /** Most recent sample, ms. */
  last: number | undefined;
  /** Smoothed like RFC 6298 SRTT (α = 1/8), ms. */
  smoothed: number | undefined;
  samples = 0;

  /** Call for every datagram sent. */
  onSend(data: Buffer, now: number): void {
    if (!isStunType(data, BINDING_REQUEST)) return;
    const key = txKey(data);
    // A retransmission keeps the first send time only if no response came: RFC 6298 §3 (Karn)
    // would discard such samples; we restart the clock instead, which can only underestimate.
    this.#sent.set(key, now);
    if (this.#sent.size > MAX_OUTSTANDING) this.#sent.delete(this.#sent.keys().next().value as string);
  }

  /** Call for every datagram received. */
  onReceive(data: Buffer, now: number): void {
    if (!isStunType(data, BINDING_SUCCESS) && !isStunType(data, BINDING_ERROR)) return;
    const key = txKey(data);
    const at = this.#sent.get(key);
    if (at === undefined) return;
    this.#sent.delete(key);
    const rtt = Math.max(0, now - at);
    this.last = rtt;
    this.smoothed = this.smoothed === undefined ? rtt : this.smoothed + (rtt - this.smoothed) / 8;
    this.samples++;
  }
}
