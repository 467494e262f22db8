// Our DTLS identity and the check of the peer's: an ECDSA P-256 key (or, as an option, RSA 2048)
// and a self-signed X.509 v3 certificate (RFC 5280) built with our own DER writer, its SHA-256
// fingerprint in SDP form (RFC 8122 §5: uppercase hex pairs separated by colons), and the
// validation of a peer certificate: its fingerprint (SHA-1, SHA-256, SHA-384 or SHA-512, told
// apart by length) equals the one signalled in SDP (constant-time compare), it parses, and it
// carries an ECDSA P-256/P-384 or RSA 2048..4096 key (./signature.ts). WebRTC trusts certificates only through that fingerprint
// (RFC 8827 §6.5), so there is no chain, name or validity-date check — on purpose.
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  hash,
  sign,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Rng } from '../rng.ts';
import { AlertDescription, DtlsCode, DtlsError } from './errors.ts';
import { keyKind, verifyWithKeyObject } from './signature.ts';
import type { PeerKey } from './signature.ts';
import type { AuthKind } from './suites.ts';
import { p256Scalar } from './ecdhe.ts';
import { bitString, explicit, oid, sequence, set, unsignedInteger, utcTime, utf8String } from './der.ts';

/**
 * Reads the key of a peer's certificate (DtlsOptions.peerKeys): node:crypto's below by default,
 * the native one of native/src/dtls_crypto.c in the transceiver.
 */
export interface PeerKeys {
  /** The public key of a DER X.509 certificate, or undefined when it does not parse. */
  fromCertificate(der: Buffer): PeerKey | undefined;
}

/** Through node:crypto: an X509Certificate, its publicKey and the key's details. */
export const nodePeerKeys: PeerKeys = {
  fromCertificate(der) {
    let key: KeyObject;
    try {
      key = new X509Certificate(der).publicKey;
    } catch {
      return undefined;
    }
    return { kind: keyKind(key), verify: (hash, pss, data, signature) => verifyWithKeyObject(key, hash, pss, data, signature) };
  },
};

export interface DtlsCertificate {
  privateKey: KeyObject;
  der: Buffer;
  /** SHA-256 fingerprint, 'AB:CD:…' uppercase, as in an SDP a=fingerprint line. */
  fingerprint: string;
}

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
const OID_SHA256_WITH_RSA = '1.2.840.113549.1.1.11';
/** RFC 4055 §5: an RSA PKCS#1 v1.5 AlgorithmIdentifier carries an explicit NULL parameter. */
const DER_NULL = Buffer.from([0x05, 0x00]);
const OID_COMMON_NAME = '2.5.4.3';

function p256KeyFromRng(rng: Rng): KeyObject {
  const d = p256Scalar(rng);
  const ecdh = createECDH('prime256v1');
  ecdh.setPrivateKey(d);
  const point = ecdh.getPublicKey();
  return createPrivateKey({
    key: {
      kty: 'EC',
      crv: 'P-256',
      d: d.toString('base64url'),
      x: point.subarray(1, 33).toString('base64url'),
      y: point.subarray(33, 65).toString('base64url'),
    },
    format: 'jwk',
  });
}

export function formatFingerprint(digest: Buffer): string {
  return [...digest].map((b) => b.toString(16).padStart(2, '0').toUpperCase()).join(':');
}

export function fingerprintOf(der: Buffer): string {
  return formatFingerprint(createHash('sha256').update(der).digest());
}

/** RFC 8122 §5 hashes we check, by digest length: sha-1 (old peers), sha-256, sha-384, sha-512. */
const FINGERPRINT_HASH: Readonly<Record<number, string>> = { 20: 'sha1', 32: 'sha256', 48: 'sha384', 64: 'sha512' };
/** One hex digit's value, or -1 (any case, as SDP allows). */
function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x61 + 10 : -1;
}

