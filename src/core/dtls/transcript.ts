// The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6): every handshake message of this
// handshake as if sent unfragmented (12-byte DTLS header with fragment_offset 0), excluding
// HelloRequest, the first ClientHello and HelloVerifyRequest when a cookie exchange happened
// (RFC 6347 §4.2.1). Used for the extended-master-secret session hash, CertificateVerify and
// Finished.
import { createHash } from 'node:crypto';
import { encodeMessage } from './handshake.ts';
import type { PrfHash } from './suites.ts';

export class Transcript {
  #messages: Buffer[] = [];

  reset(): void {
    this.#messages = [];
  }

  add(msgType: number, seq: number, body: Buffer): void {
    this.#messages.push(encodeMessage(msgType, seq, body));
  }

  bytes(): Buffer {
    return Buffer.concat(this.#messages);
  }

  /** Hash(handshake_messages) with the negotiated suite's PRF hash (RFC 5246 §7.4.9). */
  hash(alg: PrfHash): Buffer {
    const h = createHash(alg);
    for (const m of this.#messages) h.update(m);
    return h.digest();
  }
}
