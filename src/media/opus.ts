// A small, synchronous wrapper over libopus (npm `@evan/opus`: native N-API build for
// linux/darwin x64/arm64 and win32 x64 shipped inside the npm tarball, wasm fallback
// elsewhere). It fixes the shape WebRTC voice uses: 20 ms frames (RFC 7587 §4.2 and RFC 7874
// §3), PCM as interleaved signed 16-bit samples, 48 kHz by default. The RTP clock of Opus is
// always 48 kHz (RFC 7587 §4.1), but libopus encodes from and decodes to 8, 12, 16, 24 or 48 kHz
// PCM itself (RFC 6716 §2: the decoder band-limits and decimates inside the codec; the encoder
// takes the lower rate as its input bandwidth), so a bridge that wants 24 kHz or 8 kHz PCM asks
// the codec for it instead of resampling 48 kHz PCM in JavaScript. It is not a jitter buffer or
// a packet-loss concealer; it encodes one frame and decodes one packet.
// Cost: see docs/media.md ("Encoder settings"); what an encode costs depends on the settings
// and on the signal far more than on the machine (bench/opus-settings.ts measures both).
import { Decoder, Encoder } from '@evan/opus';
import { OPUS_CLOCK_RATE, TICKS_PER_FRAME } from '../core/rtp/index.ts';
import { MediaError, MediaErrorCode } from './errors.ts';

export const OPUS_SAMPLE_RATE = OPUS_CLOCK_RATE;
/** Samples per channel in one 20 ms frame at 48 kHz. */
export const OPUS_FRAME_SAMPLES = TICKS_PER_FRAME;
/** The PCM rates libopus encodes from and decodes to (RFC 6716 §2). */
export const OPUS_PCM_RATES = [8000, 12000, 16000, 24000, 48000] as const;
export type OpusPcmRate = (typeof OPUS_PCM_RATES)[number];
/** The rates a PCM handler may ask for (handlers/pcm.ts): telephony, wideband, Realtime's 24 kHz, Opus's own. */
export const PCM_RATES = [8000, 16000, 24000, 48000] as const satisfies readonly OpusPcmRate[];
export type PcmRate = (typeof PCM_RATES)[number];

export function isPcmRate(rate: number): rate is PcmRate {
  return (PCM_RATES as readonly number[]).includes(rate);
}
/** RFC 6716 §3.2.1: the longest Opus packet carries 120 ms = 5760 samples per channel at 48 kHz. */
const MAX_PACKET_SAMPLES = 5760;

export type OpusChannels = 1 | 2;
export type OpusApplication = 'voip' | 'audio' | 'restricted_lowdelay';
export const OPUS_APPLICATIONS = ['voip', 'audio', 'restricted_lowdelay'] as const satisfies readonly OpusApplication[];
/** libopus's OPUS_SET_COMPLEXITY range: 0 (cheapest) .. 10 (libopus's default). */
export const OPUS_MAX_COMPLEXITY = 10;

/**
 * How the bridges (realtime, media-stream and PCM handlers: media/frame-codec.ts, the codec
 * threads) encode what the model or agent says. The default, chosen by bench/opus-settings.ts
 * (numbers and the quality bound in docs/media.md, "Encoder settings"): application `audio` at
 * complexity 5 — below complexity 7 libopus skips its signal analysis and, with `audio`, codes
 * 24 kHz speech as CELT at its default 27 kbit/s: ~6× cheaper per frame than `voip` at 10 on
 * voiced speech, with a log-spectral distance no worse; ~2× cheaper at 8 kHz. The transceiver's
 * --opus-application and --opus-complexity change it.
 */
export interface BridgeEncoderSettings {
  readonly application: OpusApplication;
  /** 0..10 (OPUS_SET_COMPLEXITY). */
  readonly complexity: number;
}
export const BRIDGE_ENCODER_DEFAULTS: BridgeEncoderSettings = { application: 'audio', complexity: 5 };

export interface OpusEncoderOptions {
  /** The PCM rate encode() takes (default 48000); the packets are Opus on the 48 kHz RTP clock whatever it is. */
  readonly sampleRate?: OpusPcmRate;
  readonly channels?: OpusChannels;
  readonly application?: OpusApplication;
  /** Target bitrate in bits per second (500..512000); libopus picks one when omitted. */
  readonly bitrate?: number;
  /** In-band FEC (RFC 6716 §2.1.7, what useinbandfec=1 asks a sender for), tuned for this expected loss in per cent (1..100). */
  readonly inbandFecLossPercent?: number;
  /** OPUS_SET_COMPLEXITY, 0..10 (libopus's default 10 when omitted). */
  readonly complexity?: number;
}

export interface OpusDecoderOptions {
  /** The PCM rate decode() returns (default 48000). */
  readonly sampleRate?: OpusPcmRate;
  readonly channels?: OpusChannels;
}

export interface OpusEncoder {
  readonly channels: OpusChannels;
  readonly sampleRate: OpusPcmRate;
  /** Encodes exactly 20 ms of interleaved PCM (sampleRate / 50 samples per channel) into one Opus packet. */
  encode(pcm: Int16Array): Buffer;
  /** Idempotent; later encode() calls throw ERR_MEDIA_CLOSED. */
  close(): void;
}

