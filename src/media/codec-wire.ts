// The batches between media/codec-pool.ts (main thread) and media/codec-worker.ts: one
// ArrayBuffer each way per batch, moved (transferred), never one message per frame.
// Request: records of an 8-byte header — op (u8), 0 (u8), payload length (u16), slot (u32) —
// then the payload, padded to an even length so PCM can be read in place as Int16.
// Reply: for each DECODE/FEC/CONCEAL/ENCODE of the request, in order: an i32 length (bytes of
// PCM or Opus; negative: it failed) and the bytes, padded to even. OPEN and CLOSE have no reply.
// Little-endian both ways (the threads share one machine).

export const CodecOp = {
  /** Payload: u32 sample rate. */
  Open: 1,
  Close: 2,
  /** Payload: the Opus packet. Reply: PCM. */
  Decode: 3,
  /** Payload: the packet after the lost one. Reply: PCM of the lost frame. */
  DecodeFec: 4,
  /** No payload. Reply: PCM. */
  Conceal: 5,
  /** Payload: one frame of PCM. Reply: the Opus packet. */
  Encode: 6,
} as const;
export type CodecOp = (typeof CodecOp)[keyof typeof CodecOp];

export const RECORD_HEADER = 8;
/** The largest payload a record carries: a 20 ms frame at 48 kHz is 1 920 bytes, an Opus packet ≤ 3 825. */
export const MAX_RECORD_PAYLOAD = 4096;

/** A growing byte buffer that batches are written into; take() copies the batch out and starts again. */
export class BatchWriter {
  #buf = Buffer.allocUnsafe(64 * 1024);
  #len = 0;

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.#buf.length * 2, this.#len + n));
    this.#buf.copy(next, 0, 0, this.#len);
    this.#buf = next;
  }

  /** A request record; `payload` is copied. */
  record(op: CodecOp, slot: number, payload?: Uint8Array): void {
    const n = payload?.byteLength ?? 0;
    if (n > MAX_RECORD_PAYLOAD) throw new RangeError(`codec record payload ${n} > ${MAX_RECORD_PAYLOAD} bytes`);
    this.#reserve(RECORD_HEADER + n + 1);
    const b = this.#buf;
    b[this.#len] = op;
    b[this.#len + 1] = 0;
    b.writeUInt16LE(n, this.#len + 2);
    b.writeUInt32LE(slot, this.#len + 4);
    this.#len += RECORD_HEADER;
    if (payload !== undefined) b.set(payload, this.#len);
    this.#len += n + (n & 1);
  }

  /** A reply entry: `bytes`, or a failure (`code` < 0). */
  reply(bytes: Uint8Array | undefined, code = -1): void {
    const n = bytes?.byteLength ?? 0;
    this.#reserve(4 + n + 1);
    this.#buf.writeInt32LE(bytes === undefined ? code : n, this.#len);
    this.#len += 4;
    if (bytes !== undefined) this.#buf.set(bytes, this.#len);
    this.#len += n + (n & 1);
  }

  /** The batch so far as a fresh ArrayBuffer (to transfer), and an empty writer. */
  take(): ArrayBuffer {
    const out = new ArrayBuffer(this.#len);
    new Uint8Array(out).set(this.#buf.subarray(0, this.#len));
    this.#len = 0;
    return out;
  }
}

/** Reads a reply batch entry by entry: next() is the view of the bytes, or undefined for a failure. */
export class ReplyReader {
  readonly #buf: ArrayBuffer;
  readonly #view: DataView;
  #at = 0;

  constructor(buf: ArrayBuffer) {
    this.#buf = buf;
    this.#view = new DataView(buf);
  }

  /** The next entry's bytes (a view into the batch), undefined when it failed; throws past the end. */
  next(): Uint8Array | undefined {
    if (this.#at + 4 > this.#buf.byteLength) throw new RangeError('codec reply shorter than its request');
    const n = this.#view.getInt32(this.#at, true);
    this.#at += 4;
    if (n < 0) return undefined;
    if (this.#at + n > this.#buf.byteLength) throw new RangeError('codec reply entry past the batch');
    const out = new Uint8Array(this.#buf, this.#at, n);
    this.#at += n + (n & 1);
    return out;
  }
}
