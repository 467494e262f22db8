// Mint and open routing tokens (the server ICE ufrag), and derive the ICE password from one.
// Pure functions over a Keyring: time is the `now` parameter (ms), randomness the injected Rng.
// `open` and `derivePassword` run on the relay's first-packet path, so they never throw on
// hostile input: they return a rejection reason. The construction is explained in docs/token.md.
import type { TransportAddress } from '../address.ts';
import { addressFromBytes, ipToBytes } from '../address.ts';
import type { Rng } from '../rng.ts';
import type { TokenRejection } from './errors.ts';
import {
  FAMILY_V4,
  FAMILY_V6,
  HEADER_LEN,
  NONCE_LEN,
  PLAINTEXT_LEN,
  PT_FAMILY,
  PT_IP,
  PT_NONCE,
  PT_PORT,
  PT_TIME,
  TOKEN_BYTES,
  TOKEN_VERSION,
  fromIceChars,
  toIceChars,
} from './format.ts';
import type { Keyring } from './keyring.ts';

/**
 * Default token lifetime: 24 h. The relay opens the token again whenever a call's client address
 * changes (NAT rebinding, Wi-Fi → cellular, ICE restart to the same ufrag), so the lifetime
 * must outlive the longest call, not just call setup. A stolen token only lets its holder send
 * STUN checks that still need the ICE password, so a long lifetime costs little.
 */
export const DEFAULT_TOKEN_LIFETIME_MS = 24 * 60 * 60 * 1000;
/** Default allowance for clocks of minter and relay disagreeing (NTP keeps pods well within it). */
export const DEFAULT_CLOCK_SKEW_MS = 60 * 1000;

export interface OpenOptions {
  /** How long after issue a token opens. Default DEFAULT_TOKEN_LIFETIME_MS. */
  readonly lifetimeMs?: number;
  /** How far in the future an issue time may be. Default DEFAULT_CLOCK_SKEW_MS. */
  readonly clockSkewMs?: number;
}

export type OpenResult =
  { ok: true; destination: TransportAddress; keyId: number; issuedAt: number; expiresAt: number } | { ok: false; reason: TokenRejection };

export interface MintResult {
  ufrag: string;
  pwd: string;
  keyId: number;
}

/**
 * Seals a token's plaintext with one key and derives its password: TokenKey.seal (as ice-chars)
 * and TokenKey.password in one step. mint() uses the minting key's own methods unless given one;
 * the transceiver's native sealer (src/transceiver/calls/native-token-sealer.ts) gives the same
 * ufrag and password for every plaintext.
 */
export interface TokenSealer {
  /** The key it seals with: mint() refuses it for a keyring that mints with another. */
  readonly keyId: number;
  /** `plaintext`: PLAINTEXT_LEN bytes (format.ts). */
  seal(plaintext: Buffer): { readonly ufrag: string; readonly pwd: string };
}

/**
 * Mints a token for `destination` with the keyring's minting key (sealed by `sealer` when given).
 * `now` (ms) is stored with one-second precision. Throws RangeError on a destination or time it
 * cannot encode, or a sealer for another key — a programming error on the minting side, never on
 * the relay's path.
 */
