// Public API of the STUN codec (RFC 8489) with the ICE attributes (RFC 8445 §16.1).
// Re-exports only; see each module for what it does.
export { peekUsername, checkIntegrity, verifyMessageIntegrity, verifyFingerprint, isWellFramed } from './raw.ts';
export * from './constants.ts';
