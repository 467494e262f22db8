// The DTLS 1.2 record layer (RFC 6347 §4.1): 13-byte headers with epoch and 48-bit sequence
// number, several records per datagram, and AEAD protection (RFC 5246 §6.2.3.3) with AES-GCM
// (RFC 5288 §3) or ChaCha20-Poly1305 (RFC 7905 §2). Parsing is total: a datagram yields the records that parse, and stops at the first
// truncated one (RFC 6347 §4.1.2.7: invalid records are silently discarded). This file knows
// nothing about epochs in use, replay or handshake state; the endpoint does. The AEAD itself is
// node:crypto's unless the owner injects another (RecordAeadFactory: the native addon keyed once,
// src/transceiver/media/dtls-aead-native.ts); nonce, additional data and layout are built here either way.
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto';
import type { CipherGCMTypes, KeyObject } from 'node:crypto';
import type { CipherSuite } from './suites.ts';

export const ContentType = {
  changeCipherSpec: 20,
  alert: 21,
  handshake: 22,
  applicationData: 23,
} as const;
export type ContentType = (typeof ContentType)[keyof typeof ContentType];

export const DTLS12 = 0xfefd;
/** DTLS 1.0, which clients may put in the record header of their first ClientHello. */
export const DTLS10 = 0xfeff;
export const RECORD_HEADER = 13;
/** RFC 6347 §4.1 / RFC 5246 §6.2.1: plaintext fragments never exceed 2^14 bytes. */
export const MAX_PLAINTEXT = 16384;
/** RFC 5246 §6.2.3: a protected fragment may be at most 2^14 + 2048 bytes. */
export const MAX_CIPHERTEXT = MAX_PLAINTEXT + 2048;

export interface DtlsRecord {
  type: number;
  version: number;
  epoch: number;
  seq: number;
  /** The record's payload as received (ciphertext in epochs ≥ 1). */
  fragment: Buffer;
}

/** Splits a datagram into records; stops at the first one that is truncated or oversized. */
export function parseRecords(datagram: Buffer): DtlsRecord[] {
  const out: DtlsRecord[] = [];
  let pos = 0;
  while (datagram.length - pos >= RECORD_HEADER) {
    const type = datagram[pos];
    const version = datagram.readUInt16BE(pos + 1);
    const epoch = datagram.readUInt16BE(pos + 3);
    const seq = datagram.readUIntBE(pos + 5, 6);
    const length = datagram.readUInt16BE(pos + 11);
    if (length > MAX_CIPHERTEXT || pos + RECORD_HEADER + length > datagram.length) break;
    out.push({ type, version, epoch, seq, fragment: datagram.subarray(pos + RECORD_HEADER, pos + RECORD_HEADER + length) });
    pos += RECORD_HEADER + length;
  }
  return out;
}

/** One plaintext record, header and fragment in one buffer (every byte written). */
export function encodeRecord(type: number, version: number, epoch: number, seq: number, fragment: Buffer): Buffer {
  const out = Buffer.allocUnsafe(RECORD_HEADER + fragment.length);
  out[0] = type;
  out.writeUInt16BE(version, 1);
  out.writeUInt16BE(epoch, 3);
  out.writeUIntBE(seq, 5, 6);
  out.writeUInt16BE(fragment.length, 11);
  fragment.copy(out, RECORD_HEADER);
  return out;
}

/** One key's AEAD from elsewhere (a native implementation), in the record layer's terms. */
export interface RecordAead {
  /** Writes ciphertext ‖ 16-byte tag of `plaintext` at out[offset…]; false when the AEAD failed. */
  seal(nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer, offset: number): boolean;
  /** The plaintext of `sealed` (ciphertext ‖ tag) in a buffer of its own; undefined when it does not authenticate. Never throws. */
  open(nonce: Buffer, aad: Buffer, sealed: Buffer): Buffer | undefined;
}

/** The AEAD for a suite's algorithm (./suites.ts `aead`) and key, or undefined to use node:crypto's. */
export type RecordAeadFactory = (algorithm: string, key: Buffer) => RecordAead | undefined;

/** RFC 5246 §6.2.3.3: additional_data = seq_num(epoch ‖ seq) ‖ type ‖ version ‖ length, into `a` (13 bytes). */
function writeAad(a: Buffer, type: number, version: number, epoch: number, seq: number, length: number): Buffer {
  a.writeUInt16BE(epoch, 0);
  a.writeUIntBE(seq, 2, 6);
  a[8] = type;
  a.writeUInt16BE(version, 9);
  a.writeUInt16BE(length, 11);
  return a;
}

