// Our DTLS identity and the check of the peer's: an ECDSA P-256 key and a self-signed X.509 v3
// certificate (RFC 5280) built with our own DER writer, its SHA-256 fingerprint in SDP form
// (RFC 8122 §5: uppercase hex pairs separated by colons), and the validation of a peer
// certificate: it parses, carries a P-256 key, and its fingerprint equals the one signalled in
// SDP (constant-time compare). WebRTC trusts certificates only through that fingerprint
// (RFC 8827 §6.5), so there is no chain, name or validity-date check — on purpose.
import {
  createECDH,
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  timingSafeEqual,
  X509Certificate,
} from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import type { Rng } from '../rng.ts';
import { AlertDescription, DtlsCode, DtlsError } from './errors.ts';
import { p256Scalar } from './ecdhe.ts';
import { bitString, explicit, oid, sequence, set, unsignedInteger, utcTime, utf8String } from './der.ts';

export interface DtlsCertificate {
  privateKey: KeyObject;
  der: Buffer;
  /** SHA-256 fingerprint, 'AB:CD:…' uppercase, as in an SDP a=fingerprint line. */
  fingerprint: string;
}

const OID_ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';
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

/** Parses 'AB:CD:…' (any case, as SDP allows) into 32 bytes, or undefined if it is not one. */
export function parseFingerprint(text: string): Buffer | undefined {
  const parts = text.trim().split(':');
  if (parts.length !== 32 || !parts.every((p) => /^[0-9A-Fa-f]{2}$/.test(p))) return undefined;
  return Buffer.from(parts.join(''), 'hex');
}

/**
 * Makes an ECDSA P-256 key and a self-signed certificate for it. With `rng` the key and serial
 * come from it (seeded tests repeat); without, the key comes from node's CSPRNG — this runs once
 * per process. Validity is fixed (2020-01-01 to 2049-12-31) because the core has no clock and
 * WebRTC peers authenticate the certificate by fingerprint only.
 */
export function generateCertificate(rng?: Rng): DtlsCertificate {
  const privateKey = rng ? p256KeyFromRng(rng) : generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const spki = createPublicKey(privateKey).export({ type: 'spki', format: 'der' });
  // RFC 5280 §4.1.2.2: a positive serial of at most 20 octets; unique per key, so derive it.
  const serial = rng ? rng.bytes(16) : createHash('sha256').update(spki).digest().subarray(0, 16);
  serial[0] &= 0x7f;
  const algorithm = sequence(oid(OID_ECDSA_WITH_SHA256));
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
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  return { privateKey, der, fingerprint: fingerprintOf(der) };
}

/**
 * Checks the peer's certificate chain (first entry is theirs) against the SDP fingerprint and
 * returns its public key. Fingerprint first: a certificate we were not told about is rejected
 * before we spend anything on parsing it.
 */
export function verifyPeerCertificate(chain: readonly Buffer[], expected: Buffer): KeyObject {
  if (chain.length === 0) {
    throw new DtlsError(DtlsCode.noClientCertificate, 'peer sent no certificate', AlertDescription.handshakeFailure);
  }
  const digest = createHash('sha256').update(chain[0]).digest();
  if (!timingSafeEqual(digest, expected)) {
    throw new DtlsError(
      DtlsCode.fingerprintMismatch,
      'peer certificate does not match the SDP fingerprint',
      AlertDescription.badCertificate,
    );
  }
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(chain[0]);
  } catch {
    throw new DtlsError(DtlsCode.badCertificate, 'peer certificate does not parse', AlertDescription.badCertificate);
  }
  const key = cert.publicKey;
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new DtlsError(DtlsCode.badCertificate, 'peer certificate key is not ECDSA P-256', AlertDescription.unsupportedCertificate);
  }
  return key;
}
