// The STUN codec's error catalog (STYLE.md rule 6): every reason decodeStun can refuse a
// packet, as a stable code. Decoding never throws; it returns one of these.
import { ParleyError } from '../errors.ts';
import type { StunClass } from './constants.ts';

export const StunDecodeErrorCode = {
  /** Fewer than 20 bytes. */
  TooShort: 'stun/too-short',
  /** RFC 8489 §5: the two most significant bits of a STUN message are zero. */
  NotStun: 'stun/not-stun',
  /** RFC 8489 §5: bytes 4..7 are not 0x2112A442 (this includes RFC 3489 messages). */
  BadCookie: 'stun/bad-cookie',
  /** RFC 8489 §5/§6.3: the length field is not the body length, or not a multiple of 4. */
  BadLength: 'stun/bad-length',
  /** RFC 8489 §14: an attribute's (padded) value runs past the end of the message. */
  AttributeOverrun: 'stun/attribute-overrun',
  /** A known attribute's value is malformed (wrong length, bad family, not UTF-8, …). */
  BadAttribute: 'stun/bad-attribute',
  /** RFC 8489 §14.7: FINGERPRINT is not the last attribute. */
  FingerprintNotLast: 'stun/fingerprint-not-last',
} as const;
export type StunDecodeErrorCode = (typeof StunDecodeErrorCode)[keyof typeof StunDecodeErrorCode];

/** What was readable of the header when framing was fine but an attribute was not. */
export interface StunHeaderInfo {
  readonly method: number;
  readonly class: StunClass;
  readonly transactionId: Buffer;
}

export class StunDecodeError extends ParleyError {
  declare readonly code: StunDecodeErrorCode;
  /** The attribute type at fault, for BadAttribute. */
  readonly attributeType: number | undefined;
  /**
   * Set when the framing was valid, so a server can still answer a request with 400
   * (RFC 8489 §6.3.1: malformed request → 400 Bad Request).
   */
  readonly header: StunHeaderInfo | undefined;
  constructor(code: StunDecodeErrorCode, message: string, header?: StunHeaderInfo, attributeType?: number) {
    super(code, message);
    this.header = header;
    this.attributeType = attributeType;
  }
}
