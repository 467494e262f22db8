// The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6): every handshake message of this
// handshake as if sent unfragmented (12-byte DTLS header with fragment_offset 0), excluding
// HelloRequest, the first ClientHello and HelloVerifyRequest when a cookie exchange happened
// (RFC 6347 §4.2.1). Used for the extended-master-secret session hash, CertificateVerify and
// Finished. Kept as one buffer the messages are written into (header and body, no per-message
// buffer), so bytes() is a view rather than a concatenation; a handshake's transcript is a few
// KB (the reassembler bounds each message at 16 KB, and a handshake has a dozen at most).
import { hash } from 'node:crypto';
import { HANDSHAKE_HEADER, writeHandshakeHeader } from './handshake.ts';
import type { PrfHash } from './suites.ts';

/** Room for a whole ECDSA handshake (~1.5 KB) without growing; from Node's pool, not malloc. */
const INITIAL_BYTES = 2048;

export class Transcript {
  #buf: Buffer | undefined;
  #length = 0;

  reset(): void {
    // A fresh buffer on the next add: a view bytes() returned earlier keeps what it showed.
    this.#buf = undefined;
    this.#length = 0;
  }

  add(msgType: number, seq: number, body: Buffer): void {
    const need = this.#length + HANDSHAKE_HEADER + body.length;
    let buf = this.#buf;
    if (buf === undefined || need > buf.length) {
      const grown = Buffer.allocUnsafe(Math.max(INITIAL_BYTES, need, 2 * (buf?.length ?? 0)));
      if (buf !== undefined) buf.copy(grown, 0, 0, this.#length);
      this.#buf = buf = grown;
    }
    writeHandshakeHeader(buf, this.#length, msgType, body.length, seq, 0, body.length);
    body.copy(buf, this.#length + HANDSHAKE_HEADER);
    this.#length = need;
  }

  /** The messages so far, concatenated: a view that later adds never change (they write past it or into a new buffer). */
  bytes(): Buffer {
    return this.#buf === undefined ? EMPTY : this.#buf.subarray(0, this.#length);
  }

  /**
   * Hash(handshake_messages) with the negotiated suite's PRF hash (RFC 5246 §7.4.9). One-shot
   * (crypto.hash) over the messages instead of a createHash stream object per call: a
   * handshake takes three, each once per call with the code cold (docs/performance.md, setup5).
   */
  hash(alg: PrfHash): Buffer {
    return hash(alg, this.bytes(), 'buffer');
  }
}

const EMPTY = Buffer.alloc(0);