export interface OpusDecoder {
  readonly channels: OpusChannels;
  readonly sampleRate: OpusPcmRate;
  /** Decodes one Opus packet into interleaved PCM (sampleRate / 50 samples per channel for a 20 ms packet). */
  decode(packet: Buffer | Uint8Array): Int16Array;
  /** Idempotent; later decode() calls throw ERR_MEDIA_CLOSED. */
  close(): void;
}

export function isOpusComplexity(c: number): boolean {
  return Number.isInteger(c) && c >= 0 && c <= OPUS_MAX_COMPLEXITY;
}

function checkCommon(sampleRate: number | undefined, channels: number | undefined): { channels: OpusChannels; rate: OpusPcmRate } {
  const rate = sampleRate ?? OPUS_SAMPLE_RATE;
  if (!(OPUS_PCM_RATES as readonly number[]).includes(rate)) {
    throw new MediaError(MediaErrorCode.BadOption, `Opus PCM rate must be one of ${OPUS_PCM_RATES.join(', ')}, got ${sampleRate}`);
  }
  const ch = channels ?? 1;
  if (ch !== 1 && ch !== 2) throw new MediaError(MediaErrorCode.BadOption, `Opus channels must be 1 or 2, got ${ch}`);
  return { channels: ch, rate: rate as OpusPcmRate };
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createOpusEncoder(options: OpusEncoderOptions = {}): OpusEncoder {
  const { channels, rate } = checkCommon(options.sampleRate, options.channels);
  const application = options.application ?? 'voip';
  if (application !== 'voip' && application !== 'audio' && application !== 'restricted_lowdelay') {
    throw new MediaError(MediaErrorCode.BadOption, `unknown Opus application ${String(application)}`);
  }
  let encoder: Encoder | undefined = new Encoder({ channels, sample_rate: rate, application });
  if (options.complexity !== undefined) {
    const c = options.complexity;
    if (!isOpusComplexity(c)) throw new MediaError(MediaErrorCode.BadOption, `Opus complexity must be an integer in 0..10, got ${c}`);
    encoder.complexity = c as 0;
  }
  if (options.bitrate !== undefined) {
    const b = options.bitrate;
    if (!Number.isInteger(b) || b < 500 || b > 512000) {
      throw new MediaError(MediaErrorCode.BadOption, `Opus bitrate must be an integer in 500..512000, got ${b}`);
    }
    encoder.bitrate = b;
  }
  if (options.inbandFecLossPercent !== undefined) {
    const l = options.inbandFecLossPercent;
    if (!Number.isInteger(l) || l < 1 || l > 100) {
      throw new MediaError(MediaErrorCode.BadOption, `Opus inbandFecLossPercent must be an integer in 1..100, got ${l}`);
    }
    encoder.inband_fec = true;
    encoder.packet_loss = l;
  }
  const frameLength = (rate / 50) * channels;
  return {
    channels,
    sampleRate: rate,
    encode(pcm: Int16Array): Buffer {
      if (encoder === undefined) throw new MediaError(MediaErrorCode.Closed, 'Opus encoder is closed');
      if (!(pcm instanceof Int16Array) || pcm.length !== frameLength) {
        throw new MediaError(
          MediaErrorCode.BadFrameSize,
          `Opus encode takes ${frameLength} samples (20 ms at ${rate} Hz × ${channels} ch), got ${pcm?.length}`,
        );
      }
      let out: Uint8Array;
      try {
        out = encoder.encode(pcm);
      } catch (err) {
        throw new MediaError(MediaErrorCode.OpusEncodeFailed, `Opus encode failed: ${describe(err)}`, { cause: err });
      }
      // The library returns a fresh copy (TypedArray.slice), so wrapping it shares nothing.
      return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
    },
    close(): void {
      encoder = undefined;
    },
  };
}

export function createOpusDecoder(options: OpusDecoderOptions = {}): OpusDecoder {
  const { channels, rate } = checkCommon(options.sampleRate, options.channels);
  let decoder: Decoder | undefined = new Decoder({ channels, sample_rate: rate });
  const maxSamples = (MAX_PACKET_SAMPLES * rate) / OPUS_SAMPLE_RATE;
  return {
    channels,
    sampleRate: rate,
    decode(packet: Buffer | Uint8Array): Int16Array {
      if (decoder === undefined) throw new MediaError(MediaErrorCode.Closed, 'Opus decoder is closed');
      // The native and wasm builds disagree on an empty packet (error vs. concealment);
      // reject it here so both behave the same. RFC 6716 §3.1: a packet has at least a TOC byte.
      if (packet.length === 0) throw new MediaError(MediaErrorCode.OpusDecodeFailed, 'empty Opus packet');
      let out: Uint8Array;
      try {
        out = decoder.decode(packet);
      } catch (err) {
        throw new MediaError(MediaErrorCode.OpusDecodeFailed, `Opus decode failed: ${describe(err)}`, { cause: err });
      }
      const bytesPerSampleFrame = 2 * channels;
      if (out.byteLength % bytesPerSampleFrame !== 0 || out.byteLength / bytesPerSampleFrame > maxSamples) {
        throw new MediaError(MediaErrorCode.OpusDecodeFailed, `Opus decode returned ${out.byteLength} bytes`);
      }
      if (out.byteOffset % 2 === 0) return new Int16Array(out.buffer, out.byteOffset, out.byteLength / 2);
      return new Int16Array(out.slice().buffer);
    },
    close(): void {
      decoder = undefined;
    },
  };
}
