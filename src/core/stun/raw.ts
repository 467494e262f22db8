// Fast checks on a raw STUN packet, without a full decode: the relay's first-packet path
// (peekUsername, checkIntegrity) and the integrity/fingerprint verifiers used by decoders and
// agents. These functions never throw on hostile input and never read outside `buf`.
// Not here: attribute parsing (decode.ts) and building messages (encode.ts, integrity.ts).
import { createHmac, timingSafeEqual } from 'node:crypto';
import { crc32 } from 'node:zlib';
import { isUtf8 } from 'node:buffer';
import {
  AttrType,
  BINDING_REQUEST,
  FINGERPRINT_XOR,
  HEADER_LENGTH,
  MAGIC_COOKIE,
  MAX_USERNAME_BYTES,
  MESSAGE_INTEGRITY_LENGTH,
} from './constants.ts';

/**
 * RFC 8489 §5/§6.3: the framing every STUN message must have — the two top bits of the type
 * are zero, the magic cookie is present, the length field counts exactly the bytes after the
 * header and is a multiple of 4, and the attribute TLVs (each padded to 4 bytes, §14) tile
 * the body with none running past the end.
 */
export function isWellFramed(buf: Uint8Array): boolean {
  if (buf.length < HEADER_LENGTH) return false;
  if ((buf[0] & 0xc0) !== 0) return false;
  const length = (buf[2] << 8) | buf[3];
  if (length !== buf.length - HEADER_LENGTH || (length & 3) !== 0) return false;
  if (readU32(buf, 4) !== MAGIC_COOKIE) return false;
  return attributesEnd(buf) === buf.length;
}

/** Walks the TLVs from the header on; returns where the walk ends, or -1 if one overruns. */
export function attributesEnd(buf: Uint8Array): number {
  let off = HEADER_LENGTH;
  while (off + 4 <= buf.length) {
    const len = (buf[off + 2] << 8) | buf[off + 3];
    const next = off + 4 + ((len + 3) & ~3);
    if (next > buf.length) return -1;
    off = next;
  }
  return off === buf.length ? off : -1;
}

/**
 * Offset of the first attribute of `type` in a well-framed message, or -1. When `stopAtIntegrity`
 * is set, the search ends at MESSAGE-INTEGRITY: RFC 8489 §14.5 says attributes after it (other
 * than FINGERPRINT) are ignored.
 */
function findAttribute(buf: Uint8Array, type: number, stopAtIntegrity: boolean): number {
  let off = HEADER_LENGTH;
  while (off + 4 <= buf.length) {
    const t = (buf[off] << 8) | buf[off + 1];
    if (t === type) return off;
    if (stopAtIntegrity && t === AttrType.MessageIntegrity) return -1;
    const len = (buf[off + 2] << 8) | buf[off + 3];
    off += 4 + ((len + 3) & ~3);
  }
  return -1;
}

/**
 * The USERNAME of a well-formed STUN Binding Request, or undefined for anything else (other
 * methods or classes, bad framing, no USERNAME before MESSAGE-INTEGRITY, a USERNAME that is not
 * UTF-8 or is 509 bytes or longer — RFC 8489 §14.3). Only the first USERNAME counts (§14: a
 * duplicate is ignored). For the relay's first packet from an unknown address: no full decode,
 * no allocation but the returned string.
 */
export function peekUsername(buf: Buffer): string | undefined {
  if (buf.length < HEADER_LENGTH) return undefined;
  // RFC 8489 §5: type 0x0001 = Binding Request; this also checks the two leading zero bits.
  if (((buf[0] << 8) | buf[1]) !== BINDING_REQUEST) return undefined;
  if (!isWellFramed(buf)) return undefined;
  const off = findAttribute(buf, AttrType.Username, true);
  if (off < 0) return undefined;
  const len = (buf[off + 2] << 8) | buf[off + 3];
  if (len > MAX_USERNAME_BYTES) return undefined;
  const start = off + 4;
  const end = start + len;
  // ICE usernames are ASCII ice-chars (RFC 8839 §5.4): check that without making a view; only
  // a non-ASCII USERNAME pays for the subarray that isUtf8 needs.
  let ascii = true;
  for (let i = start; i < end; i++) {
    if (buf[i] >= 0x80) {
      ascii = false;
      break;
    }
  }
  if (!ascii && !isUtf8(buf.subarray(start, end))) return undefined;
  return buf.toString(ascii ? 'latin1' : 'utf8', start, end);
}

// One header-sized scratch buffer for the length-adjusted header (§14.5). src/core runs on one
// thread and the buffer never escapes a call, so sharing it is safe and saves an allocation.
const scratchHeader = Buffer.alloc(HEADER_LENGTH);

