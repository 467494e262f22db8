// A small, synchronous wrapper over libopus (npm `@evan/opus`: native N-API build for
// linux/darwin x64/arm64 and win32 x64 shipped inside the npm tarball, wasm fallback
// elsewhere). It fixes the shape WebRTC voice uses: 48 kHz, 20 ms frames (RFC 7587 §4.2 and
// RFC 7874 §3), PCM as interleaved signed 16-bit samples. It is not a jitter buffer, a
// resampler or a packet-loss concealer; it encodes one frame and decodes one packet.
// Cost on the reference machine (AMD EPYC, Node 24, native): ~55 µs to encode and ~17 µs to
// decode one 20 ms mono frame (see docs/media.md), so it is safe to call on the event loop.
import { Decoder, Encoder } from '@evan/opus';
import { MediaError, MediaErrorCode } from './errors.ts';

export const OPUS_SAMPLE_RATE = 48000;
/** Samples per channel in one 20 ms frame at 48 kHz. */
export const OPUS_FRAME_SAMPLES = 960;
export const OPUS_FRAME_MS = 20;
/** RFC 6716 §3.2.1: the longest Opus packet carries 120 ms = 5760 samples per channel at 48 kHz. */
const MAX_PACKET_SAMPLES = 5760;

export type OpusChannels = 1 | 2;
export type OpusApplication = 'voip' | 'audio' | 'restricted_lowdelay';

export interface OpusEncoderOptions {
  /** Only 48000 is accepted: WebRTC Opus always runs the RTP clock at 48 kHz (RFC 7587 §4.1). */
  readonly sampleRate?: 48000;
  readonly channels?: OpusChannels;
  readonly application?: OpusApplication;
  /** Target bitrate in bits per second (500..512000); libopus picks one when omitted. */
  readonly bitrate?: number;
}

export interface OpusDecoderOptions {
  readonly sampleRate?: 48000;
  readonly channels?: OpusChannels;
}

export interface OpusEncoder {
  readonly channels: OpusChannels;
  /** Encodes exactly 20 ms of interleaved PCM (960 samples per channel) into one Opus packet. */
  encode(pcm: Int16Array): Buffer;
  /** Idempotent; later encode() calls throw ERR_MEDIA_CLOSED. */
  close(): void;
}

export interface OpusDecoder {
  readonly channels: OpusChannels;
  /** Decodes one Opus packet into interleaved PCM (960 samples per channel for a 20 ms packet). */
  decode(packet: Buffer | Uint8Array): Int16Array;
  /** Idempotent; later decode() calls throw ERR_MEDIA_CLOSED. */
  close(): void;
}

function checkCommon(sampleRate: number | undefined, channels: number | undefined): OpusChannels {
  if (sampleRate !== undefined && sampleRate !== OPUS_SAMPLE_RATE) {
    throw new MediaError(MediaErrorCode.BadOption, `Opus sample rate must be 48000, got ${sampleRate}`);
  }
  const ch = channels ?? 1;
  if (ch !== 1 && ch !== 2) throw new MediaError(MediaErrorCode.BadOption, `Opus channels must be 1 or 2, got ${ch}`);
  return ch;
}

function describe(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createOpusEncoder(options: OpusEncoderOptions = {}): OpusEncoder {
  const channels = checkCommon(options.sampleRate, options.channels);
  const application = options.application ?? 'voip';
  if (application !== 'voip' && application !== 'audio' && application !== 'restricted_lowdelay') {
    throw new MediaError(MediaErrorCode.BadOption, `unknown Opus application ${String(application)}`);
  }
  let encoder: Encoder | undefined = new Encoder({ channels, sample_rate: OPUS_SAMPLE_RATE, application });
  if (options.bitrate !== undefined) {
    const b = options.bitrate;
    if (!Number.isInteger(b) || b < 500 || b > 512000) {
      throw new MediaError(MediaErrorCode.BadOption, `Opus bitrate must be an integer in 500..512000, got ${b}`);
    }
    encoder.bitrate = b;
  }
  const frameLength = OPUS_FRAME_SAMPLES * channels;
  return {
    channels,
    encode(pcm: Int16Array): Buffer {
      if (encoder === undefined) throw new MediaError(MediaErrorCode.Closed, 'Opus encoder is closed');
      if (!(pcm instanceof Int16Array) || pcm.length !== frameLength) {
        throw new MediaError(
          MediaErrorCode.BadFrameSize,
          `Opus encode takes ${frameLength} samples (20 ms × ${channels} ch), got ${pcm?.length}`,
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
  const channels = checkCommon(options.sampleRate, options.channels);
  let decoder: Decoder | undefined = new Decoder({ channels, sample_rate: OPUS_SAMPLE_RATE });
  return {
    channels,
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
      if (out.byteLength % bytesPerSampleFrame !== 0 || out.byteLength / bytesPerSampleFrame > MAX_PACKET_SAMPLES) {
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
