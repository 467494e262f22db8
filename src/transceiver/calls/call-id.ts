// Routable call ids: with --http-advertise, a call id carries the owning transceiver's HTTP
// address, sealed (AES-256-GCM under a key derived by HKDF, with a label of its own, from each key
// of the routing-token keyring; a type byte of its own), so any replica behind an Ingress can tell
// who holds a call it does not know and forward GET / DELETE / hangup there (http/signaling.ts).
// Without it ids stay random. A client learns nothing from an id (the address is encrypted) and
// cannot forge one (no key). Issue #19: an id is never interchangeable with a routing token (the
// server ICE ufrag, sealed under the keys themselves), an `ek_` client secret or a forward
// signature — other keys, other type bytes — and a replica forwards only to an owner inside
// --replica-cidrs, the networks its replicas live in.
// Layout: `rtc_` + base64url( type 0x63 ‖ key id ‖ iv(12) ‖ ciphertext ‖ GCM tag(16) ), header as
// AAD; plaintext: family(1: 4 or 6) ‖ ip(4 or 16) ‖ port(2) ‖ issued at (Unix s, 4).
// Not here: HTTP forwarding (http/signaling.ts), the call registry (calls/call-registry.ts).
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { TransportAddress } from '../../core/address.ts';
import { addressFromBytes, ipToBytes } from '../../core/address.ts';
import type { CidrSet } from '../../core/cidr.ts';
import type { Rng } from '../../core/rng.ts';
import type { Keyring } from '../../core/token/index.ts';
import { sameAddress } from './session-paths.ts';

const PREFIX = 'rtc_';
const TYPE = 0x63; // 'c': never the routing token's version byte (1) nor a client secret's (0x65)
const INFO = 'parley call id v1 aes-256-gcm';
const HEADER_LEN = 2;
const IV_LEN = 12;
const TAG_LEN = 16;
/** base64url of a sealed IPv4 (41 bytes) or IPv6 (53 bytes) owner; checked before decoding (the decoder is lenient). */
const TEXT = /^rtc_([A-Za-z0-9_-]{55}|[A-Za-z0-9_-]{71})$/;

/** Why an id names no other replica to forward to (for the log; the caller answers 404 either way). */
export type CallIdOwner =
  | { readonly kind: 'forward'; readonly owner: TransportAddress }
  | { readonly kind: 'none' }
  | { readonly kind: 'not_a_replica'; readonly owner: TransportAddress };

export class CallIds {
  readonly #keys = new Map<number, KeyObject>();
  readonly #mintingId: number;
  readonly #owner: TransportAddress | undefined;
  readonly #replicas: CidrSet | undefined;
  readonly #rng: Rng;
  readonly #lifetimeMs: number;

  /**
   * `owner`: this replica's HTTP address as other replicas reach it (undefined: plain random ids).
   * `replicas`: the networks other replicas live in; an id naming an owner outside them is not followed.
   * `lifetimeMs`: how long an id must still route (longest call + how long a closed call is kept).
   */
  constructor(o: { keyring: Keyring; owner: TransportAddress | undefined; replicas?: CidrSet; rng: Rng; lifetimeMs: number }) {
    for (const k of o.keyring.keys) {
      this.#keys.set(k.id, createSecretKey(Buffer.from(hkdfSync('sha256', k.exportSecret(), Buffer.alloc(0), INFO, 32))));
    }
    this.#mintingId = o.keyring.minting.id;
    this.#owner = o.owner;
    this.#replicas = o.replicas;
    this.#rng = o.rng;
    this.#lifetimeMs = o.lifetimeMs;
  }

  /** A new id: `rtc_` + 24 hex digits, or `rtc_` + the sealed owner address (55 or 71 chars). */
  next(wallNow: number): string {
    const owner = this.#owner;
    if (!owner) return `${PREFIX}${this.#rng.bytes(12).toString('hex')}`;
    const ip = ipToBytes(owner.address)!;
    const plaintext = Buffer.alloc(1 + ip.length + 2 + 4);
    plaintext[0] = ip.length === 4 ? 4 : 6;
    ip.copy(plaintext, 1);
    plaintext.writeUInt16BE(owner.port, 1 + ip.length);
    plaintext.writeUInt32BE(Math.floor(wallNow / 1000), 3 + ip.length);
    const header = Buffer.from([TYPE, this.#mintingId]);
    const iv = this.#rng.bytes(IV_LEN);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.#mintingId)!, iv).setAAD(header);
    return PREFIX + Buffer.concat([header, iv, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]).toString('base64url');
  }

  /** Where a request for `id`, a call this replica does not hold, should go. Never throws. */
  ownerOf(id: string, wallNow: number): CallIdOwner {
    if (!this.#owner) return { kind: 'none' };
    const owner = this.#open(id, wallNow);
    if (owner === undefined || sameAddress(owner, this.#owner)) return { kind: 'none' };
    // Issue #19: a sealed id is ours, but a request is passed only to where a replica can be.
    if (this.#replicas !== undefined && !this.#replicas.has(owner.address)) return { kind: 'not_a_replica', owner };
    return { kind: 'forward', owner };
  }

  #open(id: string, wallNow: number): TransportAddress | undefined {
    const m = TEXT.exec(id);
    if (!m) return undefined;
    const sealed = Buffer.from(m[1], 'base64url');
    if (sealed[0] !== TYPE) return undefined;
    const key = this.#keys.get(sealed[1]);
    if (!key) return undefined;
    let pt: Buffer;
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, sealed.subarray(HEADER_LEN, HEADER_LEN + IV_LEN), { authTagLength: TAG_LEN });
      decipher.setAAD(sealed.subarray(0, HEADER_LEN)).setAuthTag(sealed.subarray(sealed.length - TAG_LEN));
      pt = Buffer.concat([decipher.update(sealed.subarray(HEADER_LEN + IV_LEN, sealed.length - TAG_LEN)), decipher.final()]);
    } catch {
      return undefined;
    }
    const ipLen = pt[0] === 4 ? 4 : pt[0] === 6 ? 16 : 0;
    if (ipLen === 0 || pt.length !== 1 + ipLen + 2 + 4) return undefined;
    const issuedAt = pt.readUInt32BE(3 + ipLen) * 1000;
    // Written as !(valid) so a NaN clock fails closed.
    if (!(wallNow < issuedAt + this.#lifetimeMs)) return undefined;
    const port = pt.readUInt16BE(1 + ipLen);
    return port === 0 ? undefined : addressFromBytes(pt.subarray(1, 1 + ipLen), port);
  }
}