/**
 * RFC 8489 §14.5's HMAC-SHA1 over a message in a buffer, for a MESSAGE-INTEGRITY attribute that
 * starts at `miOffset`: the header with its length field set as if MESSAGE-INTEGRITY were the last
 * attribute, then the attributes before it. node:crypto's (nodeStunIntegrity) unless the owner of
 * an agent hands it another (the transceiver: native/src/stun_native.c's, which a setup's reply
 * path finds cheaper after an idle second than an Hmac object per MAC).
 */
export interface StunIntegrity {
  /** Writes the 20-byte HMAC into msg[miOffset + 4 .. miOffset + 24]. */
  sign(msg: Uint8Array, miOffset: number, key: Buffer | string): void;
  /** Whether msg[miOffset + 4 .. miOffset + 24] is that HMAC (constant-time comparison). */
  verify(msg: Uint8Array, miOffset: number, key: Buffer | string): boolean;
}

export const nodeStunIntegrity: StunIntegrity = {
  sign: (msg, miOffset, key) => msg.set(computeIntegrity(msg, miOffset, key), miOffset + 4),
  verify: (msg, miOffset, key) =>
    timingSafeEqual(computeIntegrity(msg, miOffset, key), msg.subarray(miOffset + 4, miOffset + 4 + MESSAGE_INTEGRITY_LENGTH)),
};

/**
 * RFC 8489 §14.5: verifies the first MESSAGE-INTEGRITY (HMAC-SHA1) of a raw message with `key`.
 * The HMAC covers the header and every attribute before MESSAGE-INTEGRITY, with the header's
 * length field set as if MESSAGE-INTEGRITY were the last attribute — so a FINGERPRINT (or any
 * ignored attribute) after it does not matter. Constant-time comparison. False on bad framing,
 * a missing attribute or a MESSAGE-INTEGRITY whose length is not 20.
 */
export function verifyMessageIntegrity(raw: Uint8Array, key: Buffer | string, integrity: StunIntegrity = nodeStunIntegrity): boolean {
  if (!isWellFramed(raw)) return false;
  const off = findAttribute(raw, AttrType.MessageIntegrity, false);
  if (off < 0) return false;
  if (((raw[off + 2] << 8) | raw[off + 3]) !== MESSAGE_INTEGRITY_LENGTH) return false;
  return integrity.verify(raw, off, key);
}

/**
 * HMAC-SHA1 for a MESSAGE-INTEGRITY attribute that starts at `miOffset` in `msg` (RFC 8489
 * §14.5): header with length = miOffset - 20 + 24, then the attributes before it.
 */
export function computeIntegrity(msg: Uint8Array, miOffset: number, key: Buffer | string): Buffer {
  scratchHeader.set(msg.subarray(0, HEADER_LENGTH));
  scratchHeader.writeUInt16BE(miOffset - HEADER_LENGTH + 4 + MESSAGE_INTEGRITY_LENGTH, 2);
  return createHmac('sha1', key).update(scratchHeader).update(msg.subarray(HEADER_LENGTH, miOffset)).digest();
}

/**
 * Short-term credential check for ICE (RFC 8489 §9.1.1, RFC 8445 §7.2.2): the key is the
 * password's UTF-8 bytes. RFC 8489 asks for OpaqueString (SASLprep's successor) on the
 * password, but ICE passwords are ice-chars (RFC 8839 §5.4: ALPHA / DIGIT / "+" / "/"), for
 * which that profile is the identity, so no preparation is done here.
 */
export function checkIntegrity(buf: Buffer, password: string): boolean {
  return verifyMessageIntegrity(buf, password);
}

/**
 * RFC 8489 §14.7: true when the message ends with a FINGERPRINT whose value is the CRC-32 of
 * everything before it XOR 0x5354554E. FINGERPRINT must be the last attribute, so one anywhere
 * else makes this false.
 */
export function verifyFingerprint(raw: Uint8Array): boolean {
  if (!isWellFramed(raw) || raw.length < HEADER_LENGTH + 8) return false;
  const off = raw.length - 8;
  if (((raw[off] << 8) | raw[off + 1]) !== AttrType.Fingerprint) return false;
  if (((raw[off + 2] << 8) | raw[off + 3]) !== 4) return false;
  // The last 8 bytes are only an attribute if the TLV walk lands on them.
  if (findAttribute(raw, AttrType.Fingerprint, false) !== off) return false;
  return readU32(raw, off + 4) === fingerprintOf(raw.subarray(0, off));
}

/** RFC 8489 §14.7: CRC-32 (ISO HDLC, as in zlib) of `prefix`, XOR 0x5354554E. */
export function fingerprintOf(prefix: Uint8Array): number {
  return (crc32(prefix) ^ FINGERPRINT_XOR) >>> 0;
}

function readU32(b: Uint8Array, off: number): number {
  return ((b[off] << 24) | (b[off + 1] << 16) | (b[off + 2] << 8) | b[off + 3]) >>> 0;
}
