// `--srtp native`: the SRTP_AES128_CM_HMAC_SHA1_80 cipher half of native/src/srtp_native.c
// (AES-CM keystream + HMAC-SHA1-80 with the OpenSSL the node binary exports), behind the same
// SrtpTransform as src/core/srtp/transform-aes-cm.ts. One addon call per packet; the keys live
// in native memory owned by a napi external and are freed (and cleansed) when this object is
// collected. SrtpSession keeps index estimation, replay and per-SSRC state in TypeScript; the
// GCM profile stays in TypeScript (the factory returns undefined for it).
// Not here: addon loading in src/core (the core stays free of it; it takes a factory).
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DirectionKeys, SrtpProfileName, SrtpTransform, SrtpTransformFactory } from '../core/srtp/index.ts';

export const SRTP_ADDON_PATH = new URL('../../native/build/Release/parley_srtp.node', import.meta.url).pathname;

const TAG = 10;

type Ctx = object;

/** The addon's functions (native/src/srtp_native.c). */
export interface SrtpAddon {
  create(rtpEnc: Buffer, rtpAuth: Buffer, rtpSalt: Buffer, rtcpEnc: Buffer, rtcpAuth: Buffer, rtcpSalt: Buffer): Ctx;
  /** Writes packet + tag into `out` (≥ packet.length + 10 bytes, not overlapping the packet); the length written. */
  protectRtp(ctx: Ctx, packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number, out: Buffer): number | undefined;
  /** Authenticates, then writes the RTP packet into `out` (≥ packet.length − 10 bytes, not overlapping); the length written. */
  unprotectRtp(ctx: Ctx, packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number, out: Buffer): number | undefined;
  protectRtcp(ctx: Ctx, packet: Buffer, ssrc: number, index: number): Buffer | undefined;
  unprotectRtcp(ctx: Ctx, packet: Buffer, ssrc: number, eIndex: number): Buffer | undefined;
}

let loaded: SrtpAddon | Error | undefined;

/** The addon, or why it cannot be used (not built, not Linux, fails to load). Cached. */
export function loadSrtpAddon(): SrtpAddon | Error {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = new Error(`the native SRTP transform is built on Linux only (this is ${process.platform})`));
  if (!existsSync(SRTP_ADDON_PATH)) return (loaded = new Error(`${SRTP_ADDON_PATH} is not built (npm ci builds it with node-gyp)`));
  try {
    const a = createRequire(import.meta.url)(SRTP_ADDON_PATH) as SrtpAddon;
    if (typeof a.unprotectRtcp !== 'function') return (loaded = new Error(`${SRTP_ADDON_PATH} is stale; rebuild it`));
    loaded = a;
  } catch (err) {
    loaded = new Error(`cannot load ${SRTP_ADDON_PATH}: ${(err as Error).message}`);
  }
  return loaded;
}

export class NativeAesCmHmacSha1Transform implements SrtpTransform {
  readonly tagLength = TAG;
  readonly minSrtcpLength = 8 + 4 + TAG;
  readonly #a: SrtpAddon;
  readonly #ctx: Ctx;

  constructor(addon: SrtpAddon, keys: DirectionKeys) {
    this.#a = addon;
    this.#ctx = addon.create(keys.rtp.encKey, keys.rtp.authKey, keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.authKey, keys.rtcp.salt);
  }

  srtcpTrailerOffset(length: number): number {
    return length - TAG - 4; // RFC 3711 §3.4: … | E+SRTCP index | auth tag
  }

  // RTP results go into slices of Node's buffer pool (Buffer.allocUnsafe below 4 KB): one small
  // object per packet instead of an ArrayBuffer with its own backing store. The slices are as
  // short-lived as the packets (sent, or read by the handler, in the same turn).
  protectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const out = Buffer.allocUnsafe(packet.length + TAG);
    return this.#a.protectRtp(this.#ctx, packet, headerLength, ssrc, roc, seq, out) === undefined ? undefined : out;
  }

  unprotectRtp(packet: Buffer, headerLength: number, ssrc: number, roc: number, seq: number): Buffer | undefined {
    const out = Buffer.allocUnsafe(Math.max(0, packet.length - TAG)); // shorter than the tag: the addon throws, as the TS transform does
    return this.#a.unprotectRtp(this.#ctx, packet, headerLength, ssrc, roc, seq, out) === undefined ? undefined : out;
  }

  protectRtcp(packet: Buffer, ssrc: number, index: number): Buffer | undefined {
    return this.#a.protectRtcp(this.#ctx, packet, ssrc, index);
  }

  unprotectRtcp(packet: Buffer, ssrc: number, eIndex: number): Buffer | undefined {
    return this.#a.unprotectRtcp(this.#ctx, packet, ssrc, eIndex);
  }
}

/** SrtpSessionOptions.createTransform for the native addon: AES-CM natively, anything else (GCM) in TypeScript. */
export function nativeSrtpTransformFactory(addon: SrtpAddon): SrtpTransformFactory {
  return (profile: SrtpProfileName, keys: DirectionKeys) =>
    profile === 'SRTP_AES128_CM_HMAC_SHA1_80' ? new NativeAesCmHmacSha1Transform(addon, keys) : undefined;
}

export const SRTP_IMPLS = ['native', 'ts'] as const;
export type SrtpImpl = (typeof SRTP_IMPLS)[number];
