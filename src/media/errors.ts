// Errors of the media toolbox (src/media): Opus wrapper, WAV reader/writer, tone generator.
// One catalog of stable codes (STYLE.md rule 6); callers branch on `code`, never on message.
import { ParleyError, errorCatalog, type CodeOf } from '../core/errors.ts';

export const MEDIA_ERRORS = errorCatalog('MEDIA', {
  BadOption: ['ERR_MEDIA_BAD_OPTION', 'a codec option is out of range (sample rate, channels, application, frequency…)'],
  BadFrameSize: ['ERR_MEDIA_BAD_FRAME_SIZE', 'a PCM frame handed to the encoder is not exactly 20 ms for the configured channels'],
  OpusEncodeFailed: ['ERR_MEDIA_OPUS_ENCODE_FAILED', 'libopus rejected a frame while encoding'],
  OpusDecodeFailed: ['ERR_MEDIA_OPUS_DECODE_FAILED', 'libopus rejected a packet while decoding (empty, corrupt, or not Opus)'],
  Closed: ['ERR_MEDIA_CLOSED', 'the encoder or decoder was used after close()'],
  BadWav: ['ERR_MEDIA_BAD_WAV', 'a WAV file is malformed, truncated, or in a format we do not read (only 16-bit PCM)'],
});
export const MediaErrorCode = MEDIA_ERRORS.codes;
export type MediaErrorCode = CodeOf<typeof MEDIA_ERRORS>;

export class MediaError extends ParleyError<MediaErrorCode> {}
