// SRTP/SRTCP for the sans-IO core: RFC 3711 (AES-CM + HMAC-SHA1-80) and RFC 7714 (AES-128-GCM),
// keyed from DTLS-SRTP (RFC 5764). Start at SrtpSession; see docs/srtp-rtp.md.
export { SrtpSession, estimateRoc, DEFAULT_MAX_SSRCS } from './session.ts';
export type { SrtpMasterKey, SrtpSessionOptions, SrtpTransformFactory, SsrcDump } from './session.ts';
export type { SrtpTransform } from './transform.ts';
export { SrtpError, SrtpKeyError, srtpError, SRTP_DROP_REASONS, SRTP_DROPS, SRTP_ERRORS } from './errors.ts';
export type { SrtpDropReason } from './errors.ts';
export { SRTP_PROFILES, isSrtpProfileName, srtpProfileById } from './profile.ts';
export type { SrtpProfileName, SrtpProfileParams } from './profile.ts';
export { deriveSessionKeys, splitDtlsKeyingMaterial } from './kdf.ts';
export type { SessionKeys, DirectionKeys } from './kdf.ts';
