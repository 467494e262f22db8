// The routing token's seal and password in one native call (native/src/token_native.c) for the
// transceiver's mint on the POST's path, where TokenKey's node:crypto route is an Hmac, a
// Cipheriv and a second Hmac, each with a native handle, and the Buffers and strings between
// them (docs/token.md, "Native mint"; docs/performance.md, "post2"). The same ufrag and password
// as TokenKey for every plaintext (test/transceiver/native-token-sealer.test.ts); TokenKey's stay
// the fallback where the addon is not built. Not here: the plaintext, its checks and its nonce
// (token.ts mint).
import { nativeAddonLoader } from '../../common/native-addon.ts';
import { TOKEN_CHARS } from '../../core/token/index.ts';
import type { Keyring, TokenKey, TokenSealer } from '../../core/token/index.ts';

/** The addon's functions (native/src/token_native.c). */
export interface TokenAddon {
  /** One key's id and its three 32-byte sub-keys (TokenKey.exportSubKeys), copied → an opaque handle. */
  sealKey(id: number, enc: Buffer, mac: Buffer, pwd: Buffer): object;
  /** The token as TOKEN_CHARS ice-chars, then its password's 24. */
  seal(key: object, plaintext: Buffer): string;
}

/** The addon, or why it cannot be used (not built, not Linux, fails to load). Cached. */
export const loadTokenAddon = nativeAddonLoader<TokenAddon>({ file: 'parley_token.node', what: 'the native token mint' });

/** Seals with `key` through the addon. */
export function nativeTokenSealer(addon: TokenAddon, key: TokenKey): TokenSealer {
  const sub = key.exportSubKeys();
  const handle = addon.sealKey(key.id, sub.enc, sub.mac, sub.pwd);
  // The addon holds its own copy; these leave no key material behind in the JS heap.
  for (const b of [sub.enc, sub.mac, sub.pwd]) b.fill(0);
  return {
    keyId: key.id,
    seal(plaintext) {
      const sealed = addon.seal(handle, plaintext);
      return { ufrag: sealed.slice(0, TOKEN_CHARS), pwd: sealed.slice(TOKEN_CHARS) };
    },
  };
}

/** The native sealer of the keyring's minting key when the addon loads, else undefined (TokenKey's own). */
export function defaultTokenSealer(keyring: Keyring): TokenSealer | undefined {
  const addon = loadTokenAddon();
  return addon instanceof Error ? undefined : nativeTokenSealer(addon, keyring.minting);
}
