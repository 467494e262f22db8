// A routing token's revocation over HTTP, for relays that share no flow store (one relay without
// Redis, `parley dev`): when a call ends the transceiver POSTs the call's token to each relay's
// ops listener (--revoke-urls), and the relay revokes it in its in-memory store, which tells every
// worker (issue #19: "works with the in-memory store in dev"). With Redis, revocations go through
// the flow store instead (flow-record.ts publishRevocation). The request is authenticated by an
// HMAC-SHA256 of the token under a key derived (HKDF, a label of its own) from the keyring both
// sides hold, so only a keyring holder can end a call's flows; a replayed revocation only revokes
// again a token whose call has ended. Request: `POST /revocations`, body the token (ice-chars),
// header `x-parley-revocation: v1.<key id>.<base64url mac>`; 204 accepted, 403 refused.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../core/token/index.ts';

export const REVOCATIONS_PATH = '/revocations';
export const REVOCATION_HEADER = 'x-parley-revocation';
/** A token is at most 64 ice-chars: a larger body is refused unread. */
export const MAX_REVOCATION_BODY_BYTES = 128;
const LABEL = 'parley token revocation v1';
const TOKEN_TEXT = /^[A-Za-z0-9+/]{4,64}$/;

export class RevocationAuth {
  readonly #keys = new Map<number, Buffer>();
  readonly #signingId: number;

  constructor(keyring: Keyring) {
    for (const k of keyring.keys) this.#keys.set(k.id, Buffer.from(hkdfSync('sha256', k.exportSecret(), Buffer.alloc(0), LABEL, 32)));
    this.#signingId = keyring.minting.id;
  }

  /** The header value that authenticates the revocation of `ufrag`. */
  sign(ufrag: string): string {
    return `v1.${this.#signingId}.${this.#mac(this.#keys.get(this.#signingId)!, ufrag).toString('base64url')}`;
  }

  /** Whether `header` authenticates the revocation of `ufrag` (a token's text) under a key of the keyring. */
  verify(ufrag: string, header: string | undefined): boolean {
    const m = /^v1\.(\d{1,3})\.([A-Za-z0-9_-]{43})$/.exec(header ?? '');
    if (!m || !TOKEN_TEXT.test(ufrag)) return false;
    const key = this.#keys.get(Number(m[1]));
    const mac = Buffer.from(m[2], 'base64url');
    // Canonical text only: the 43rd character carries 2 unused bits.
    if (!key || mac.length !== 32 || mac.toString('base64url') !== m[2]) return false;
    return timingSafeEqual(mac, this.#mac(key, ufrag));
  }

  #mac(key: Buffer, ufrag: string): Buffer {
    return createHmac('sha256', key).update(ufrag).digest();
  }
}

/** POSTs the revocation of `ufrag` to the relay ops listener at `base` (http://HOST:PORT); resolves to the HTTP status. */
export async function postRevocation(base: string, auth: RevocationAuth, ufrag: string, timeoutMs = 2000): Promise<number> {
  const res = await fetch(new URL(REVOCATIONS_PATH, base), {
    method: 'POST',
    body: ufrag,
    headers: { 'content-type': 'text/plain', [REVOCATION_HEADER]: auth.sign(ufrag) },
    signal: AbortSignal.timeout(timeoutMs),
  });
  await res.arrayBuffer();
  return res.status;
}