/**
 * One direction of AEAD record protection for one epoch, for any suite of ./suites.ts. With an
 * injected RecordAead the key is scheduled once outside; else it is a KeyObject made once and
 * node needs a fresh Cipheriv per record. The nonce and additional data
 * are built in two scratch buffers of this object (the cipher consumes both before seal/open
 * return), and a sealed record is written into one buffer: one copy of the payload per record,
 * the cipher's own output.
 *
 * AES-GCM (RFC 5288 §3): nonce = 4-byte salt ‖ 8-byte explicit nonce carried in the record, and
 * the explicit nonce is the record's own epoch ‖ sequence number (RFC 9325 §7.2.1): sequence
 * numbers never repeat within an epoch, so nonces never repeat. ChaCha20-Poly1305 (RFC 7905 §2):
 * nonce = 12-byte IV XOR (0⁴ ‖ epoch ‖ seq), nothing carried in the record.
 */
export class AeadRecordCipher {
  /** Typed as a GCM name only for node's overloads; chacha20-poly1305 takes the same options. */
  readonly #algorithm: CipherGCMTypes;
  /** node:crypto's key, made only when no RecordAead was injected for this suite. */
  readonly #key: KeyObject | undefined;
  readonly #explicit: number;
  readonly #iv: Buffer;
  // Scratch, rewritten in full before each use (the nonce's salt part by the constructor).
  readonly #nonce = Buffer.allocUnsafe(12);
  readonly #aad = Buffer.allocUnsafe(13);
  readonly #injected: RecordAead | undefined;

  constructor(suite: Pick<CipherSuite, 'aead' | 'explicitNonceLength'>, key: Buffer, iv: Buffer, aead?: RecordAeadFactory) {
    this.#algorithm = suite.aead as CipherGCMTypes;
    this.#injected = aead?.(suite.aead, key);
    this.#key = this.#injected === undefined ? createSecretKey(key) : undefined;
    this.#explicit = suite.explicitNonceLength;
    this.#iv = Buffer.from(iv);
    iv.copy(this.#nonce);
  }

  /** Writes the nonce for the record whose epoch ‖ seq are the 8 bytes at `src[at..at+8]`. */
  #setNonce(src: Buffer, at: number): void {
    if (this.#explicit === 8) {
      src.copy(this.#nonce, 4, at, at + 8);
      return;
    }
    for (let i = 0; i < 8; i++) this.#nonce[4 + i] = this.#iv[4 + i] ^ src[at + i];
  }

  seal(type: number, version: number, epoch: number, seq: number, plaintext: Buffer): Buffer {
    const x = this.#explicit;
    const length = x + plaintext.length + 16;
    const out = Buffer.allocUnsafe(RECORD_HEADER + length);
    out[0] = type;
    out.writeUInt16BE(version, 1);
    out.writeUInt16BE(epoch, 3);
    out.writeUIntBE(seq, 5, 6);
    out.writeUInt16BE(length, 11);
    if (x === 8) out.copy(out, RECORD_HEADER, 3, 11); // explicit nonce = epoch ‖ seq, as in the header
    this.#setNonce(out, 3);
    const aad = writeAad(this.#aad, type, version, epoch, seq, plaintext.length);
    if (this.#injected) {
      if (!this.#injected.seal(this.#nonce, aad, plaintext, out, RECORD_HEADER + x)) throw new Error(`${this.#algorithm} seal failed`);
      return out;
    }
    const c = createCipheriv(this.#algorithm, this.#key!, this.#nonce, { authTagLength: 16 });
    c.setAAD(aad);
    c.update(plaintext).copy(out, RECORD_HEADER + x);
    c.final(); // AEAD: no output; computes the tag
    c.getAuthTag().copy(out, RECORD_HEADER + x + plaintext.length);
    return out;
  }

  /** Returns the plaintext in a buffer of its own (the cipher's output), or undefined if the record does not authenticate. Never throws. */
  open(rec: DtlsRecord): Buffer | undefined {
    const x = this.#explicit;
    if (rec.fragment.length < x + 16) return undefined;
    const ct = rec.fragment.subarray(x, rec.fragment.length - 16);
    const tag = rec.fragment.subarray(rec.fragment.length - 16);
    if (ct.length > MAX_PLAINTEXT) return undefined;
    if (x === 8) this.#setNonce(rec.fragment, 0);
    else {
      this.#aad.writeUInt16BE(rec.epoch, 0);
      this.#aad.writeUIntBE(rec.seq, 2, 6);
      this.#setNonce(this.#aad, 0);
    }
    const aad = writeAad(this.#aad, rec.type, rec.version, rec.epoch, rec.seq, ct.length);
    if (this.#injected) return this.#injected.open(this.#nonce, aad, rec.fragment.subarray(x));
    try {
      const d = createDecipheriv(this.#algorithm, this.#key!, this.#nonce, { authTagLength: 16 });
      d.setAAD(aad);
      d.setAuthTag(tag);
      const plain = d.update(ct);
      d.final(); // throws when the tag does not verify
      return plain;
    } catch {
      return undefined;
    }
  }
}
