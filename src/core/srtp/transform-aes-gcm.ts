// SRTP_AEAD_AES_128_GCM (RFC 7714). node:crypto has no way to re-key a GCM context with a new
// IV, so each packet costs one Cipheriv/Decipheriv; we build it from a cached KeyObject and a
// reused IV/AAD scratch buffer. A failed tag is reported by final() throwing, which we turn
// into `undefined` (only forged or corrupted packets take that path).
import { createCipheriv, createDecipheriv, createSecretKey, type KeyObject } from 'node:crypto';
import type { SessionKeys } from './kdf.ts';
import type { SrtpTransform } from './transform.ts';

const TAG = 16;
const E_FLAG = 0x80000000;
const ALGO = 'aes-128-gcm';
const OPTS = { authTagLength: TAG } as const;

export class AesGcmTransform implements SrtpTransform {
  readonly tagLength = TAG;
  readonly minSrtcpLength = 8 + TAG + 4;
  readonly #rtpKey: KeyObject;
  readonly #rtcpKey: KeyObject;
  readonly #rtpSalt: Buffer;
  readonly #rtcpSalt: Buffer;
  readonly #iv = Buffer.alloc(12);
  readonly #aad = Buffer.alloc(12);

  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtpKey = createSecretKey(rtp.encKey);
    this.#rtcpKey = createSecretKey(rtcp.encKey);
    this.#rtpSalt = rtp.salt;
    this.#rtcpSalt = rtcp.salt;
  }

  srtcpTrailerOffset(length: number): number {
    return length - 4; // RFC 7714 §9: … | ciphertext incl. tag | E+SRTCP index
  }

  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const len = packet.length;
    const c = createCipheriv(ALGO, this.#rtpKey, this.#rtpIv(ssrc, roc, seq), OPTS);
    c.setAAD(packet.subarray(0, headerLength)); // RFC 7714 §8.2: AAD = the whole RTP header
    const ct = c.update(packet.subarray(headerLength));
    c.final();
    const out = Buffer.allocUnsafe(len + TAG);
    packet.copy(out, 0, 0, headerLength);
    ct.copy(out, headerLength);
    c.getAuthTag().copy(out, len);
    return out;
  }

  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const end = packet.length - TAG;
    const d = createDecipheriv(ALGO, this.#rtpKey, this.#rtpIv(ssrc, roc, seq), OPTS);
    d.setAuthTag(packet.subarray(end));
    d.setAAD(packet.subarray(0, headerLength));
    const pt = d.update(packet.subarray(headerLength, end));
    try {
      d.final();
    } catch {
      return undefined;
    }
    const out = Buffer.allocUnsafe(end);
    packet.copy(out, 0, 0, headerLength);
    pt.copy(out, headerLength);
    return out;
  }

  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer | undefined {
    const len = packet.length;
    // The AAD starts with 8 octets of header and sender SSRC; a shorter packet has no such thing
    // (and would leave the previous call's bytes in the reused AAD buffer).
    if (len < 8) throw new RangeError('SRTCP needs at least the 8-octet RTCP header and sender SSRC');
    const eIndex = (E_FLAG | index) >>> 0;
    const c = createCipheriv(ALGO, this.#rtcpKey, this.#rtcpIv(ssrc, index), OPTS);
    // RFC 7714 §9.2: AAD = the first 8 octets || E+SRTCP index; the rest is encrypted.
    packet.copy(this.#aad, 0, 0, 8);
    this.#aad.writeUInt32BE(eIndex, 8);
    c.setAAD(this.#aad);
    const ct = c.update(packet.subarray(8));
    c.final();
    const out = Buffer.allocUnsafe(len + TAG + 4);
    packet.copy(out, 0, 0, 8);
    ct.copy(out, 8);
    c.getAuthTag().copy(out, len);
    out.writeUInt32BE(eIndex, len + TAG);
    return out;
  }

  unprotectRtcp(packet: Buffer, ssrc: number, eIndex: number): Buffer | undefined {
    const t = this.srtcpTrailerOffset(packet.length);
    const end = t - TAG;
    const d = createDecipheriv(ALGO, this.#rtcpKey, this.#rtcpIv(ssrc, eIndex & 0x7fffffff), OPTS);
    d.setAuthTag(packet.subarray(end, t));
    const encrypted = (eIndex & E_FLAG) !== 0;
    // RFC 7714 §9.2 (E = 1): AAD = header || E+index. §9.3 (E = 0): the whole packet is AAD
    // and the plaintext is empty.
    const trailer = packet.subarray(t, t + 4);
    d.setAAD(encrypted ? Buffer.concat([packet.subarray(0, 8), trailer]) : Buffer.concat([packet.subarray(0, end), trailer]));
    const pt = encrypted ? d.update(packet.subarray(8, end)) : undefined;
    try {
      d.final();
    } catch {
      return undefined;
    }
    const out = Buffer.allocUnsafe(end);
    if (pt) {
      packet.copy(out, 0, 0, 8);
      pt.copy(out, 8);
    } else {
      packet.copy(out, 0, 0, end);
    }
    return out;
  }

  /** RFC 7714 §8.1: IV = (00 00 || SSRC || ROC || SEQ) XOR salt. */
  #rtpIv(ssrc: number, roc: number, seq: number): Buffer {
    const iv = this.#iv;
    const s = this.#rtpSalt;
    iv.writeUInt16BE(s.readUInt16BE(0), 0);
    iv.writeUInt32BE((s.readUInt32BE(2) ^ ssrc) >>> 0, 2);
    iv.writeUInt32BE((s.readUInt32BE(6) ^ roc) >>> 0, 6);
    iv.writeUInt16BE(s.readUInt16BE(10) ^ seq, 10);
    return iv;
  }

  /** RFC 7714 §9.1: IV = (00 00 || SSRC || 00 00 || 0 || SRTCP index) XOR salt. */
  #rtcpIv(ssrc: number, index: number): Buffer {
    const iv = this.#iv;
    const s = this.#rtcpSalt;
    iv.writeUInt16BE(s.readUInt16BE(0), 0);
    iv.writeUInt32BE((s.readUInt32BE(2) ^ ssrc) >>> 0, 2);
    iv.writeUInt16BE(s.readUInt16BE(6), 6);
    iv.writeUInt32BE((s.readUInt32BE(8) ^ index) >>> 0, 8);
    return iv;
  }
}
