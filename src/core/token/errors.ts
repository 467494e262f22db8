// The routing token's vocabulary (STYLE.md rules 4, 6 and 14): the codes of a bad keyring
// (Keyring.parse / new Keyring throw KeyringError) and why open() refuses a token. open() runs
// on the relay's first-packet path, so it never throws: it returns one of the reasons, which the
// relay counts. docs/token.md says in which order the checks run.
import { ParleyError, errorCatalog, reasonCatalog, type CodeOf } from '../errors.ts';

export const KEYRING_ERRORS = errorCatalog('KEYRING', {
  empty: ['ERR_KEYRING_EMPTY', 'the keyring has no keys'],
  syntax: ['ERR_KEYRING_SYNTAX', 'an entry is not `ID:BASE64`'],
  badId: ['ERR_KEYRING_BAD_ID', 'a key id is not an integer 0..255'],
  duplicateId: ['ERR_KEYRING_DUPLICATE_ID', 'a key id is listed twice'],
  badBase64: ['ERR_KEYRING_BAD_BASE64', 'a secret is not canonical base64'],
  shortKey: ['ERR_KEYRING_SHORT_KEY', 'a secret is shorter than 32 bytes'],
});
export const KeyringErrorCode = KEYRING_ERRORS.codes;
export type KeyringErrorCode = CodeOf<typeof KEYRING_ERRORS>;

/** A bad keyring. The message names the entry (by position and id) but never echoes a secret. */
export class KeyringError extends ParleyError<KeyringErrorCode> {}

/** Why open() refused a token, cheapest check first. */
export const TOKEN_REJECTION_REASONS = reasonCatalog('token', {
  malformed: 'not ice-chars, too short for a header, or (authentic but) a bad address inside',
  unsupported_version: 'a version byte or address family this code does not know',
  unknown_key: 'the key id names no key in the keyring (rotated away, or another deployment)',
  bad_tag: 'the tag does not verify: forged, tampered, truncated or extended',
  not_yet_valid: 'issued later than now + the allowed clock skew',
  expired: 'issued longer ago than the token lifetime',
});
export const TOKEN_REJECTIONS = TOKEN_REJECTION_REASONS.reasons;
export type TokenRejection = (typeof TOKEN_REJECTIONS)[number];
