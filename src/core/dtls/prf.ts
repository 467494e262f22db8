// The TLS 1.2 key schedule for our one cipher suite (TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256):
// the SHA-256 PRF (RFC 5246 §5), the extended master secret (RFC 7627 §4), the key block for
// AES-128-GCM (RFC 5288 §3: no MAC keys, 4-byte implicit IVs), Finished verify_data
// (RFC 5246 §7.4.9) and keying-material export (RFC 5705 §4, used by DTLS-SRTP, RFC 5764 §4.2).
// Not here: any other hash or suite, sessions, resumption.
import { createHash, createHmac } from 'node:crypto';

/** P_SHA256 (RFC 5246 §5): HMAC-SHA256 expansion of `secret` over `label ‖ seed`. */
export function prf(secret: Buffer, label: string, seed: Buffer, length: number): Buffer {
  const labelSeed = Buffer.concat([Buffer.from(label, 'latin1'), seed]);
  const out: Buffer[] = [];
  let total = 0;
  let a = labelSeed;
  while (total < length) {
    a = createHmac('sha256', secret).update(a).digest();
    const block = createHmac('sha256', secret).update(a).update(labelSeed).digest();
    out.push(block);
    total += block.length;
  }
  return Buffer.concat(out).subarray(0, length);
}

export function sha256(data: Buffer): Buffer {
  return createHash('sha256').update(data).digest();
}

/** RFC 7627 §4: master_secret = PRF(pre_master_secret, "extended master secret", session_hash). */
export function extendedMasterSecret(preMaster: Buffer, sessionHash: Buffer): Buffer {
  return prf(preMaster, 'extended master secret', sessionHash, 48);
}

export interface GcmKeys {
  clientKey: Buffer;
  serverKey: Buffer;
  clientSalt: Buffer;
  serverSalt: Buffer;
}

/** RFC 5246 §6.3 key block, laid out for AES-128-GCM (RFC 5288 §3): keys 2×16, implicit IVs 2×4. */
export function gcmKeyBlock(master: Buffer, clientRandom: Buffer, serverRandom: Buffer): GcmKeys {
  const kb = prf(master, 'key expansion', Buffer.concat([serverRandom, clientRandom]), 40);
  return {
    clientKey: kb.subarray(0, 16),
    serverKey: kb.subarray(16, 32),
    clientSalt: kb.subarray(32, 36),
    serverSalt: kb.subarray(36, 40),
  };
}

/** RFC 5246 §7.4.9: verify_data = PRF(master, finished_label, Hash(handshake_messages))[0..11]. */
export function finishedVerifyData(master: Buffer, role: 'client' | 'server', transcriptHash: Buffer): Buffer {
  return prf(master, `${role} finished`, transcriptHash, 12);
}

/** RFC 5705 §4 without a context value (what RFC 5764 §4.2 uses for "EXTRACTOR-dtls_srtp"). */
export function exportKeyingMaterial(master: Buffer, clientRandom: Buffer, serverRandom: Buffer, label: string, length: number): Buffer {
  return prf(master, label, Buffer.concat([clientRandom, serverRandom]), length);
}
