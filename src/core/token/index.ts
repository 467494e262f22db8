// The routing token's public API: Keyring, mint, open, derivePassword and their types.
// Relay, transceiver and CLI import from here only; the files behind it may change.
export { Keyring } from './keyring.ts';
export { KEYRING_ERRORS, KeyringError, KeyringErrorCode, TOKEN_REJECTION_REASONS, TOKEN_REJECTIONS } from './errors.ts';
export type { TokenRejection } from './errors.ts';
export type { KeyEntry } from './keyring.ts';
export { TokenKey, MIN_SECRET_BYTES, MAX_KEY_ID, PASSWORD_BYTES } from './key.ts';
export { mint, open, derivePassword, DEFAULT_TOKEN_LIFETIME_MS, DEFAULT_CLOCK_SKEW_MS } from './token.ts';
export type { MintResult, OpenOptions, OpenResult, TokenSealer } from './token.ts';
export { TOKEN_VERSION, TOKEN_CHARS, PLAINTEXT_LEN, MAX_UFRAG_CHARS, MIN_UFRAG_CHARS } from './format.ts';
