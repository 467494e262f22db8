// Forwarded call requests (http/signaling.ts, routable ids in calls/call-id.ts): the replica that gets a
// request for a call another replica holds has already checked the caller's API key, so it does
// not pass that key on. It signs the request instead — HMAC-SHA256 over method, request target
// and an expiry 10 s ahead, under a key derived (HKDF, its own label) from the routing-token
// keyring every replica shares — and the owner accepts a valid signature in place of the key.
// So whatever answers at an owner's address (a pod that has since been given the IP, say) sees
// a signature good for one request target for seconds, never the caller's API key.
// Header: `x-parley-forwarded: v1.<key id>.<expiry ms>.<base64url mac>`.
import { createHmac, hkdfSync, timingSafeEqual } from 'node:crypto';
import type { Keyring } from '../../core/token/index.ts';

/**
 * Marks a request one replica forwarded to another, so it is never forwarded twice; its value is
 * the forwarder's signature, which stands in for the caller's API key.
 */
export const FORWARDED_HEADER = 'x-parley-forwarded';
export const FORWARD_VALID_MS = 10_000;
/** Replicas' wall clocks may disagree by this much (NTP-synced nodes: far less). */
const MAX_SKEW_MS = 30_000;
const LABEL = 'parley forwarded call request v1';

export class ForwardAuth {
  readonly #keys = new Map<number, Buffer>();
  readonly #signingId: number;

  constructor(keyring: Keyring) {
    for (const k of keyring.keys) {
      this.#keys.set(k.id, Buffer.from(hkdfSync('sha256', k.exportSecret(), Buffer.alloc(0), LABEL, 32)));
    }
    this.#signingId = keyring.minting.id;
  }

  /** The header value for forwarding `method target` (target = path + query) at wall time `now`. */
  sign(method: string, target: string, now: number): string {
    const expires = now + FORWARD_VALID_MS;
    return `v1.${this.#signingId}.${expires}.${this.#mac(this.#keys.get(this.#signingId)!, method, target, expires).toString('base64url')}`;
  }

  /** True when `header` is a valid, unexpired signature of `method target` under a key of the keyring. */
  verify(header: string | undefined, method: string, target: string, now: number): boolean {
    const m = /^v1\.(\d{1,3})\.(\d{1,16})\.([A-Za-z0-9_-]{43})$/.exec(header ?? '');
    if (!m) return false;
    const key = this.#keys.get(Number(m[1]));
    const expires = Number(m[2]);
    if (!key || expires < now || expires > now + FORWARD_VALID_MS + MAX_SKEW_MS) return false;
    const mac = Buffer.from(m[3], 'base64url');
    // Canonical text only: the 43rd character carries 2 unused bits, so 4 texts decode alike.
    if (mac.length !== 32 || mac.toString('base64url') !== m[3]) return false;
    return timingSafeEqual(mac, this.#mac(key, method, target, expires));
  }

  #mac(key: Buffer, method: string, target: string, expires: number): Buffer {
    return createHmac('sha256', key).update(`${method}\n${target}\n${expires}`).digest();
  }
}
