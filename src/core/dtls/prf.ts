// The TLS 1.2 key schedule for our suites (./suites.ts): the PRF with the suite's hash
// (RFC 5246 §5: P_SHA256, or P_SHA384 for the _SHA384 suites), the extended master secret
// (RFC 7627 §4), the key block for an AEAD suite (RFC 5288 §3 and RFC 7905 §2: no MAC keys, then
// the implicit IVs), Finished verify_data (RFC 5246 §7.4.9) and keying-material export (RFC 5705
// §4, used by DTLS-SRTP, RFC 5764 §4.2). The PRF itself is injected (DtlsOptions.prf: the native
// one of native/src/dtls_crypto.c in the transceiver); `prf` below is node:crypto's and the
// default. Not here: sessions, resumption.
import { createHmac, createSecretKey } from 'node:crypto';
import type { CipherSuite, PrfHash } from './suites.ts';

/** The TLS 1.2 PRF (RFC 5246 §5): `length` bytes of P_<hash>(secret, label ‖ seed). */
export type Tls12Prf = (secret: Buffer, label: string, seed: Buffer, length: number, hash: PrfHash) => Buffer;

/**
 * P_hash (RFC 5246 §5): HMAC expansion of `secret` over `label ‖ seed`. The secret becomes one
 * KeyObject for all the HMACs: node checks a Buffer key's type afresh on every createHmac, which
 * costs several times the HMAC itself (docs/performance.md, DTLS handshake rate).
 */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number, hash: PrfHash = 'sha256'): Buffer {
  const key = createSecretKey(secret);
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let total = 0;
  let a = labelSeed;
  while (total < length) {
    a = createHmac(hash, key).update(a).digest();
    const block = createHmac(hash, key).update(a).update(labelSeed).digest();
    out.push(block);
    total += block.length;
  }
  return out.length === 1 ? out[0].subarray(0, length) : Buffer.concat(out, total).subarray(0, length);
}

/** RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash). */
export function extendedMasterSecret(tlsPrf: Tls12Prf, preMaster: Buffer, sessionHash: Buffer, hash: PrfHash): Buffer {
  return tlsPrf(preMaster, 'extended master secret', sessionHash, 48, hash);
}

export interface AeadKeys {
  clientKey: Buffer;
  serverKey: Buffer;
  clientIv: Buffer;
  serverIv: Buffer;
}

/** RFC 5246 §6.3 key block for an AEAD suite: client key, server key, client IV, server IV. */
export function aeadKeyBlock(tlsPrf: Tls12Prf, suite: CipherSuite, master: Buffer, clientRandom: Buffer, serverRandom: Buffer): AeadKeys {
  const k = suite.keyLength;
  const iv = suite.fixedIvLength;
  const kb = tlsPrf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 2 * (k + iv), suite.prfHash);
  return {
    clientKey: kb.subarray(0, k),
    serverKey: kb.subarray(k, 2 * k),
    clientIv: kb.subarray(2 * k, 2 * k + iv),
    serverIv: kb.subarray(2 * k + iv, 2 * (k + iv)),
  };
}

/** RFC 5246 §7.4.9: verify_data = PRF(master, finished_label, Hash(handshake_messages))[0..11]. */
export function finishedVerifyData(
  tlsPrf: Tls12Prf,
  master: Buffer,
  role: 'client' | 'server',
  transcriptHash: Buffer,
  hash: PrfHash,
): Buffer {
  return tlsPrf(master, `${role} finished`, transcriptHash, 12, hash);
}

/** RFC 5705 §4 without a context value (what RFC 5764 §4.2 uses for "EXTRACTOR-dtls_srtp"). */
export function exportKeyingMaterial(
  tlsPrf: Tls12Prf,
  master: Buffer,
  clientRandom: Buffer,
  serverRandom: Buffer,
  label: string,
  length: number,
  hash: PrfHash,
): Buffer {
  return tlsPrf(master, label, Buffer.concat([clientRandom, serverRandom]), length, hash);
}
