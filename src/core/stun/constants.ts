// STUN wire constants (RFC 8489 §5, §18; ICE attributes from RFC 8445 §16.1). Numbers only:
// no parsing here. Attribute type numbers are the IANA registry values.

/** RFC 8489 §5: fixed value in bytes 4..7 of every STUN message. */
export const MAGIC_COOKIE = 0x2112a442;
/** RFC 8489 §5: 20-byte header (type, length, cookie, 96-bit transaction id). */
export const HEADER_LENGTH = 20;
export const TRANSACTION_ID_LENGTH = 12;

/** RFC 8489 §18.2 methods. Only Binding is used by ICE (RFC 8445 §7). */
export const StunMethod = {
  Binding: 0x001,
} as const;

/** RFC 8489 §5: the two class bits C1 C0. */
export const StunClass = {
  Request: 0b00,
  Indication: 0b01,
  SuccessResponse: 0b10,
  ErrorResponse: 0b11,
} as const;
export type StunClass = (typeof StunClass)[keyof typeof StunClass];

/** RFC 8489 §18.3 and RFC 8445 §16.1 attribute types. */
export const AttrType = {
  MappedAddress: 0x0001,
  Username: 0x0006,
  MessageIntegrity: 0x0008,
  ErrorCode: 0x0009,
  UnknownAttributes: 0x000a,
  Realm: 0x0014,
  Nonce: 0x0015,
  MessageIntegritySha256: 0x001c,
  PasswordAlgorithm: 0x001d,
  Userhash: 0x001e,
  XorMappedAddress: 0x0020,
  Priority: 0x0024,
  UseCandidate: 0x0025,
  PasswordAlgorithms: 0x8002,
  AlternateDomain: 0x8003,
  Software: 0x8022,
  AlternateServer: 0x8023,
  Fingerprint: 0x8028,
  IceControlled: 0x8029,
  IceControlling: 0x802a,
} as const;

/** RFC 8489 §14: types 0x0000-0x7FFF are comprehension-required, 0x8000-0xFFFF optional. */
export function isComprehensionRequired(type: number): boolean {
  return type < 0x8000;
}

/** Binding Request type word: method 0x001, class request (RFC 8489 §5, Figure 3). */
export const BINDING_REQUEST = 0x0001;
export const BINDING_SUCCESS = 0x0101;
export const BINDING_ERROR = 0x0111;
export const BINDING_INDICATION = 0x0011;

/** RFC 8489 §14.5: HMAC-SHA1 output length. */
export const MESSAGE_INTEGRITY_LENGTH = 20;
/** RFC 8489 §14.7: the CRC-32 is XORed with this ("STUN" in ASCII). */
export const FINGERPRINT_XOR = 0x5354554e;
/** RFC 8489 §14.3: USERNAME is a UTF-8 sequence of fewer than 509 bytes. */
export const MAX_USERNAME_BYTES = 508;
