// Optional bearer-key auth for the signaling API (RFC 6750 §2.1 `Authorization: Bearer KEY`).
// Keys are compared in constant time: both sides are hashed to 32 bytes first so neither the
// length nor the content of a configured key leaks through timing, and every configured key is
// checked (no early exit) so the position of a match does not leak either.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The credential of an `Authorization: Bearer X` value, or undefined. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer[ ]+(\S+)\s*$/i.exec(header ?? '')?.[1];
}

export class BearerKeys {
  readonly #digests: Buffer[];

  constructor(keys: readonly string[]) {
    this.#digests = keys.map((k) => createHash('sha256').update(k, 'utf8').digest());
  }

  /** True when no keys are configured (the API is open). */
  get open(): boolean {
    return this.#digests.length === 0;
  }

  /** Checks an Authorization header value. */
  check(header: string | undefined): boolean {
    if (this.open) return true;
    const token = bearerToken(header);
    if (token === undefined) return false;
    const digest = createHash('sha256').update(token, 'utf8').digest();
    let ok = false;
    for (const d of this.#digests) ok = timingSafeEqual(d, digest) || ok;
    return ok;
  }
}
