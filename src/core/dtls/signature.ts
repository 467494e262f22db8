// The signature schemes of our handshakes (RFC 5246 §7.4.1.4.1 as extended by RFC 8446 §4.2.3,
// whose code points TLS 1.2 also uses) and the certificate keys they go with: ECDSA on P-256 or
// P-384, RSA 2048..4096 bits with PKCS#1 v1.5 or PSS (rsae: an ordinary rsaEncryption key,
// salt length = hash length, RFC 8446 §4.2.3). Signing picks the first scheme of our preference
// the peer offered that suits our key; verifying accepts only a scheme we offered that suits the
// peer's key. Not here: SHA-1 or SHA-224 schemes, EdDSA, rsa_pss_pss keys, DSA.
import { constants, sign, verify } from 'node:crypto';
import type { KeyObject, SigningOptions } from 'node:crypto';
import { AlertDescription, DtlsCode, DtlsError } from './errors.ts';
import type { Signed } from './handshake.ts';
import type { AuthKind } from './suites.ts';

export const SignatureScheme = {
  ecdsa_secp256r1_sha256: 0x0403,
  ecdsa_secp384r1_sha384: 0x0503,
  rsa_pss_rsae_sha256: 0x0804,
  rsa_pss_rsae_sha384: 0x0805,
  rsa_pkcs1_sha256: 0x0401,
  rsa_pkcs1_sha384: 0x0501,
} as const;

interface Scheme {
  readonly kind: AuthKind;
  readonly hash: 'sha256' | 'sha384';
  readonly pss: boolean;
}

const SCHEMES = new Map<number, Scheme>([
  [SignatureScheme.ecdsa_secp256r1_sha256, { kind: 'ecdsa', hash: 'sha256', pss: false }],
  [SignatureScheme.ecdsa_secp384r1_sha384, { kind: 'ecdsa', hash: 'sha384', pss: false }],
  // PSS before PKCS#1 v1.5: the better-analysed padding when the peer has both (RFC 8446 §4.2.3).
  [SignatureScheme.rsa_pss_rsae_sha256, { kind: 'rsa', hash: 'sha256', pss: true }],
  [SignatureScheme.rsa_pss_rsae_sha384, { kind: 'rsa', hash: 'sha384', pss: true }],
  [SignatureScheme.rsa_pkcs1_sha256, { kind: 'rsa', hash: 'sha256', pss: false }],
  [SignatureScheme.rsa_pkcs1_sha384, { kind: 'rsa', hash: 'sha384', pss: false }],
]);

/** What we put in signature_algorithms and CertificateRequest, in our preference order. */
export const SIGNATURE_PREFERENCE: readonly number[] = [...SCHEMES.keys()];

const EC_CURVES = new Set(['prime256v1', 'secp384r1']);

/** keyKind's answers: our certificate's key is asked about several times per handshake. */
const KINDS = new WeakMap<KeyObject, AuthKind | undefined>();

/** The kind of a certificate key we accept (ours or a peer's), or undefined. */
export function keyKind(key: KeyObject): AuthKind | undefined {
  if (KINDS.has(key)) return KINDS.get(key);
  const kind = kindOf(key);
  KINDS.set(key, kind);
  return kind;
}

function kindOf(key: KeyObject): AuthKind | undefined {
  const d = key.asymmetricKeyDetails;
  if (key.asymmetricKeyType === 'ec') return EC_CURVES.has(d?.namedCurve ?? '') ? 'ecdsa' : undefined;
  if (key.asymmetricKeyType === 'rsa') {
    const bits = d?.modulusLength ?? 0;
    return bits >= 2048 && bits <= 4096 ? 'rsa' : undefined;
  }
  return undefined;
}

/** The first scheme of our preference that `offered` lists and our key can make, or undefined. */
export function chooseScheme(key: KeyObject, offered: readonly number[]): number | undefined {
  const kind = keyKind(key);
  return SIGNATURE_PREFERENCE.find((id) => offered.includes(id) && SCHEMES.get(id)!.kind === kind);
}

