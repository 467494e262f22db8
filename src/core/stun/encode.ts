// encodeStun: StunMessageInit → bytes (RFC 8489 §5, §14), optionally sealed with
// MESSAGE-INTEGRITY (§14.5) and FINGERPRINT (§14.7), in that order, as the last attributes.
// Padding is written as zeros (§14). Throws RangeError on input no valid message can carry
// (a programming error, unlike decode, which faces the network).
import { HEADER_LENGTH, MAGIC_COOKIE, MESSAGE_INTEGRITY_LENGTH, TRANSACTION_ID_LENGTH, AttrType } from './constants.ts';
import type { StunMessageInit } from './message.ts';
import { encodeMessageType } from './message-type.ts';
import { fingerprintOf, nodeStunIntegrity } from './raw.ts';
import type { StunIntegrity } from './raw.ts';

export interface StunEncodeOptions {
  /** Short-term: the password's UTF-8 bytes (RFC 8489 §9.1.1); long-term: MD5(user:realm:pass) (§9.2.2). */
  readonly integrityKey?: Buffer | string;
  readonly fingerprint?: boolean;
  /** The HMAC-SHA1 of MESSAGE-INTEGRITY; default node:crypto's. */
  readonly integrity?: StunIntegrity;
}

const MAX_BODY = 0xffff & ~3;

export function encodeStun(msg: StunMessageInit, opts: StunEncodeOptions = {}): Buffer {
  if (msg.transactionId.length !== TRANSACTION_ID_LENGTH) throw new RangeError('a STUN transaction id is 12 bytes');
  if (!Number.isInteger(msg.method) || msg.method < 0 || msg.method > 0xfff) throw new RangeError(`bad STUN method ${msg.method}`);
  let bodyLength = 0;
  for (const a of msg.attributes) {
    if (a.value.length > 0xffff || a.type < 0 || a.type > 0xffff) throw new RangeError(`bad attribute 0x${a.type.toString(16)}`);
    bodyLength += 4 + ((a.value.length + 3) & ~3);
  }
  const total =
    HEADER_LENGTH + bodyLength + (opts.integrityKey !== undefined ? 4 + MESSAGE_INTEGRITY_LENGTH : 0) + (opts.fingerprint ? 8 : 0);
  if (total - HEADER_LENGTH > MAX_BODY) throw new RangeError('STUN message too long');
  const buf = Buffer.alloc(total);
  buf.writeUInt16BE(encodeMessageType(msg.method, msg.class), 0);
  buf.writeUInt32BE(MAGIC_COOKIE, 4);
  buf.set(msg.transactionId, 8);
  let off = HEADER_LENGTH;
  for (const a of msg.attributes) {
    buf.writeUInt16BE(a.type, off);
    buf.writeUInt16BE(a.value.length, off + 2);
    buf.set(a.value, off + 4);
    off += 4 + ((a.value.length + 3) & ~3);
  }
  seal(buf, off, opts);
  return buf;
}

/**
 * Appends MESSAGE-INTEGRITY and/or FINGERPRINT to an already encoded message without them
 * (its length field counting only its own attributes). Exposed so RFC 5769's vectors, whose
 * padding bytes are not zeros, can be checked byte for byte.
 */
export function sealStun(unsealed: Uint8Array, opts: StunEncodeOptions): Buffer {
  const extra = (opts.integrityKey !== undefined ? 4 + MESSAGE_INTEGRITY_LENGTH : 0) + (opts.fingerprint ? 8 : 0);
  const buf = Buffer.alloc(unsealed.length + extra);
  buf.set(unsealed, 0);
  seal(buf, unsealed.length, opts);
  return buf;
}

function seal(buf: Buffer, off: number, opts: StunEncodeOptions): void {
  // The length field counts every attribute, MESSAGE-INTEGRITY and FINGERPRINT included;
  // The HMAC is computed with the shorter length §14.5 asks for (StunIntegrity).
  buf.writeUInt16BE(buf.length - HEADER_LENGTH, 2);
  if (opts.integrityKey !== undefined) {
    buf.writeUInt16BE(AttrType.MessageIntegrity, off);
    buf.writeUInt16BE(MESSAGE_INTEGRITY_LENGTH, off + 2);
    (opts.integrity ?? nodeStunIntegrity).sign(buf, off, opts.integrityKey);
    off += 4 + MESSAGE_INTEGRITY_LENGTH;
  }
  if (opts.fingerprint) {
    buf.writeUInt16BE(AttrType.Fingerprint, off);
    buf.writeUInt16BE(4, off + 2);
    buf.writeUInt32BE(fingerprintOf(buf.subarray(0, off)), off + 4);
  }
}
