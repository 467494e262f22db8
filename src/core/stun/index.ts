// Public API of the STUN codec (RFC 8489) with the ICE attributes (RFC 8445 §16.1).
// Re-exports only; see each module for what it does and which RFC section it implements.
export { peekUsername, checkIntegrity, verifyMessageIntegrity, verifyFingerprint, isWellFramed, nodeStunIntegrity } from './raw.ts';
export type { StunIntegrity } from './raw.ts';
export { decodeStun, isStunDecodeError } from './decode.ts';
export { encodeStun, sealStun, type StunEncodeOptions } from './encode.ts';
export { STUN_ERRORS, StunDecodeError, StunDecodeErrorCode, type StunHeaderInfo } from './errors.ts';
export type { RawAttribute, StunMessage, StunMessageInit, StunErrorCodeValue } from './message.ts';
export { encodeMessageType, decodeMessageType } from './message-type.ts';
export { usernameAttribute } from './attributes/username.ts';
export { softwareAttribute } from './attributes/software.ts';
export { priorityAttribute, useCandidateAttribute, iceControllingAttribute, iceControlledAttribute } from './attributes/ice.ts';
export { xorMappedAddressAttribute } from './attributes/xor-mapped-address.ts';
export { errorCodeAttribute, unknownAttributesAttribute, StunErrorCodes } from './attributes/error-code.ts';
export * from './constants.ts';
