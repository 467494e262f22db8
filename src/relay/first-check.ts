// What a first check (a STUN Binding Request from an unknown client address, or a TCP client's
// first frame) must prove with cryptography, between route.ts verifyCheck's rate limit and its
// destination check: its routing token opens (token.ts open), and its MESSAGE-INTEGRITY verifies
// with the password derived from that token (token.ts derivePassword, stun/raw.ts checkIntegrity).
// Two verifiers that give the same answer for every input (test/relay/first-check.test.ts):
//   - the TypeScript one, over node:crypto — where the native addon is not built;
//   - the native one, the relay addon's checkFirst (native/src/first_check.h): the same steps in
//     one call, with no node:crypto object (cipher, Hmac, KeyObject) per step and no string or
//     Buffer made but the destination (docs/performance.md, "relayc").
// Each rejection is the drop reason the worker counts it as.
import type { TransportAddress } from '../core/address.ts';
import { addressFromBytes } from '../core/address.ts';
import { checkIntegrity } from '../core/stun/index.ts';
import type { Keyring, OpenOptions, TokenRejection } from '../core/token/index.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, derivePassword, open } from '../core/token/index.ts';
import { FAMILY_V4, PT_FAMILY, PT_IP, PT_PORT, PT_TIME } from '../core/token/format.ts';
import { NATIVE_CHECK_RESULTS } from '../contracts/relay-native.ts';
import type { DropReason } from './stats.ts';

/** Each reason open() gives its own drop reason, so operators tell a rotated-away key from an expired token. */
export const TOKEN_DROP = {
  malformed: 'token_malformed',
  unsupported_version: 'token_unsupported_version',
  unknown_key: 'token_unknown_key',
  bad_tag: 'token_bad_tag',
  not_yet_valid: 'token_not_yet_valid',
  expired: 'token_expired',
} as const satisfies Record<TokenRejection, DropReason>;

export type FirstCheckResult =
  | { readonly ok: true; readonly destination: TransportAddress; readonly issuedAt: number }
  | { readonly ok: false; readonly reason: DropReason };

export interface FirstCheckVerifier {
  /** Which implementation answers (logged at start; the tests assert it). */
  readonly kind: 'native' | 'typescript';
  /** The native one: the addon's copy of the sub-keys, and the options it verifies with (for the loop's own first checks). */
  readonly native?: { readonly keys: object; readonly lifetimeMs: number; readonly clockSkewMs: number };
  /** `ufrag`: the USERNAME's part before ':' (non-empty). */
  verify(packet: Buffer, ufrag: string, now: number): FirstCheckResult;
}

/** open() + derivePassword() + checkIntegrity() over node:crypto. */
export function verifyFirstCheck(keyring: Keyring, options: OpenOptions, packet: Buffer, ufrag: string, now: number): FirstCheckResult {
  const opened = open(ufrag, keyring, now, options);
  if (!opened.ok) return { ok: false, reason: TOKEN_DROP[opened.reason] };
  // Cannot fail for a token that opened (its key is in the ring); counted as its cause if it does.
  const pwd = derivePassword(ufrag, keyring);
  if (pwd === undefined) return { ok: false, reason: 'token_unknown_key' };
  if (!checkIntegrity(packet, pwd)) return { ok: false, reason: 'bad_integrity' };
  return { ok: true, destination: opened.destination, issuedAt: opened.issuedAt };
}

/** verifyFirstCheck as a verifier. */
export function typescriptFirstCheck(keyring: Keyring, options: OpenOptions = {}): FirstCheckVerifier {
  return { kind: 'typescript', verify: (packet, ufrag, now) => verifyFirstCheck(keyring, options, packet, ufrag, now) };
}

/** The relay addon's two calls this verifier uses (NativeAddon, datapath-native.ts, has them). */
export interface NativeCheckCalls {
  /** The sub-keys of every key, [id, enc, mac, pwd] (TokenKey.exportSubKeys) → an opaque handle. */
  checkKeys(keys: [number, Buffer, Buffer, Buffer][]): object;
  /** → an index into NATIVE_CHECK_RESULTS; on 0 `out` holds the token's family, IP, port and issue time (format.ts PT_*). */
  checkFirst(keys: object, packet: Buffer, ufrag: string, now: number, lifetimeMs: number, clockSkewMs: number, out: Buffer): number;
}

/** The same answers from the addon's checkFirst (native/src/first_check.h). */
export function nativeFirstCheck(addon: NativeCheckCalls, keyring: Keyring, options: OpenOptions = {}): FirstCheckVerifier {
  const subKeys = keyring.keys.map((k): [number, Buffer, Buffer, Buffer] => {
    const s = k.exportSubKeys();
    return [k.id, s.enc, s.mac, s.pwd];
  });
  const keys = addon.checkKeys(subKeys);
  // The addon holds its own copy; these leave no key material behind in the JS heap.
  for (const [, ...buffers] of subKeys) for (const b of buffers) b.fill(0);
  const lifetimeMs = options.lifetimeMs ?? DEFAULT_TOKEN_LIFETIME_MS;
  const clockSkewMs = options.clockSkewMs ?? DEFAULT_CLOCK_SKEW_MS;
  const out = Buffer.alloc(PT_TIME + 4);
  return {
    kind: 'native',
    native: { keys, lifetimeMs, clockSkewMs },
    verify(packet, ufrag, now) {
      const rc = addon.checkFirst(keys, packet, ufrag, now, lifetimeMs, clockSkewMs, out);
      const result = NATIVE_CHECK_RESULTS[rc];
      if (result === undefined) throw new RangeError(`checkFirst returned ${rc}`);
      if (result !== 'verified') return { ok: false, reason: result };
      const ipLen = out[PT_FAMILY] === FAMILY_V4 ? 4 : 16;
      const destination = addressFromBytes(out.subarray(PT_IP, PT_IP + ipLen), out.readUInt16BE(PT_PORT));
      return { ok: true, destination, issuedAt: out.readUInt32BE(PT_TIME) * 1000 };
    },
  };
}
