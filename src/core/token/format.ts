// The wire layout of a routing token (the server ICE ufrag) and the ice-char text codec.
// Only constants, layout and the total text → bytes decoder live here; the cryptography is in
// key.ts and the mint/open logic in token.ts. See docs/token.md for why the layout is this.

/** The one token version this code mints and opens. */
export const TOKEN_VERSION = 1;

// Token bytes:  version(1) ‖ keyId(1) ‖ tag(16) ‖ ciphertext(30)            = 48 bytes
// Plaintext:    family(1) ‖ ip(16, IPv4 left-aligned, zero-padded) ‖ port(2)
//               ‖ issuedAt seconds (4, uint32 BE) ‖ nonce(7)                 = 30 bytes
// 48 bytes is exactly 64 base64 chars with no padding, for IPv4 and IPv6 alike.
export const HEADER_LEN = 2;
export const TAG_LEN = 16;
export const NONCE_LEN = 7;
export const PLAINTEXT_LEN = 1 + 16 + 2 + 4 + NONCE_LEN;
export const TOKEN_BYTES = HEADER_LEN + TAG_LEN + PLAINTEXT_LEN;
export const TOKEN_CHARS = (TOKEN_BYTES / 3) * 4;

export const PT_FAMILY = 0;
export const PT_IP = 1;
export const PT_PORT = 17;
export const PT_TIME = 19;
export const PT_NONCE = 23;

/** Plaintext family byte values. */
export const FAMILY_V4 = 4;
export const FAMILY_V6 = 6;

/** RFC 8839 §5.4: ice-char = ALPHA / DIGIT / "+" / "/"; ufrag 4..256 chars (we cap at 64). */
export const ICE_CHARS = /^[A-Za-z0-9+/]*$/;
export const MIN_UFRAG_CHARS = 4;
export const MAX_UFRAG_CHARS = 64;

/** Base64 without padding: the RFC 8839 ice-char alphabet exactly. */
export function toIceChars(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64').replace(/=+$/, '');
}

/**
 * Decodes a candidate ufrag to bytes, or undefined when it is not 4..64 ice-chars.
 * Node's base64 decoder is lenient (skips junk, accepts '-' '_' '='), so the alphabet and
 * length are checked first; the length check comes before the regex so hostile long input
 * costs nothing.
 */
export function fromIceChars(text: string): Buffer | undefined {
  if (text.length < MIN_UFRAG_CHARS || text.length > MAX_UFRAG_CHARS) return undefined;
  if (!ICE_CHARS.test(text)) return undefined;
  return Buffer.from(text, 'base64');
}
