// Bounds-checked big-endian reading and writing for the DTLS codecs (STYLE.md rule 5: parsers
// never read past their input). A Reader throws a decode_error DtlsError on any overrun; the
// endpoint catches it at the record or message boundary, so nothing escapes handle().
import { fail } from './errors.ts';

export class Reader {
  readonly #buf: Buffer;
  readonly #what: string;
  #pos = 0;

  constructor(buf: Buffer, what: string) {
    this.#buf = buf;
    this.#what = what;
  }

  get remaining(): number {
    return this.#buf.length - this.#pos;
  }

  #need(n: number): void {
    if (n < 0 || this.#pos + n > this.#buf.length) throw fail.decode(this.#what);
  }

  u8(): number {
    this.#need(1);
    return this.#buf[this.#pos++];
  }

  u16(): number {
    this.#need(2);
    const v = this.#buf.readUInt16BE(this.#pos);
    this.#pos += 2;
    return v;
  }

  u24(): number {
    this.#need(3);
    const v = this.#buf.readUIntBE(this.#pos, 3);
    this.#pos += 3;
    return v;
  }

  u48(): number {
    this.#need(6);
    const v = this.#buf.readUIntBE(this.#pos, 6);
    this.#pos += 6;
    return v;
  }

  bytes(n: number): Buffer {
    this.#need(n);
    const v = this.#buf.subarray(this.#pos, this.#pos + n);
    this.#pos += n;
    return v;
  }

  /** A vector with a 1-, 2- or 3-byte length prefix (RFC 5246 §4.3). */
  vec(lenBytes: 1 | 2 | 3): Buffer {
    const n = lenBytes === 1 ? this.u8() : lenBytes === 2 ? this.u16() : this.u24();
    return this.bytes(n);
  }

  rest(): Buffer {
    return this.bytes(this.remaining);
  }

  /** Throws unless everything was consumed: trailing bytes are a decode error too. */
  end(): void {
    if (this.remaining !== 0) throw fail.decode(this.#what);
  }
}

// The writers below fill every byte of what they return, so they take Node's pooled, unzeroed
// memory (Buffer.allocUnsafe) rather than a zeroed allocation of its own per call.

export function u8(v: number): Buffer {
  const b = Buffer.allocUnsafe(1);
  b[0] = v & 0xff;
  return b;
}

export function u16(v: number): Buffer {
  const b = Buffer.allocUnsafe(2);
  b.writeUInt16BE(v);
  return b;
}

export function u24(v: number): Buffer {
  const b = Buffer.allocUnsafe(3);
  b.writeUIntBE(v, 0, 3);
  return b;
}

export function u48(v: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b.writeUIntBE(v, 0, 6);
  return b;
}

/** A length-prefixed vector, in one buffer. */
export function vec(lenBytes: 1 | 2 | 3, body: Buffer): Buffer {
  const b = Buffer.allocUnsafe(lenBytes + body.length);
  b.writeUIntBE(body.length, 0, lenBytes);
  body.copy(b, lenBytes);
  return b;
}
