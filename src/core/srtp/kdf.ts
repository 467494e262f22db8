// SRTP key derivation, RFC 3711 §4.3 with the AES-CM PRF (§4.3.3) and key_derivation_rate 0,
// which is what DTLS-SRTP uses (RFC 5764 §4.1.2). RFC 7714 §11 reuses it unchanged for GCM with
// a 96-bit master salt. Runs once per session, so clarity wins over speed here.
import { createCipheriv } from 'node:crypto';
import { SrtpKeyError } from './errors.ts';
import { SRTP_PROFILES, type SrtpProfileName } from './profile.ts';

/** The session keys of one direction for either RTP or RTCP. */
export interface SessionKeys {
  readonly encKey: Buffer;
  /** Empty for AEAD profiles. */
  readonly authKey: Buffer;
  readonly salt: Buffer;
}

export interface DirectionKeys {
  readonly rtp: SessionKeys;
  readonly rtcp: SessionKeys;
}

// RFC 3711 §4.3.1 labels.
const LABEL = { rtpEnc: 0, rtpAuth: 1, rtpSalt: 2, rtcpEnc: 3, rtcpAuth: 4, rtcpSalt: 5 } as const;

/**
 * PRF_n(k_master, x) with x = key_id XOR master_salt and key_id = label || r (r = 0 as KDR = 0).
 * key_id is 56 bits right-aligned in the 112-bit salt field, so the label lands on byte 7. A
 * 96-bit GCM salt is left-aligned and zero-padded to 112 bits (RFC 7714 §11; libsrtp and pion
 * do the same). The AES-CM input block is x * 2^16, i.e. x followed by a 16-bit block counter,
 * which is exactly AES-128-CTR with that IV for outputs under 2^16 blocks.
 */
export function srtpPrf(masterKey: Buffer, masterSalt: Buffer, label: number, length: number): Buffer {
  const iv = Buffer.alloc(16);
  masterSalt.copy(iv, 0, 0, 14);
  iv[7] ^= label;
  return createCipheriv('aes-128-ctr', masterKey, iv).update(Buffer.alloc(length));
}

/** Derives the six session keys (RFC 3711 §4.3.2) of one direction from its master key and salt. */
export function deriveSessionKeys(profile: SrtpProfileName, masterKey: Buffer, masterSalt: Buffer): DirectionKeys {
  const p = SRTP_PROFILES[profile];
  if (masterKey.length !== p.masterKeyLength) {
    throw new SrtpKeyError(`${profile} needs a ${p.masterKeyLength}-byte master key, got ${masterKey.length}`);
  }
  if (masterSalt.length !== p.masterSaltLength) {
    throw new SrtpKeyError(`${profile} needs a ${p.masterSaltLength}-byte master salt, got ${masterSalt.length}`);
  }
  const k = (label: number, n: number): Buffer => (n === 0 ? Buffer.alloc(0) : srtpPrf(masterKey, masterSalt, label, n));
  return {
    rtp: { encKey: k(LABEL.rtpEnc, 16), authKey: k(LABEL.rtpAuth, p.authKeyLength), salt: k(LABEL.rtpSalt, p.masterSaltLength) },
    rtcp: { encKey: k(LABEL.rtcpEnc, 16), authKey: k(LABEL.rtcpAuth, p.authKeyLength), salt: k(LABEL.rtcpSalt, p.masterSaltLength) },
  };
}

/**
 * Splits DTLS-SRTP keying material (RFC 5764 §4.2):
 * client_write_key | server_write_key | client_write_salt | server_write_salt.
 */
export function splitDtlsKeyingMaterial(
  profile: SrtpProfileName,
  material: Buffer,
): { client: { key: Buffer; salt: Buffer }; server: { key: Buffer; salt: Buffer } } {
  const { masterKeyLength: k, masterSaltLength: s } = SRTP_PROFILES[profile];
  if (material.length !== 2 * (k + s)) {
    throw new SrtpKeyError(`${profile} needs ${2 * (k + s)} bytes of DTLS keying material, got ${material.length}`);
  }
  const at = (start: number, n: number): Buffer => Buffer.from(material.subarray(start, start + n));
  return {
    client: { key: at(0, k), salt: at(2 * k, s) },
    server: { key: at(k, k), salt: at(2 * k + s, s) },
  };
}
