// The native X25519, TLS 1.2 PRF, peer certificate keys and signer of native/src/dtls_crypto.c
// behind the core's X25519, Tls12Prf, PeerKeys and Signer interfaces (src/core/dtls/ecdhe.ts,
// prf.ts, certificate.ts, signature.ts): the handshake's ephemeral key exchange in one addon call
// per step, each PRF in one call, the peer's certificate key and signature check in one call
// each, our signature in one call with our key read once per certificate (its ECDSA nonce made
// ahead when the handshake has idle time), with the OpenSSL the
// node binary exports, where node:crypto's KeyObject, Hmac, X509Certificate and sign-job objects
// cost more than the arithmetic (docs/dtls.md, "Native X25519", "Native PRF", "Native peer key",
// "Native signature"). The transceiver hands them to every DTLS endpoint when the addon is built;
// node:crypto's stay the fallback.
// Not here: addon loading in src/core (the core stays free of it; it takes an X25519).
import { nativeAddonLoader } from '../../common/native-addon.ts';
import type { KeyObject } from 'node:crypto';
import type { X25519 } from '../../core/dtls/ecdhe.ts';
import type { Tls12Prf } from '../../core/dtls/prf.ts';
import type { PeerKeys } from '../../core/dtls/certificate.ts';
import { nodeSigner } from '../../core/dtls/signature.ts';
import type { Signer } from '../../core/dtls/signature.ts';
import type { AuthKind } from '../../core/dtls/suites.ts';

/** The addon's functions (native/src/dtls_crypto.c). */
export interface DtlsCryptoAddon {
  /** The private key of a 32-byte scalar; writes its public value into `publicOut` (32 bytes). */
  x25519Key(scalar: Uint8Array, publicOut: Uint8Array): object;
  /** The 32-byte shared secret, or undefined when OpenSSL refuses the peer's value. */
  x25519Agree(key: object, peerPublic: Uint8Array): Buffer | undefined;
  /** RFC 5246 §5: `length` (1..65535) bytes of P_SHA256 (P_SHA384 when `sha384`) over label ‖ seed. */
  tls12Prf(sha384: boolean, secret: Uint8Array, label: Uint8Array, seed: Uint8Array, length: number): Buffer;
  /** The public key of a DER certificate (at most 65535 bytes), or undefined when it does not parse. */
  certificateKey(der: Uint8Array): object | undefined;
  /** ECDSA P-256/P-384 or RSA 2048..4096, else undefined. */
  keyKind(key: object): AuthKind | undefined;
  /** ECDSA (DER) or RSA PKCS#1 v1.5 / PSS over data with SHA-256 or SHA-384; false for a bad or malformed signature. */
  verifySignature(key: object, sha384: boolean, pss: boolean, data: Uint8Array, signature: Uint8Array): boolean;
  /** Our private key from its PKCS#8 DER (at most 65535 bytes): ECDSA P-256/P-384 or RSA 2048..4096, else undefined. */
  signingKey(pkcs8: Uint8Array): object | undefined;
  /** ECDSA (DER) or RSA PKCS#1 v1.5 / PSS (salt = hash length) over data (at most 1 MiB) with SHA-256 or SHA-384. */
  sign(key: object, sha384: boolean, pss: boolean, data: Uint8Array): Buffer;
  /** One more ECDSA nonce made ahead for `key` (a pool of 16), which a later sign takes; false for RSA or a full pool. */
  signPrepare(key: object): boolean;
}

/** The addon, or why it cannot be used (not built, not Linux, fails to load). Cached. */
export const loadDtlsCryptoAddon = nativeAddonLoader<DtlsCryptoAddon>({ file: 'parley_dtls_crypto.node', what: 'the native DTLS crypto' });

/** X25519 through the addon. */
export function nativeX25519(addon: DtlsCryptoAddon): X25519 {
  return {
    keyPair(scalar) {
      const publicKey = Buffer.allocUnsafe(32);
      const key = addon.x25519Key(scalar, publicKey);
      return { publicKey, agree: (peer) => addon.x25519Agree(key, peer) };
    },
  };
}

/** The native X25519 when the addon loads, else node:crypto's (undefined: the endpoint's default). */
export function defaultX25519(): X25519 | undefined {
  const addon = loadDtlsCryptoAddon();
  return addon instanceof Error ? undefined : nativeX25519(addon);
}

/** The labels' bytes: the key schedule's handful of labels, each converted once. */
const LABEL_CACHE_LIMIT = 32;

/** The TLS 1.2 PRF through the addon. */
export function nativePrf(addon: DtlsCryptoAddon): Tls12Prf {
  const labels = new Map<string, Buffer>();
  return (secret, label, seed, length, hash) => {
    let bytes = labels.get(label);
    if (bytes === undefined) {
      bytes = Buffer.from(label, 'latin1');
      // Exporter labels come from the owner: bounded, the key schedule's own stay.
      if (labels.size < LABEL_CACHE_LIMIT) labels.set(label, bytes);
    }
    return addon.tls12Prf(hash === 'sha384', secret, bytes, seed, length);
  };
}

/** The native PRF when the addon loads, else node:crypto's (undefined: the endpoint's default). */
export function defaultPrf(): Tls12Prf | undefined {
  const addon = loadDtlsCryptoAddon();
  return addon instanceof Error ? undefined : nativePrf(addon);
}

/** Peer certificate keys through the addon. */
export function nativePeerKeys(addon: DtlsCryptoAddon): PeerKeys {
  return {
    fromCertificate(der) {
      const key = addon.certificateKey(der);
      if (key === undefined) return undefined;
      return {
        kind: addon.keyKind(key),
        verify: (hash, pss, data, signature) => addon.verifySignature(key, hash === 'sha384', pss, data, signature),
      };
    },
  };
}

/** The native peer keys when the addon loads, else node:crypto's (undefined: the endpoint's default). */
export function defaultPeerKeys(): PeerKeys | undefined {
  const addon = loadDtlsCryptoAddon();
  return addon instanceof Error ? undefined : nativePeerKeys(addon);
}

/**
 * Our signatures through the addon. The KeyObject's key is read into the addon once (its PKCS#8
 * export) and kept as long as the KeyObject lives: one per certificate, as the transceiver has
 * one. A key the addon does not take (another kind) signs through node:crypto.
 */
export function nativeSigner(addon: DtlsCryptoAddon): Signer {
  const keys = new WeakMap<KeyObject, object | undefined>();
  const nativeKey = (key: KeyObject): object | undefined => {
    let native = keys.get(key);
    if (native === undefined && !keys.has(key)) {
      native = addon.signingKey(key.export({ type: 'pkcs8', format: 'der' }));
      keys.set(key, native);
    }
    return native;
  };
  return {
    sign(key, hash, pss, data) {
      const native = nativeKey(key);
      return native === undefined ? nodeSigner.sign(key, hash, pss, data) : addon.sign(native, hash === 'sha384', pss, data);
    },
    prepare(key) {
      const native = nativeKey(key);
      if (native !== undefined) addon.signPrepare(native);
    },
  };
}

/** The native signer when the addon loads, else node:crypto's (undefined: the endpoint's default). */
export function defaultSigner(): Signer | undefined {
  const addon = loadDtlsCryptoAddon();
  return addon instanceof Error ? undefined : nativeSigner(addon);
}
