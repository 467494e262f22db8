// Errors of the media toolbox (src/media): Opus wrapper, WAV reader/writer, tone generator.
// One catalog of stable codes (STYLE.md rule 6); callers branch on `code`, never on message.
import { ParleyError } from '../core/errors.ts';

export const MediaErrorCode = {
  /** A codec option is out of range (sample rate, channels, application, frequency…). */
  BadOption: 'MEDIA_BAD_OPTION',
  /** A PCM frame handed to the encoder is not exactly 20 ms for the configured channels. */
  BadFrameSize: 'MEDIA_BAD_FRAME_SIZE',
  /** libopus rejected a frame while encoding. */
  OpusEncodeFailed: 'MEDIA_OPUS_ENCODE_FAILED',
  /** libopus rejected a packet while decoding (empty, corrupt, or not Opus). */
  OpusDecodeFailed: 'MEDIA_OPUS_DECODE_FAILED',
  /** The encoder or decoder was used after close(). */
  Closed: 'MEDIA_CLOSED',
  /** A WAV file is malformed, truncated, or in a format we do not read (only 16-bit PCM). */
  BadWav: 'MEDIA_BAD_WAV',
} as const;
export type MediaErrorCode = (typeof MediaErrorCode)[keyof typeof MediaErrorCode];

export class MediaError extends ParleyError {
  declare readonly code: MediaErrorCode;
  constructor(code: MediaErrorCode, message: string, options?: ErrorOptions) {
    super(code, message, options);
  }
}
