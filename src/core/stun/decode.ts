// decodeStun: bytes → StunMessage, total (RFC 8489 §5, §6.3, §14). It never throws and never
// reads outside its input; anything it cannot accept comes back as a StunDecodeError with a
// stable code. It does NOT verify MESSAGE-INTEGRITY or FINGERPRINT values (that needs a key,
// and is a policy decision of the caller): use verifyMessageIntegrity / verifyFingerprint.
import type { TransportAddress } from '../address.ts';
import { AttrType, HEADER_LENGTH, MAGIC_COOKIE, MESSAGE_INTEGRITY_LENGTH, isComprehensionRequired } from './constants.ts';
import { StunDecodeError, StunDecodeErrorCode, type StunHeaderInfo } from './errors.ts';
import type { RawAttribute, StunErrorCodeValue, StunMessage } from './message.ts';
import { decodeMessageType } from './message-type.ts';
import { attributesEnd } from './raw.ts';
import { decodeUsername } from './attributes/username.ts';
import { decodeSoftware } from './attributes/software.ts';
import { decodePriority, decodeTieBreaker, isValidUseCandidate } from './attributes/ice.ts';
import { decodeXorMappedAddress } from './attributes/xor-mapped-address.ts';
import { decodeErrorCode, decodeUnknownAttributes } from './attributes/error-code.ts';

export function decodeStun(buf: Uint8Array): StunMessage | StunDecodeError {
  const E = StunDecodeErrorCode;
  if (buf.length < HEADER_LENGTH) return new StunDecodeError(E.TooShort, `${buf.length} bytes is shorter than a STUN header`);
  if ((buf[0] & 0xc0) !== 0) return new StunDecodeError(E.NotStun, 'the two leading bits are not zero');
  if (((buf[4] << 24) | (buf[5] << 16) | (buf[6] << 8) | buf[7]) >>> 0 !== MAGIC_COOKIE) {
    return new StunDecodeError(E.BadCookie, 'no magic cookie');
  }
  const length = (buf[2] << 8) | buf[3];
  if (length !== buf.length - HEADER_LENGTH || (length & 3) !== 0) {
    return new StunDecodeError(E.BadLength, `length field ${length} for a ${buf.length - HEADER_LENGTH}-byte body`);
  }
  // Framing first, so a message is refused for its framing before any attribute's content,
  // whatever the order of the faults (keeps decodeStun's verdict equal to isWellFramed's).
  if (attributesEnd(buf) !== buf.length) return new StunDecodeError(E.AttributeOverrun, 'an attribute runs past the end');
  // One private copy: the result never aliases the caller's (possibly reused) receive buffer.
  const own = Buffer.from(buf);
  const { method, class: cls } = decodeMessageType((own[0] << 8) | own[1]);
  const transactionId = own.subarray(8, HEADER_LENGTH);
  const header: StunHeaderInfo = { method, class: cls, transactionId };

  const attributes: RawAttribute[] = [];
  const unknownRequired: number[] = [];
  const seen = new Set<number>();
  let username: string | undefined;
  let software: string | undefined;
  let priority: number | undefined;
  let useCandidate = false;
  let iceControlling: bigint | undefined;
  let iceControlled: bigint | undefined;
  let xorMappedAddress: TransportAddress | undefined;
  let errorCode: StunErrorCodeValue | undefined;
  let unknownAttributes: number[] | undefined;
  let integrityOffset = -1;
  let hasFingerprint = false;

  let off = HEADER_LENGTH;
  // attributesEnd has checked that every TLV below lies inside the message.
  while (off < own.length) {
    const type = (own[off] << 8) | own[off + 1];
    const len = (own[off + 2] << 8) | own[off + 3];
    const next = off + 4 + ((len + 3) & ~3);
    const value = own.subarray(off + 4, off + 4 + len);
    const bad = (): StunDecodeError => new StunDecodeError(E.BadAttribute, `malformed attribute 0x${hex(type)}`, header, type);

    if (hasFingerprint) return new StunDecodeError(E.FingerprintNotLast, 'an attribute follows FINGERPRINT', header, type);
    if (type === AttrType.Fingerprint) {
      if (len !== 4) return bad();
      hasFingerprint = true;
    } else if (integrityOffset >= 0) {
      // RFC 8489 §9: after MESSAGE-INTEGRITY everything but FINGERPRINT (and
      // MESSAGE-INTEGRITY-SHA256, which this codec does not implement) is ignored.
    } else if (type === AttrType.MessageIntegrity) {
      if (len !== MESSAGE_INTEGRITY_LENGTH) return bad();
      integrityOffset = off;
    } else {
      attributes.push({ type, value });
      // RFC 8489 §14: only the first of duplicate attributes needs processing.
      const first = !seen.has(type);
      seen.add(type);
      if (first) {
        switch (type) {
          case AttrType.Username:
            if ((username = decodeUsername(value)) === undefined) return bad();
            break;
          case AttrType.Software:
            if ((software = decodeSoftware(value)) === undefined) return bad();
            break;
          case AttrType.Priority:
            if ((priority = decodePriority(value)) === undefined) return bad();
            break;
          case AttrType.UseCandidate:
            if (!isValidUseCandidate(value)) return bad();
            useCandidate = true;
            break;
          case AttrType.IceControlling:
            if ((iceControlling = decodeTieBreaker(value)) === undefined) return bad();
            break;
          case AttrType.IceControlled:
            if ((iceControlled = decodeTieBreaker(value)) === undefined) return bad();
            break;
          case AttrType.XorMappedAddress:
            if ((xorMappedAddress = decodeXorMappedAddress(value, transactionId)) === undefined) return bad();
            break;
          case AttrType.ErrorCode:
            if ((errorCode = decodeErrorCode(value)) === undefined) return bad();
            break;
          case AttrType.UnknownAttributes:
            if ((unknownAttributes = decodeUnknownAttributes(value)) === undefined) return bad();
            break;
          default:
            // RFC 8489 §14: unknown comprehension-optional attributes are ignored; unknown
            // comprehension-required ones are reported for a 420 (§6.3.1).
            if (isComprehensionRequired(type)) unknownRequired.push(type);
        }
      }
    }
    off = next;
  }
  return {
    method,
    class: cls,
    transactionId,
    attributes,
    username,
    software,
    priority,
    useCandidate,
    iceControlling,
    iceControlled,
    xorMappedAddress,
    errorCode,
    unknownAttributes,
    unknownRequired,
    integrityOffset,
    hasFingerprint,
  };
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}

export function isStunDecodeError(x: StunMessage | StunDecodeError): x is StunDecodeError {
  return x instanceof StunDecodeError;
}
