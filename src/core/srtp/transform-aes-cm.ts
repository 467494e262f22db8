// SRTP_AES128_CM_HMAC_SHA1_80: AES-CM encryption (RFC 3711 §4.1.1) and HMAC-SHA1 authentication
// truncated to 80 bits (§4.2.1). Per packet we create only what node forces us to: the Hmac
// object (from a cached KeyObject) and the ECB output buffer; the ECB ciphers are long-lived.
import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AesCmKeystream } from './aes-cm.ts';
import type { SessionKeys } from './kdf.ts';
import type { SrtpTransform } from './transform.ts';

const TAG = 10;
const E_FLAG = 0x80000000;

interface Half {
  readonly ks: AesCmKeystream;
  readonly auth: KeyObject;
  readonly salt: Buffer;
}

function half(keys: SessionKeys): Half {
  return { ks: new AesCmKeystream(createSecretKey(keys.encKey)), auth: createSecretKey(keys.authKey), salt: keys.salt };
}

export class AesCmHmacSha1Transform implements SrtpTransform {
  readonly tagLength = TAG;
  readonly minSrtcpLength = 8 + 4 + TAG;
  readonly #rtp: Half;
  readonly #rtcp: Half;
  readonly #iv = Buffer.alloc(16);
  readonly #word = Buffer.alloc(4);

  constructor(rtp: SessionKeys, rtcp: SessionKeys) {
    this.#rtp = half(rtp);
    this.#rtcp = half(rtcp);
  }

  srtcpTrailerOffset(length: number): number {
    return length - TAG - 4; // RFC 3711 §3.4: … | E+SRTCP index | auth tag
  }

  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const len = packet.length;
    const out = Buffer.allocUnsafe(len + TAG);
    packet.copy(out, 0, 0, headerLength);
    if (!this.#rtp.ks.xor(this.#ivFor(this.#rtp.salt, ssrc, roc, seq), packet, headerLength, len, out, headerLength)) return undefined;
    // RFC 3711 §4.2: the tag covers the authenticated portion (header + encrypted payload) || ROC.
    this.#word.writeUInt32BE(roc, 0);
    createHmac('sha1', this.#rtp.auth).update(out.subarray(0, len)).update(this.#word).digest().copy(out, len, 0, TAG);
    return out;
  }

  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const end = packet.length - TAG;
    this.#word.writeUInt32BE(roc, 0);
    const mac = createHmac('sha1', this.#rtp.auth).update(packet.subarray(0, end)).update(this.#word).digest();
    if (!timingSafeEqual(mac.subarray(0, TAG), packet.subarray(end))) return undefined;
    const out = Buffer.allocUnsafe(end);
    packet.copy(out, 0, 0, headerLength);
    if (!this.#rtp.ks.xor(this.#ivFor(this.#rtp.salt, ssrc, roc, seq), packet, headerLength, end, out, headerLength)) return undefined;
    return out;
  }

  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer | undefined {
    const len = packet.length;
    const out = Buffer.allocUnsafe(len + 4 + TAG);
    packet.copy(out, 0, 0, 8);
    // RFC 3711 §3.4 / §4.1.1: SRTCP uses the 31-bit SRTCP index as i; everything after the
    // first 8 bytes (header + sender SSRC) is encrypted.
    if (!this.#rtcp.ks.xor(this.#ivFor(this.#rtcp.salt, ssrc, index >>> 16, index & 0xffff), packet, 8, len, out, 8)) return undefined;
    out.writeUInt32BE((E_FLAG | index) >>> 0, len);
    createHmac('sha1', this.#rtcp.auth)
      .update(out.subarray(0, len + 4))
      .digest()
      .copy(out, len + 4, 0, TAG);
    return out;
  }

  unprotectRtcp(packet: Buffer, ssrc: number, eIndex: number): Buffer | undefined {
    const t = this.srtcpTrailerOffset(packet.length);
    const mac = createHmac('sha1', this.#rtcp.auth)
      .update(packet.subarray(0, t + 4))
      .digest();
    if (!timingSafeEqual(mac.subarray(0, TAG), packet.subarray(t + 4))) return undefined;
    const out = Buffer.allocUnsafe(t);
    if ((eIndex & E_FLAG) === 0) {
      packet.copy(out, 0, 0, t); // E = 0: authenticated but sent in the clear (RFC 3711 §3.4)
      return out;
    }
    const index = eIndex & 0x7fffffff;
    packet.copy(out, 0, 0, 8);
    if (!this.#rtcp.ks.xor(this.#ivFor(this.#rtcp.salt, ssrc, index >>> 16, index & 0xffff), packet, 8, t, out, 8)) return undefined;
    return out;
  }

  /** RFC 3711 §4.1.1: IV = (k_s * 2^16) XOR (SSRC * 2^64) XOR (i * 2^16), i = hi32 * 2^16 + lo16. */
  #ivFor(salt: Buffer, ssrc: number, hi32: number, lo16: number): Buffer {
    const iv = this.#iv;
    salt.copy(iv, 0, 0, 14);
    iv.writeUInt32BE((iv.readUInt32BE(4) ^ ssrc) >>> 0, 4);
    iv.writeUInt32BE((iv.readUInt32BE(8) ^ hi32) >>> 0, 8);
    iv.writeUInt16BE(iv.readUInt16BE(12) ^ lo16, 12);
    return iv;
  }
}
