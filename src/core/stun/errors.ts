// The STUN codec's error catalog (STYLE.md rule 6): every reason decodeStun can refuse a
// packet, as a stable code. Decoding never throws; it returns one of these.
import { ParleyError, errorCatalog, type CodeOf } from '../errors.ts';
import type { StunClass } from './constants.ts';

export const STUN_ERRORS = errorCatalog('STUN', {
  TooShort: ['ERR_STUN_TOO_SHORT', 'fewer than 20 bytes'],
  NotStun: ['ERR_STUN_NOT_STUN', 'RFC 8489 §5: the two most significant bits of a STUN message are not zero'],
  BadCookie: ['ERR_STUN_BAD_COOKIE', 'RFC 8489 §5: bytes 4..7 are not 0x2112A442 (this includes RFC 3489 messages)'],
  BadLength: ['ERR_STUN_BAD_LENGTH', 'RFC 8489 §5/§6.3: the length field is not the body length, or not a multiple of 4'],
  AttributeOverrun: ['ERR_STUN_ATTRIBUTE_OVERRUN', "RFC 8489 §14: an attribute's (padded) value runs past the end of the message"],
  BadAttribute: ['ERR_STUN_BAD_ATTRIBUTE', "a known attribute's value is malformed (wrong length, bad family, not UTF-8, …)"],
  FingerprintNotLast: ['ERR_STUN_FINGERPRINT_NOT_LAST', 'RFC 8489 §14.7: FINGERPRINT is not the last attribute'],
});
export const StunDecodeErrorCode = STUN_ERRORS.codes;
export type StunDecodeErrorCode = CodeOf<typeof STUN_ERRORS>;

/** What was readable of the header when framing was fine but an attribute was not. */
export interface StunHeaderInfo {
  readonly method: number;
  readonly class: StunClass;
  readonly transactionId: Buffer;
}

export class StunDecodeError extends ParleyError<StunDecodeErrorCode> {
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