export function mint(destination: TransportAddress, keyring: Keyring, now: number, rng: Rng, sealer?: TokenSealer): MintResult {
  const ip = ipToBytes(destination.address);
  const family = destination.family === 'IPv4' ? FAMILY_V4 : destination.family === 'IPv6' ? FAMILY_V6 : 0;
  if (!ip || ip.length !== (family === FAMILY_V4 ? 4 : 16)) {
    throw new RangeError(`cannot mint a token for '${destination.address}' (${destination.family}): not a literal IP of that family`);
  }
  if (!Number.isInteger(destination.port) || destination.port < 1 || destination.port > 65535) {
    throw new RangeError(`cannot mint a token for port ${destination.port}`);
  }
  const seconds = Math.floor(now / 1000);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 0xffffffff) throw new RangeError(`time ${now} out of range`);
  const nonce = rng.bytes(NONCE_LEN);
  if (nonce.length !== NONCE_LEN) throw new RangeError('rng returned the wrong number of bytes');

  const plaintext = Buffer.alloc(PLAINTEXT_LEN);
  plaintext[PT_FAMILY] = family;
  ip.copy(plaintext, PT_IP);
  plaintext.writeUInt16BE(destination.port, PT_PORT);
  plaintext.writeUInt32BE(seconds, PT_TIME);
  nonce.copy(plaintext, PT_NONCE);

  const key = keyring.minting;
  if (sealer !== undefined) {
    if (sealer.keyId !== key.id) throw new RangeError(`the sealer seals with key ${sealer.keyId}; the keyring mints with key ${key.id}`);
    const { ufrag, pwd } = sealer.seal(plaintext);
    return { ufrag, pwd, keyId: key.id };
  }
  const header = Buffer.from([TOKEN_VERSION, key.id]);
  const ufrag = toIceChars(key.seal(header, plaintext));
  return { ufrag, pwd: key.password(ufrag), keyId: key.id };
}

/** Opens a token. Never throws; checks run cheapest first and the tag before anything secret. */
export function open(ufrag: string, keyring: Keyring, now: number, options: OpenOptions = {}): OpenResult {
  // 64 ice-chars ↔ 48 bytes is a bijection (no spare bits), so exactly one text opens per token.
  const bytes = fromIceChars(ufrag);
  if (!bytes || bytes.length < HEADER_LEN) return { ok: false, reason: 'malformed' };
  if (bytes[0] !== TOKEN_VERSION) return { ok: false, reason: 'unsupported_version' };
  const key = keyring.get(bytes[1]);
  if (!key) return { ok: false, reason: 'unknown_key' };
  // A wrong length is a truncated or padded token: from here on everything is "not ours".
  if (bytes.length !== TOKEN_BYTES) return { ok: false, reason: 'bad_tag' };
  const pt = key.unseal(bytes);
  if (!pt) return { ok: false, reason: 'bad_tag' };

  // Authentic, so minted by us; still parse totally (STYLE.md rule 5).
  const family = pt[PT_FAMILY];
  if (family !== FAMILY_V4 && family !== FAMILY_V6) return { ok: false, reason: 'unsupported_version' };
  const ipLen = family === FAMILY_V4 ? 4 : 16;
  if (pt.subarray(PT_IP + ipLen, PT_PORT).some((b) => b !== 0)) return { ok: false, reason: 'malformed' };
  const port = pt.readUInt16BE(PT_PORT);
  if (port === 0) return { ok: false, reason: 'malformed' };

  const issuedAt = pt.readUInt32BE(PT_TIME) * 1000;
  const expiresAt = issuedAt + (options.lifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS);
  // Written as !(valid) so a NaN `now` or option fails closed instead of accepting forever.
  if (!(issuedAt <= now + (options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS))) return { ok: false, reason: 'not_yet_valid' };
  if (!(now < expiresAt)) return { ok: false, reason: 'expired' };

  const destination = addressFromBytes(pt.subarray(PT_IP, PT_IP + ipLen), port);
  return { ok: true, destination, keyId: key.id, issuedAt, expiresAt };
}

/**
 * The ICE password (RFC 8839 ice-pwd, 24 chars) for a ufrag, from the key its header names;
 * undefined when the header is unreadable or names no key in the ring. It does not check the
 * token: call open() first. Cost: one base64 decode of 4 chars and one HMAC.
 */
export function derivePassword(ufrag: string, keyring: Keyring): string | undefined {
  if (fromIceChars(ufrag) === undefined) return undefined;
  const header = Buffer.from(ufrag.slice(0, 4), 'base64');
  if (header[0] !== TOKEN_VERSION) return undefined;
  return keyring.get(header[1])?.password(ufrag);
}