/**
 * Parses 'AB:CD:…' (any case, as SDP allows) into its digest bytes, or undefined unless it is a
 * SHA-1, SHA-256, SHA-384 or SHA-512 digest (20, 32, 48 or 64 bytes: the length names the hash).
 * Decoded in one pass (it runs once per association): hex pairs joined by single colons.
 */
export function parseFingerprint(text: string): Buffer | undefined {
  const t = text.trim();
  const n = (t.length + 1) / 3;
  if (FINGERPRINT_HASH[n] === undefined) return undefined;
  const digest = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const at = 3 * i;
    const hi = hexDigit(t.charCodeAt(at));
    const lo = hexDigit(t.charCodeAt(at + 1));
    if (hi < 0 || lo < 0 || (i + 1 < n && t.charCodeAt(at + 2) !== 0x3a)) return undefined;
    digest[i] = (hi << 4) | lo;
  }
  return digest;
}

/**
 * Makes a key and a self-signed certificate for it: ECDSA P-256 by default (small, fast to sign
 * with, what browsers use), or RSA 2048 for peers that need one. With `rng` the serial — and an
 * ECDSA key — come from it (seeded tests repeat; an RSA key always comes from node's CSPRNG:
 * its prime search cannot be fed from a seed); without, node's CSPRNG — this runs once per
 * process. Validity is fixed (2020-01-01 to 2049-12-31) because the core has no clock and WebRTC
 * peers authenticate the certificate by fingerprint only.
 */
export function generateCertificate(rng?: Rng, kind: AuthKind = 'ecdsa'): DtlsCertificate {
  const privateKey =
    kind === 'rsa'
      ? generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey
      : rng
        ? p256KeyFromRng(rng)
        : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; unique per key, so derive it.
  const serial = rng ? rng.bytes(16) : createHash('sha256').update(spki).digest().subarray(0, 16);
  serial[0] &= 0x7f;
  const algorithm = kind === 'rsa' ? sequence(oid(OID_SHA256_WITH_RSA), DER_NULL) : sequence(oid(OID_ECDSA_WITH_SHA256));
  const name = sequence(set(sequence(oid(OID_COMMON_NAME), utf8String('parley'))));
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.from([2]))), // version v3
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(utcTime('200101000000Z'), utcTime('491231235959Z')),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, kind === 'rsa' ? privateKey : { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  return { privateKey, der, fingerprint: fingerprintOf(der) };
}

/**
 * Checks the peer's certificate chain (first entry is theirs) against the SDP fingerprint (a
 * digest parseFingerprint returned) and returns its public key. Fingerprint first: a certificate
 * we were not told about is rejected before we spend anything on parsing it.
 */
export function verifyPeerCertificate(chain: readonly Buffer[], expected: Buffer, peerKeys: PeerKeys): PeerKey {
  if (chain.length === 0) {
    throw new DtlsError(DtlsCode.noClientCertificate, 'peer sent no certificate', AlertDescription.handshakeFailure);
  }
  // One-shot (crypto.hash): once per handshake, on the step between the peer's flight and ours.
  const digest = hash(FINGERPRINT_HASH[expected.length] ?? 'sha256', chain[0], 'buffer');
  if (digest.length !== expected.length || !timingSafeEqual(digest, expected)) {
    throw new DtlsError(
      DtlsCode.fingerprintMismatch,
      'peer certificate does not match the SDP fingerprint',
      AlertDescription.badCertificate,
    );
  }
  const key = peerKeys.fromCertificate(chain[0]);
  if (key === undefined) throw new DtlsError(DtlsCode.badCertificate, 'peer certificate does not parse', AlertDescription.badCertificate);
  if (key.kind === undefined) {
    throw new DtlsError(
      DtlsCode.badCertificate,
      'peer certificate key is not ECDSA P-256/P-384 or RSA 2048..4096',
      AlertDescription.unsupportedCertificate,
    );
  }
  return key;
}