/**
 * The key for node's sign/verify: the KeyObject itself where node's defaults are the scheme's
 * (DER-encoded ECDSA, PKCS#1 v1.5 padding), an options object only for PSS. Node inspects an
 * options object at length before it finds the key inside (a third of an ECDSA signature's cost).
 */
function options(key: KeyObject, pss: boolean): KeyObject | (SigningOptions & { key: KeyObject }) {
  if (pss) return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST };
  return key;
}

/** The peer's certificate key as the handshake uses it (read by a PeerKeys, ./certificate.ts). */
export interface PeerKey {
  /** Its kind among those we accept (ECDSA P-256/P-384, RSA 2048..4096), or undefined. */
  readonly kind: AuthKind | undefined;
  /**
   * Whether `signature` signs `data` with `hash` (ECDSA: DER-encoded; RSA: PSS with salt = hash
   * length when `pss`, else PKCS#1 v1.5). False, never a throw, for a malformed signature.
   */
  verify(hash: 'sha256' | 'sha384', pss: boolean, data: Buffer, signature: Buffer): boolean;
}

/** node:crypto's check of a signature by `key`, as PeerKey.verify defines it. */
export function verifyWithKeyObject(key: KeyObject, hash: 'sha256' | 'sha384', pss: boolean, data: Buffer, signature: Buffer): boolean {
  try {
    return verify(hash, data, options(key, pss), signature);
  } catch {
    return false; // a malformed signature is just a bad signature
  }
}

/**
 * Signs with our certificate's private key (ServerKeyExchange, CertificateVerify): ECDSA
 * DER-encoded, RSA PSS with salt = hash length when `pss`, else PKCS#1 v1.5. The transceiver
 * passes the native one (src/transceiver/media/dtls-crypto-native.ts); default node:crypto's.
 */
export interface Signer {
  sign(key: KeyObject, hash: 'sha256' | 'sha384', pss: boolean, data: Buffer): Buffer;
  /**
   * Idle work for a signature to come: the native signer makes one ECDSA nonce ahead (k⁻¹ and r,
   * most of a signature's cost) that the next sign by `key` takes. Optional; a no-op for RSA.
   */
  prepare?(key: KeyObject): void;
}

/** node:crypto's one-shot sign, as Signer defines it. */
export const nodeSigner: Signer = {
  sign: (key, hash, pss, data) => sign(hash, data, options(key, pss)),
};

/** A digitally-signed struct over `data` with `scheme` (one chooseScheme returned). */
export function signWith(signer: Signer, key: KeyObject, scheme: number, data: Buffer): Signed {
  const s = SCHEMES.get(scheme)!;
  return { algorithm: scheme, signature: signer.sign(key, s.hash, s.pss, data) };
}

/**
 * Throws unless `signed` is a scheme we offered, suits the peer's key, and verifies over `data`:
 * illegal_parameter for a scheme we never offered or one that does not fit the key (RFC 5246
 * §7.4.1.4.1), ERR_DTLS_BAD_SIGNATURE (decrypt_error, RFC 5246 §7.2.2) for a bad signature.
 */
export function verifySigned(key: PeerKey, data: Buffer, signed: Signed, what: string): void {
  const s = SCHEMES.get(signed.algorithm);
  if (s === undefined || s.kind !== key.kind) {
    throw new DtlsError(
      DtlsCode.illegalParameter,
      `${what} uses signature scheme 0x${signed.algorithm.toString(16).padStart(4, '0')}, which we did not offer for this key`,
      AlertDescription.illegalParameter,
    );
  }
  if (!key.verify(s.hash, s.pss, data, signed.signature))
    throw new DtlsError(DtlsCode.badSignature, `${what} signature does not verify`, AlertDescription.decryptError);
}
