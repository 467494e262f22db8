// A libopus decoder that can recover lost frames (native/src/opus_native.c, libopus dlopen()ed):
// decode() a packet as usual, decodeFec(next) rebuilds the frame lost just before `next` from
// the in-band FEC (LBRR) data that packet carries when the sender used useinbandfec=1 (RFC 6716
// §2.1.7; RFC 7587 §3.3), and conceal() runs the codec's own packet-loss concealment. All three
// continue one decoder state, which is why the PCM layer decodes every frame of a call here when
// it can. Mono, 20 ms frames, at 8/16/24/48 kHz (handlers/pcm.ts).
// libopus 1.3 does not say whether the packet had FEC data: without it, decodeFec conceals
// (PLC) instead, so "recovered by FEC" counts frames decoded from a following SILK or hybrid
// packet (a CELT-only packet never carries FEC, RFC 6716 §3.1) — see isFecCapable.
// Not here: the fallback when libopus is missing (handlers/pcm.ts repeats the last frame faded).
import { nativeAddonLoader } from '../common/native-addon.ts';
import { MediaError, MediaErrorCode } from './errors.ts';
import type { OpusApplication, PcmRate } from './opus.ts';

export interface OpusAddon {
  available(): true | string;
  create(sampleRate: number, channels: number): object;
  decode(decoder: object, packet: Buffer | null, fec: boolean, out: Int16Array): number;
  /** A mono encoder; application as opus_defines.h (OPUS_APPLICATION_CODES); complexity 0..10, or -1 (or left out) for libopus's default. */
  createEncoder(sampleRate: number, application: number, complexity?: number): object;
  /** Encodes one frame of `pcm` into `out`; the packet's length, or a negative libopus error. */
  encode(encoder: object, pcm: Int16Array, out: Buffer): number;
}

/** opus_defines.h: OPUS_APPLICATION_VOIP (media/opus.ts's default for an encoder of its own). */
export const OPUS_APPLICATION_VOIP = 2048;
/** opus_defines.h: each application's code, for createEncoder. */
export const OPUS_APPLICATION_CODES = { voip: OPUS_APPLICATION_VOIP, audio: 2049, restricted_lowdelay: 2051 } as const satisfies Record<
  OpusApplication,
  number
>;

export interface RecoveringDecoder {
  readonly sampleRate: PcmRate;
  /** One 20 ms packet → sampleRate / 50 samples. Throws ERR_MEDIA_OPUS_DECODE_FAILED. */
  decode(packet: Buffer): Int16Array;
  /** The 20 ms frame lost just before `next`, from next's in-band FEC data (PLC when it has none). */
  decodeFec(next: Buffer): Int16Array;
  /** The codec's packet-loss concealment for one lost 20 ms frame. */
  conceal(): Int16Array;
}

/** The addon with a usable libopus, or why not (not built, not Linux, no libopus.so.0). Cached. */
export const loadOpusAddon = nativeAddonLoader<OpusAddon>({
  file: 'parley_opus.node',
  what: 'the native Opus decoder',
  check: (a) => {
    const ok = a.available();
    return ok === true ? undefined : `libopus is not usable: ${ok}`;
  },
});

/** RFC 6716 §3.1: TOC configs 0-15 are SILK-only or hybrid, the modes that carry LBRR (FEC) data. */
export function isFecCapable(packet: Buffer): boolean {
  return packet.length > 0 && packet[0] >> 3 < 16;
}

/** A recovering mono decoder at `sampleRate`, or the Error saying why there is none. */
export function createRecoveringDecoder(sampleRate: PcmRate): RecoveringDecoder | Error {
  const addon = loadOpusAddon();
  if (addon instanceof Error) return addon;
  const dec = addon.create(sampleRate, 1);
  const samples = sampleRate / 50;
  const run = (packet: Buffer | null, fec: boolean): Int16Array => {
    const out = new Int16Array(samples);
    const n = addon.decode(dec, packet, fec, out);
    if (n !== samples) throw new MediaError(MediaErrorCode.OpusDecodeFailed, `Opus decode returned ${n} (want ${samples} samples)`);
    return out;
  };
  return {
    sampleRate,
    decode: (packet) => run(packet, false),
    decodeFec: (next) => run(next, true),
    conceal: () => run(null, false),
  };
}
