// Ephemeral client secrets (`ek_…`, POST /v1/realtime/client_secrets, OpenAI's Realtime API): an
// app server with an API key mints one for a browser, which then creates a call with it instead
// of the key. Stateless: the secret is the sealed claim itself — AES-256-GCM under a key derived
// (HKDF, its own label) from each key of the routing-token keyring, with its own type byte — so
// any replica with the keyring accepts it, and it is never interchangeable with a routing token,
// a call id or a forward signature (other labels, other layouts). It carries its expiry (checked
// on the injected wall clock) and the session config. A config too large to seal (> ~3 KiB) is
// kept in THIS process's memory under a random id sealed inside the secret: such a secret only
// works on the replica that minted it (docs/openai-compatibility.md).
// Layout: `ek_` + base64url( type 0x65 ‖ key id ‖ iv(12) ‖ ciphertext ‖ GCM tag(16) ), header as AAD;
// plaintext JSON {"x": expiry (Unix s), "n": 128 random bits, "s": session | "r": store id}.
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Rng } from '../../core/rng.ts';
import type { Keyring } from '../../core/token/index.ts';
import type { JsonObject } from './json-limits.ts';
import { isJsonObject } from './json-limits.ts';

export const CLIENT_SECRET_PREFIX = 'ek_';
/** OpenAI's bounds for expires_after.seconds, and its default. */
export const MIN_SECRET_SECONDS = 10;
export const MAX_SECRET_SECONDS = 7200;
export const DEFAULT_SECRET_SECONDS = 600;
/** A secret's text stays under 4 KiB: larger session configs go to the store. */
export const MAX_SEALED_CHARS = 4096;
/** Sessions held in memory for secrets too large to seal; minting past it is refused. */
export const MAX_STORED_SESSIONS = 1024;

const TYPE = 0x65; // 'e': never the routing token's version byte (1)
const IV_LEN = 12;
const TAG_LEN = 16;
const HEADER_LEN = 2;
const NONCE_LEN = 16;
const INFO = 'parley client secret v1 aes-256-gcm';
/** Base64url of the sealed bytes: the decoder is lenient, so the alphabet is checked first. */
const TEXT = /^ek_([A-Za-z0-9_-]{40,5460})$/;
/** Plaintext that seals to MAX_SEALED_CHARS or less. */
const MAX_INLINE_PLAINTEXT = Math.floor(((MAX_SEALED_CHARS - CLIENT_SECRET_PREFIX.length) * 3) / 4) - HEADER_LEN - IV_LEN - TAG_LEN;

export type ClientSecretRejection = 'malformed' | 'unknown_key' | 'forged' | 'expired' | 'not_stored';

export type OpenedClientSecret =
  | { readonly ok: true; readonly session: JsonObject; readonly expiresAt: number }
  | { readonly ok: false; readonly rejection: ClientSecretRejection };

export class ClientSecrets {
  readonly #keys = new Map<number, KeyObject>();
  readonly #mintingId: number;
  readonly #rng: Rng;
  readonly #stored = new Map<string, { readonly session: JsonObject; readonly expiresAt: number }>();

  constructor(o: { keyring: Keyring; rng: Rng }) {
    for (const k of o.keyring.keys) {
      this.#keys.set(k.id, createSecretKey(Buffer.from(hkdfSync('sha256', k.exportSecret(), Buffer.alloc(0), INFO, 32))));
    }
    this.#mintingId = o.keyring.minting.id;
    this.#rng = o.rng;
  }

  /** Sessions held for oversized secrets now (after dropping expired ones). */
  storedSessions(wallNowMs: number): number {
    this.#sweep(wallNowMs);
    return this.#stored.size;
  }

  /** A new secret valid for `seconds` from wall time `wallNowMs`; undefined when its session would need the store and it is full. */
  mint(session: JsonObject, seconds: number, wallNowMs: number): { value: string; expiresAt: number } | undefined {
    const expiresAt = Math.floor(wallNowMs / 1000) + seconds;
    const nonce = this.#rng.bytes(NONCE_LEN).toString('base64url');
    let plaintext = Buffer.from(JSON.stringify({ x: expiresAt, n: nonce, s: session }));
    if (plaintext.length > MAX_INLINE_PLAINTEXT) {
      this.#sweep(wallNowMs);
      if (this.#stored.size >= MAX_STORED_SESSIONS) return undefined;
      const ref = this.#rng.bytes(NONCE_LEN).toString('base64url');
      this.#stored.set(ref, { session, expiresAt });
      plaintext = Buffer.from(JSON.stringify({ x: expiresAt, n: nonce, r: ref }));
    }
    const header = Buffer.from([TYPE, this.#mintingId]);
    const iv = this.#rng.bytes(IV_LEN);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#mintingId)!, iv).setAAD(header);
    const sealed = Buffer.concat([header, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    return { value: CLIENT_SECRET_PREFIX + sealed.toString('base64url'), expiresAt };
  }

  /** Opens a secret at wall time `wallNowMs`; never throws. */
  open(value: string, wallNowMs: number): OpenedClientSecret {
    const m = TEXT.exec(value);
    if (!m) return { ok: false, rejection: 'malformed' };
    const sealed = Buffer.from(m[1], 'base64url');
    if (sealed.length < HEADER_LEN + IV_LEN + TAG_LEN + 1 || sealed[0] !== TYPE) return { ok: false, rejection: 'malformed' };
    const key = this.#keys.get(sealed[1]);
    if (!key) return { ok: false, rejection: 'unknown_key' };
    let plaintext: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(HEADER_LEN, HEADER_LEN + IV_LEN), { authTagLength: TAG_LEN });
      decipher.setAAD(sealed.subarray(0, HEADER_LEN)).setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
      plaintext = Buffer.concat([decipher.update(sealed.subarray(HEADER_LEN + IV_LEN, sealed.length - TAG_LEN)), decipher.final()]);
    } catch {
      return { ok: false, rejection: 'forged' };
    }
    // Authenticated, so ours: a parse failure would be a bug of ours, still answered as forged.
    let claim: unknown;
    try {
      claim = JSON.parse(plaintext.toString('utf8'));
    } catch {
      return { ok: false, rejection: 'forged' };
    }
    if (!isJsonObject(claim) || typeof claim.x !== 'number' || !(claim.x * 1000 > wallNowMs)) return { ok: false, rejection: 'expired' };
    if (isJsonObject(claim.s)) return { ok: true, session: claim.s, expiresAt: claim.x };
    const stored = typeof claim.r === 'string' ? this.#stored.get(claim.r) : undefined;
    if (!stored) return { ok: false, rejection: 'not_stored' };
    return { ok: true, session: stored.session, expiresAt: stored.expiresAt };
  }

  #sweep(wallNowMs: number): void {
    for (const [ref, s] of this.#stored) if (s.expiresAt * 1000 <= wallNowMs) this.#stored.delete(ref);
  }
}
