// One routing-token key: its id and the three sub-keys HKDF derives from the master secret,
// computed once when the keyring is built so the relay's per-first-packet path only runs
// HMAC and AES. This is the only file that touches key material; it is not the keyring (see
// keyring.ts) and knows nothing about addresses or time (see token.ts).
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { HEADER_LEN, TAG_LEN, TOKEN_BYTES, PLAINTEXT_LEN, toIceChars } from './format.ts';

/** Minimum master secret: 256 bits. */
export const MIN_SECRET_BYTES = 32;
/** Key ids are one byte in the token header. */
export const MAX_KEY_ID = 255;
/** Password length in bytes: 18 bytes = 144 bits = exactly 24 ice-chars, no padding (RFC 8839 needs ≥ 22). */
export const PASSWORD_BYTES = 18;

// HKDF (RFC 5869) labels: distinct `info` per purpose so no sub-key is ever used for two jobs.
const HKDF_SALT = Buffer.from('parley routing token');
const INFO_ENC = Buffer.from('parley token v1 aes-256-ctr');
const INFO_MAC = Buffer.from('parley token v1 hmac-sha256');
const INFO_PWD = Buffer.from('parley ice-pwd v1 hmac-sha256');

function subKey(secret: Uint8Array, info: Buffer): KeyObject {
  return createSecretKey(Buffer.from(hkdfSync('sha256', secret, HKDF_SALT, info, 32)));
}

export class TokenKey {
  /** 0..255, written in clear (and authenticated) in every token this key mints. */
  readonly id: number;
  // #private so util.inspect, JSON.stringify and logs never show key material.
  readonly #secret: Buffer;
  readonly #enc: KeyObject;
  readonly #mac: KeyObject;
  readonly #pwd: KeyObject;

  constructor(id: number, secret: Uint8Array) {
    if (!Number.isInteger(id) || id < 0 || id > MAX_KEY_ID) throw new RangeError(`key id must be 0..${MAX_KEY_ID}`);
    if (secret.length < MIN_SECRET_BYTES) throw new RangeError(`key secret must be at least ${MIN_SECRET_BYTES} bytes`);
    this.id = id;
    this.#secret = Buffer.from(secret);
    this.#enc = subKey(secret, INFO_ENC);
    this.#mac = subKey(secret, INFO_MAC);
    this.#pwd = subKey(secret, INFO_PWD);
  }

  /** The master secret, for serializing the keyring only. */
  exportSecret(): Buffer {
    return Buffer.from(this.#secret);
  }

  /**
   * The three sub-keys (AES-256-CTR, the tag's HMAC-SHA256, the password's HMAC-SHA256), 32 bytes
   * each, for the relay's native first-check verifier (src/relay/first-check.ts), which runs the
   * same construction in C. CONTAINS KEY MATERIAL: hand it to that verifier only, never log it.
   */
  exportSubKeys(): { readonly enc: Buffer; readonly mac: Buffer; readonly pwd: Buffer } {
    return { enc: this.#enc.export(), mac: this.#mac.export(), pwd: this.#pwd.export() };
  }

  /**
   * SIV-style deterministic AEAD (the shape of RFC 5297 with HMAC as the PRF):
   * tag = HMAC-SHA256(mac, header ‖ plaintext)[0..16), ciphertext = AES-256-CTR(enc, iv = tag).
   * Returns header ‖ tag ‖ ciphertext.
   */
  seal(header: Uint8Array, plaintext: Uint8Array): Buffer {
    if (header.length !== HEADER_LEN || plaintext.length !== PLAINTEXT_LEN) throw new RangeError('bad token layout');
    const tag = this.#tag(header, plaintext);
    const cipher = createCipheriv('aes-256-ctr', this.#enc, tag);
    return Buffer.concat([header, tag, cipher.update(plaintext), cipher.final()]);
  }

  /** Inverse of seal: the plaintext, or undefined when the tag does not verify. */
  unseal(token: Buffer): Buffer | undefined {
    if (token.length !== TOKEN_BYTES) return undefined;
    const header = token.subarray(0, HEADER_LEN);
    const tag = token.subarray(HEADER_LEN, HEADER_LEN + TAG_LEN);
    // CTR is a stream mode: update() returns every byte and final() adds none.
    const plaintext = createDecipheriv('aes-256-ctr', this.#enc, tag).update(token.subarray(HEADER_LEN + TAG_LEN));
    // Constant-time compare: a timing leak here would let an attacker forge a tag byte by byte.
    return timingSafeEqual(this.#tag(header, plaintext), tag) ? plaintext : undefined;
  }

  /** The ICE password for a ufrag: HMAC-SHA256(pwd, ufrag) truncated to 144 bits, as ice-chars. */
  password(ufrag: string): string {
    const mac = createHmac('sha256', this.#pwd).update(ufrag, 'utf8').digest();
    return toIceChars(mac.subarray(0, PASSWORD_BYTES));
  }

  #tag(header: Uint8Array, plaintext: Uint8Array): Buffer {
    return createHmac('sha256', this.#mac).update(header).update(plaintext).digest().subarray(0, TAG_LEN);
  }
}
