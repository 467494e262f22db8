// RFC 4571 framing (ICE-TCP, RFC 6544 §3): on a TCP connection every STUN, DTLS, RTP or RTCP
// packet travels as a 16-bit big-endian length followed by that many bytes. Sans-IO: the
// deframer takes the stream's chunks as they arrive and hands back whole frames; the framer
// prefixes one packet. Bounded: a frame longer than `maxFrame` is an error (the connection is
// closed by the shell; nothing of it is buffered), and the deframer never holds more than one
// partial frame (≤ 2 + maxFrame bytes), whatever the peer sends.
//
// API:
//   new Rfc4571Deframer(maxFrame)      push(chunk) → frames | { error }; buffered
//   frameRfc4571(packet): Buffer       length prefix + packet (≤ 65 535 bytes)
//   RFC4571_MAX_FRAME                  65 535, the largest length the prefix can say

export const RFC4571_MAX_FRAME = 0xffff;

export type DeframeResult = { readonly frames: Buffer[] } | { readonly error: 'frame_too_large' | 'empty_frame' };

export class Rfc4571Deframer {
  readonly #maxFrame: number;
  /** The partial frame: its 2-byte length (when known) and the bytes so far. */
  #head = Buffer.alloc(2);
  #headFill = 0;
  #body: Buffer | undefined;
  #bodyFill = 0;

  constructor(maxFrame: number) {
    if (!Number.isInteger(maxFrame) || maxFrame < 1 || maxFrame > RFC4571_MAX_FRAME) {
      throw new RangeError(`maxFrame must be an integer in 1..${RFC4571_MAX_FRAME}, got ${maxFrame}`);
    }
    this.#maxFrame = maxFrame;
  }

  /** Bytes held for a frame that has not completed yet (≤ 2 + maxFrame). */
  get buffered(): number {
    return this.#headFill + this.#bodyFill;
  }

  /**
   * Takes the next chunk of the stream. Returns the frames it completed, in order (each a fresh
   * Buffer the caller owns), or an error: then the stream is unusable (RFC 4571 has no resync)
   * and the caller closes the connection. A zero-length frame is an error too: no packet of
   * STUN, DTLS, RTP or RTCP is empty, and a stream of them would cost work for nothing.
   */
  push(chunk: Buffer): DeframeResult {
    const frames: Buffer[] = [];
    let i = 0;
    while (i < chunk.length) {
      if (this.#body === undefined) {
        const take = Math.min(2 - this.#headFill, chunk.length - i);
        chunk.copy(this.#head, this.#headFill, i, i + take);
        this.#headFill += take;
        i += take;
        if (this.#headFill < 2) break;
        const length = this.#head.readUInt16BE(0);
        if (length === 0) return { error: 'empty_frame' };
        if (length > this.#maxFrame) return { error: 'frame_too_large' };
        this.#body = Buffer.allocUnsafe(length);
        this.#bodyFill = 0;
      }
      const take = Math.min(this.#body.length - this.#bodyFill, chunk.length - i);
      chunk.copy(this.#body, this.#bodyFill, i, i + take);
      this.#bodyFill += take;
      i += take;
      if (this.#bodyFill === this.#body.length) {
        frames.push(this.#body);
        this.#body = undefined;
        this.#bodyFill = 0;
        this.#headFill = 0;
      }
    }
    return { frames };
  }
}

/** One packet with its RFC 4571 length prefix. Throws RangeError past 65 535 bytes or for an empty packet. */
export function frameRfc4571(packet: Buffer): Buffer {
  if (packet.length === 0 || packet.length > RFC4571_MAX_FRAME) {
    throw new RangeError(`an RFC 4571 frame carries 1..${RFC4571_MAX_FRAME} bytes, got ${packet.length}`);
  }
  const out = Buffer.allocUnsafe(2 + packet.length);
  out.writeUInt16BE(packet.length, 0);
  packet.copy(out, 2);
  return out;
}
