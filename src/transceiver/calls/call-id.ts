// Routable call ids: with --http-advertise, a call id carries the owning transceiver's HTTP
// address, sealed like a routing token (authenticated encryption under the shared keyring,
// src/core/token), so any replica behind an Ingress can tell who holds a call it does not
// know and forward GET / DELETE / hangup there (http/signaling.ts). Without it ids stay random.
// A client learns nothing from an id (the address is encrypted) and cannot forge one (no key);
// the pointer cannot open a relay flow either, since the client cannot derive its ICE password.
// Not here: HTTP forwarding (http/signaling.ts), the call registry (calls/call-registry.ts).
import type { TransportAddress } from '../../core/address.ts';
import { sameAddress } from './session-paths.ts';
import type { Rng } from '../../core/rng.ts';
import { mint, open } from '../../core/token/index.ts';
import type { Keyring } from '../../core/token/index.ts';

const PREFIX = 'rtc_';

/** Token text (RFC 8839 ice-chars) → URL path segment: '+' and '/' are not path-safe. */
function toPath(ufrag: string): string {
  return ufrag.replaceAll('+', '-').replaceAll('/', '_');
}

function fromPath(text: string): string {
  return text.replaceAll('-', '+').replaceAll('_', '/');
}

export class CallIds {
  readonly #keyring: Keyring;
  readonly #owner: TransportAddress | undefined;
  readonly #rng: Rng;
  readonly #lifetimeMs: number;

  /**
   * `owner`: this replica's HTTP address as other replicas reach it (undefined: plain random ids).
   * `lifetimeMs`: how long an id must still route (longest call + how long a closed call is kept).
   */
  constructor(o: { keyring: Keyring; owner: TransportAddress | undefined; rng: Rng; lifetimeMs: number }) {
    this.#keyring = o.keyring;
    this.#owner = o.owner;
    this.#rng = o.rng;
    this.#lifetimeMs = o.lifetimeMs;
  }

  /** A new id: `rtc_` + 24 hex digits, or `rtc_` + the sealed owner address (64 chars). */
  next(wallNow: number): string {
    if (!this.#owner) return `${PREFIX}${this.#rng.bytes(12).toString('hex')}`;
    return PREFIX + toPath(mint(this.#owner, this.#keyring, wallNow, this.#rng).ufrag);
  }

  /** The replica that minted `id`, when it is another one than this; undefined otherwise. */
  ownerOf(id: string, wallNow: number): TransportAddress | undefined {
    if (!this.#owner || !id.startsWith(PREFIX) || id.length !== PREFIX.length + 64) return undefined;
    const r = open(fromPath(id.slice(PREFIX.length)), this.#keyring, wallNow, { lifetimeMs: this.#lifetimeMs });
    if (!r.ok || sameAddress(r.destination, this.#owner)) return undefined;
    return r.destination;
  }
}
