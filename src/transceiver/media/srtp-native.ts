// `--srtp native`: the cipher half of native/src/srtp_native.c for both DTLS-SRTP profiles —
// SRTP_AES128_CM_HMAC_SHA1_80 (AES-CM keystream + HMAC-SHA1-80) and SRTP_AEAD_AES_128_GCM
// (RFC 7714, AES-128-GCM contexts keyed once, only the IV set per packet) — with the OpenSSL the
// node binary exports, behind the same SrtpTransform as src/core/srtp/transform-aes-cm.ts and
// transform-aes-gcm.ts. One addon call per packet; the keys live in native memory owned by a
// napi external and are freed (and cleansed) when this object is collected. SrtpSession keeps
// index estimation, replay and per-SSRC state in TypeScript.
// Not here: addon loading in src/core (the core stays free of it; it takes a factory).
import { nativeAddonLoader } from '../../common/native-addon.ts';
import type { DirectionKeys, SrtpProfileName, SrtpTransform, SrtpTransformFactory } from '../../core/srtp/index.ts';

const CM_TAG = 10; // RFC 3711 §4.2.1: HMAC-SHA1 truncated to 80 bits
const GCM_TAG = 16; // RFC 7714 §12

type Ctx = object;
/** Writes the result into `out` and returns its length, or undefined (tag mismatch). */
type RtpCall = (ctx: Ctx, packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number, out: Buffer) => number | undefined;
type RtcpCall = (ctx: Ctx, packet: Buffer, ssrc: number, index: number) => Buffer | undefined;

/**
 * The addon's functions (native/src/srtp_native.c). RTP calls write into `out`: protect needs
 * ≥ packet.length + tag bytes, unprotect ≥ packet.length − tag, neither may overlap the packet.
 * An AES-CM context passed to a gcm* function, or the reverse, throws "bad context".
 */
export interface SrtpAddon {
  create(rtpEnc: Buffer, rtpAuth: Buffer, rtpSalt: Buffer, rtcpEnc: Buffer, rtcpAuth: Buffer, rtcpSalt: Buffer): Ctx;
  protectRtp: RtpCall;
  unprotectRtp: RtpCall;
  protectRtcp: RtcpCall;
  unprotectRtcp: RtcpCall;
  gcmCreate(rtpKey: Buffer, rtpSalt: Buffer, rtcpKey: Buffer, rtcpSalt: Buffer): Ctx;
  gcmProtectRtp: RtpCall;
  gcmUnprotectRtp: RtpCall;
  gcmProtectRtcp: RtcpCall;
  gcmUnprotectRtcp: RtcpCall;
  /** AES-128-GCM for DTLS records (./dtls-aead-native.ts): results are written at out[outOffset…], which must not overlap the input. */
  aeadCreate(key: Buffer): Ctx;
  aeadSeal(ctx: Ctx, nonce: Buffer, aad: Buffer, plaintext: Buffer, out: Buffer, outOffset: number): number | undefined;
  aeadOpen(ctx: Ctx, nonce: Buffer, aad: Buffer, sealed: Buffer, out: Buffer, outOffset: number): number | undefined;
}

/** The addon, or why it cannot be used (not built, not Linux, fails to load, stale). Cached. */
export const loadSrtpAddon = nativeAddonLoader<SrtpAddon>({
  file: 'parley_srtp.node',
  what: 'the native SRTP transform',
  // A build from before the last export was added (AES-CM SRTCP, then GCM, then the DTLS record AEAD) is stale.
  check: (a) =>
    typeof a.unprotectRtcp !== 'function' || typeof a.gcmUnprotectRtcp !== 'function' || typeof a.aeadOpen !== 'function'
      ? 'stale; rebuild it (npm run build:native)'
      : undefined,
});

/** One profile's addon calls bound to one context; the two profiles differ in tag and trailer layout. */
abstract class NativeTransform implements SrtpTransform {
  readonly tagLength: number;
  readonly minSrtcpLength: number;
  readonly #ctx: Ctx;
  readonly #protectRtp: RtpCall;
  readonly #unprotectRtp: RtpCall;
  readonly #protectRtcp: RtcpCall;
  readonly #unprotectRtcp: RtcpCall;

  constructor(tagLength: number, ctx: Ctx, calls: [RtpCall, RtpCall, RtcpCall, RtcpCall]) {
    this.tagLength = tagLength;
    this.minSrtcpLength = 8 + 4 + tagLength;
    this.#ctx = ctx;
    [this.#protectRtp, this.#unprotectRtp, this.#protectRtcp, this.#unprotectRtcp] = calls;
  }

  abstract srtcpTrailerOffset(length: number): number;

  // RTP results go into slices of Node's buffer pool (Buffer.allocUnsafe below 4 KB): one small
  // object per packet instead of an ArrayBuffer with its own backing store. The slices are as
  // short-lived as the packets (sent, or read by the handler, in the same turn).
  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const out = Buffer.allocUnsafe(packet.length + this.tagLength);
    return this.#protectRtp(this.#ctx, packet, headerLength, ssrc, roc, seq, out) === undefined ? undefined : out;
  }

  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const out = Buffer.allocUnsafe(Math.max(0, packet.length - this.tagLength)); // shorter than the tag: the addon throws, as the TS transform does
    return this.#unprotectRtp(this.#ctx, packet, headerLength, ssrc, roc, seq, out) === undefined ? undefined : out;
  }

  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer | undefined {
    return this.#protectRtcp(this.#ctx, packet, ssrc, index);
  }

  unprotectRtcp(packet: Buffer, ssrc: number, eIndex: number): Buffer | undefined {
    return this.#unprotectRtcp(this.#ctx, packet, ssrc, eIndex);
  }
}

export class NativeAesCmHmacSha1Transform extends NativeTransform {
  constructor(addon: SrtpAddon, keys: DirectionKeys) {
    const ctx = addon.create(keys.rtp.encKey, keys.rtp.authKey, keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.authKey, keys.rtcp.salt);
    super(CM_TAG, ctx, [addon.protectRtp, addon.unprotectRtp, addon.protectRtcp, addon.unprotectRtcp]);
  }

  srtcpTrailerOffset(length: number): number {
    return length - CM_TAG - 4; // RFC 3711 §3.4: … | E+SRTCP index | auth tag
  }
}

export class NativeAesGcmTransform extends NativeTransform {
  constructor(addon: SrtpAddon, keys: DirectionKeys) {
    const ctx = addon.gcmCreate(keys.rtp.encKey, keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.salt);
    super(GCM_TAG, ctx, [addon.gcmProtectRtp, addon.gcmUnprotectRtp, addon.gcmProtectRtcp, addon.gcmUnprotectRtcp]);
  }

  srtcpTrailerOffset(length: number): number {
    return length - 4; // RFC 7714 §9: … | ciphertext incl. tag | E+SRTCP index
  }
}

/** SrtpSessionOptions.createTransform for the native addon: both profiles natively (undefined, i.e. TypeScript, for any other). */
export function nativeSrtpTransformFactory(addon: SrtpAddon): SrtpTransformFactory {
  return (profile: SrtpProfileName, keys: DirectionKeys) => {
    if (profile === 'SRTP_AES128_CM_HMAC_SHA1_80') return new NativeAesCmHmacSha1Transform(addon, keys);
    if (profile === 'SRTP_AEAD_AES_128_GCM') return new NativeAesGcmTransform(addon, keys);
    return undefined;
  };
}

export const SRTP_IMPLS = ['native', 'ts'] as const;
export type SrtpImpl = (typeof SRTP_IMPLS)[number];
