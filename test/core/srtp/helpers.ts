// Shared builders for the SRTP tests: RTP/RTCP packets and a DTLS-SRTP session pair.
import { createHash } from 'node:crypto';
import { SrtpSession, SRTP_PROFILES, type SrtpProfileName } from '../../../src/core/srtp/index.ts';

export const PROFILES: SrtpProfileName[] = ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'];

/** Deterministic bytes (SHA-256 chain) so tests repeat exactly. */
export function bytes(n: number, seed = 'x'): Buffer {
  const out: Buffer[] = [];
  for (let i = 0, len = 0; len < n; i++, len += 32) out.push(createHash('sha256').update(`${seed}/${i}`).digest());
  return Buffer.concat(out).subarray(0, n);
}

export function rtp(seq: number, ssrc = 0x11223344, payload: Buffer = bytes(160, `p${seq}`), ts = seq * 960): Buffer {
  const h = Buffer.alloc(12);
  h[0] = 0x80;
  h[1] = 111;
  h.writeUInt16BE(seq & 0xffff, 2);
  h.writeUInt32BE(ts >>> 0, 4);
  h.writeUInt32BE(ssrc >>> 0, 8);
  return Buffer.concat([h, payload]);
}

/** A receiver report with one report block, 32 bytes. */
export function rtcpRr(ssrc = 0x11223344): Buffer {
  const b = Buffer.alloc(32);
  b[0] = 0x81;
  b[1] = 201;
  b.writeUInt16BE(7, 2);
  b.writeUInt32BE(ssrc >>> 0, 4);
  b.writeUInt32BE(0x55667788, 8);
  return b;
}

/** Client and server sessions keyed from one block of DTLS exporter output. */
export function pair(
  profile: SrtpProfileName,
  opts?: { maxSsrcs?: number; replayWindow?: number },
  seed = 'km',
): { client: SrtpSession; server: SrtpSession } {
  const p = SRTP_PROFILES[profile];
  const km = bytes(2 * (p.masterKeyLength + p.masterSaltLength), `${seed}-${profile}`);
  return { client: SrtpSession.fromDtls(profile, km, 'client', opts), server: SrtpSession.fromDtls(profile, km, 'server', opts) };
}
