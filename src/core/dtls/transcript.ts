// The handshake transcript (RFC 5246 §7.4.9, RFC 6347 §4.2.6): every handshake message of this
// handshake as if sent unfragmented (12-byte DTLS header with fragment_offset 0), excluding
// HelloRequest, the first ClientHello and HelloVerifyRequest when a cookie exchange happened
// (RFC 6347 §4.2.1). Used for the extended-master-secret session hash, CertificateVerify and
// Finished.
import { hash } from 'node:crypto';
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

  /**
   * Hash(handshake_messages) with the negotiated suite's PRF hash (RFC 5246 §7.4.9). One-shot
   * (crypto.hash) over the concatenation instead of a createHash stream object per call: a
   * handshake takes three, each once per call with the code cold (docs/performance.md, setup5).
   */
  hash(alg: PrfHash): Buffer {
    return hash(alg, this.bytes(), 'buffer');
  }
}
