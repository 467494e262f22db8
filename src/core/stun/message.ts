// The shapes of a STUN message (RFC 8489 §5-§6): what encodeStun takes and what decodeStun
// returns. Types only.
import type { TransportAddress } from '../address.ts';
import type { StunClass } from './constants.ts';

/** One TLV as on the wire, without padding (RFC 8489 §14). */
export interface RawAttribute {
  readonly type: number;
  readonly value: Uint8Array;
}

/** Input of encodeStun: MESSAGE-INTEGRITY and FINGERPRINT are added by encode options. */
export interface StunMessageInit {
  /** 12-bit method; RFC 8489 §18.2. ICE only uses Binding (0x001). */
  readonly method: number;
  readonly class: StunClass;
  /** 96 bits (RFC 8489 §5). */
  readonly transactionId: Uint8Array;
  /** In wire order. Build them with the helpers in ./attributes/. */
  readonly attributes: readonly RawAttribute[];
}

/** ERROR-CODE (RFC 8489 §14.8): code 300..699 and a reason phrase. */
export interface StunErrorCodeValue {
  readonly code: number;
  readonly reason: string;
}

/** A decoded message. The typed fields hold the first occurrence of each known attribute. */
export interface StunMessage extends StunMessageInit {
  readonly transactionId: Buffer;
  /**
   * Every attribute before MESSAGE-INTEGRITY (or all, without it) except FINGERPRINT, in wire
   * order; values are copies, so re-encoding reproduces the message (RFC 8489 §14.5: what
   * follows MESSAGE-INTEGRITY other than FINGERPRINT is ignored, so it is not kept).
   */
  readonly attributes: readonly RawAttribute[];
  readonly username?: string;
  readonly software?: string;
  readonly priority?: number;
  readonly useCandidate: boolean;
  readonly iceControlling?: bigint;
  readonly iceControlled?: bigint;
  readonly xorMappedAddress?: TransportAddress;
  readonly errorCode?: StunErrorCodeValue;
  /** The UNKNOWN-ATTRIBUTES attribute of a 420 response (RFC 8489 §14.13). */
  readonly unknownAttributes?: readonly number[];
  /**
   * Comprehension-required attribute types (0x0000-0x7FFF) this codec does not understand,
   * found before MESSAGE-INTEGRITY, deduplicated. RFC 8489 §6.3.1: a server answers a
   * request carrying any with 420 (Unknown Attribute); §6.3.3: a client treats the response as failed.
   */
  readonly unknownRequired: readonly number[];
  /** Offset of MESSAGE-INTEGRITY in the packet, or -1. Verify with verifyMessageIntegrity. */
  readonly integrityOffset: number;
  /** Whether a FINGERPRINT ends the packet. Verify with verifyFingerprint. */
  readonly hasFingerprint: boolean;
}
