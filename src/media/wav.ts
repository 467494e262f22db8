// Reads and writes RIFF/WAVE files holding 16-bit signed little-endian PCM, mono or stereo, at
// any sample rate. It does not resample or convert formats: Parley's tools generate and record
// at 48 kHz (the Opus RTP clock, RFC 7587 §4.1). The reader is total (STYLE.md rule 5): it never
// reads past the buffer, skips chunks it does not need (LIST, fact, …), and rejects everything
// else with an ERR_MEDIA_BAD_WAV error that says what was wrong.
import { readFile, writeFile } from 'node:fs/promises';
import { MediaError, MediaErrorCode } from './errors.ts';

export interface PcmAudio {
  readonly sampleRate: number;
  readonly channels: 1 | 2;
  /** Interleaved signed 16-bit samples; length is a multiple of `channels`. */
  readonly samples: Int16Array;
}

const RIFF_HEADER_BYTES = 12;
const CHUNK_HEADER_BYTES = 8;
const FMT_PCM_BYTES = 16;
const WAVE_FORMAT_PCM = 0x0001;
const WAVE_FORMAT_EXTENSIBLE = 0xfffe;
const MAX_SAMPLE_RATE = 384000;

function bad(message: string): MediaError {
  return new MediaError(MediaErrorCode.BadWav, `bad WAV: ${message}`);
}

function checkAudio(audio: PcmAudio): void {
  const { sampleRate, channels, samples } = audio;
  if (!Number.isInteger(sampleRate) || sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) {
    throw new MediaError(MediaErrorCode.BadOption, `WAV sample rate must be an integer in 1..${MAX_SAMPLE_RATE}, got ${sampleRate}`);
  }
  if (channels !== 1 && channels !== 2) throw new MediaError(MediaErrorCode.BadOption, `WAV channels must be 1 or 2, got ${channels}`);
  if (samples.length % channels !== 0) {
    throw new MediaError(MediaErrorCode.BadOption, `${samples.length} interleaved samples do not divide into ${channels} channels`);
  }
}

/** Serialises PCM as a canonical 44-byte-header WAV (fmt chunk of 16 bytes, then data). */
export function encodeWav(audio: PcmAudio): Buffer {
  checkAudio(audio);
  const { sampleRate, channels, samples } = audio;
  const dataBytes = samples.length * 2;
  const out = Buffer.alloc(RIFF_HEADER_BYTES + CHUNK_HEADER_BYTES + FMT_PCM_BYTES + CHUNK_HEADER_BYTES + dataBytes);
  let o = 0;
  o += out.write('RIFF', o, 'ascii');
  o = out.writeUInt32LE(out.length - 8, o);
  o += out.write('WAVE', o, 'ascii');
  o += out.write('fmt ', o, 'ascii');
  o = out.writeUInt32LE(FMT_PCM_BYTES, o);
  o = out.writeUInt16LE(WAVE_FORMAT_PCM, o);
  o = out.writeUInt16LE(channels, o);
  o = out.writeUInt32LE(sampleRate, o);
  o = out.writeUInt32LE(sampleRate * channels * 2, o);
  o = out.writeUInt16LE(channels * 2, o);
  o = out.writeUInt16LE(16, o);
  o += out.write('data', o, 'ascii');
  o = out.writeUInt32LE(dataBytes, o);
  for (let i = 0; i < samples.length; i++) o = out.writeInt16LE(samples[i], o);
  return out;
}

interface Format {
  readonly channels: 1 | 2;
  readonly sampleRate: number;
}

function parseFmt(buf: Buffer, start: number, size: number): Format {
  if (size < FMT_PCM_BYTES) throw bad(`fmt chunk is ${size} bytes, need at least ${FMT_PCM_BYTES}`);
  const formatTag = buf.readUInt16LE(start);
  const channels = buf.readUInt16LE(start + 2);
  const sampleRate = buf.readUInt32LE(start + 4);
  const byteRate = buf.readUInt32LE(start + 8);
  const blockAlign = buf.readUInt16LE(start + 12);
  const bitsPerSample = buf.readUInt16LE(start + 14);
  if (formatTag === WAVE_FORMAT_EXTENSIBLE) {
    // WAVEFORMATEXTENSIBLE: cbSize(2) validBits(2) channelMask(4) then a 16-byte SubFormat GUID
    // whose first two bytes are the real format tag.
    if (size < 40) throw bad(`extensible fmt chunk is ${size} bytes, need 40`);
    const subFormat = buf.readUInt16LE(start + 24);
    if (subFormat !== WAVE_FORMAT_PCM) throw bad(`extensible sub-format 0x${subFormat.toString(16)} is not PCM`);
  } else if (formatTag !== WAVE_FORMAT_PCM) {
    throw bad(`format tag 0x${formatTag.toString(16)} is not PCM (1); only 16-bit PCM is read`);
  }
  if (channels !== 1 && channels !== 2) throw bad(`${channels} channels; only mono and stereo are read`);
  if (bitsPerSample !== 16) throw bad(`${bitsPerSample} bits per sample; only 16-bit PCM is read`);
  if (sampleRate < 1 || sampleRate > MAX_SAMPLE_RATE) throw bad(`sample rate ${sampleRate} is out of range`);
  if (blockAlign !== channels * 2) throw bad(`block align ${blockAlign} does not match ${channels} ch × 16 bit`);
  if (byteRate !== sampleRate * blockAlign) throw bad(`byte rate ${byteRate} does not match ${sampleRate} Hz × ${blockAlign}`);
  return { channels, sampleRate };
}

/** Parses a WAV file held in memory. Throws MediaError ERR_MEDIA_BAD_WAV on anything it does not read. */
export function decodeWav(buf: Buffer): PcmAudio {
  if (buf.length < RIFF_HEADER_BYTES) throw bad(`${buf.length} bytes is too short for a RIFF header`);
  if (buf.toString('ascii', 0, 4) !== 'RIFF') throw bad('does not start with "RIFF"');
  if (buf.toString('ascii', 8, 12) !== 'WAVE') throw bad('RIFF form type is not "WAVE"');
  const riffSize = buf.readUInt32LE(4);
  if (riffSize + 8 > buf.length) throw bad(`RIFF size ${riffSize} runs past the end of the ${buf.length}-byte file (truncated?)`);
  const end = riffSize + 8;
  let format: Format | undefined;
  let offset = RIFF_HEADER_BYTES;
  while (offset + CHUNK_HEADER_BYTES <= end) {
    const id = buf.toString('ascii', offset, offset + 4);
    const size = buf.readUInt32LE(offset + 4);
    const start = offset + CHUNK_HEADER_BYTES;
    if (size > end - start) throw bad(`chunk "${id}" of ${size} bytes runs past the end of the file (truncated?)`);
    if (id === 'fmt ') {
      if (format !== undefined) throw bad('more than one fmt chunk');
      format = parseFmt(buf, start, size);
    } else if (id === 'data') {
      if (format === undefined) throw bad('data chunk comes before the fmt chunk');
      const blockAlign = format.channels * 2;
      if (size % blockAlign !== 0) throw bad(`data size ${size} is not a whole number of ${blockAlign}-byte sample frames`);
      const samples = new Int16Array(size / 2);
      for (let i = 0; i < samples.length; i++) samples[i] = buf.readInt16LE(start + 2 * i);
      return { sampleRate: format.sampleRate, channels: format.channels, samples };
    }
    // RIFF chunks are padded to an even length; the pad byte is not counted in `size`.
    offset = start + size + (size & 1);
  }
  throw bad(format === undefined ? 'no fmt chunk' : 'no data chunk');
}

export async function readWavFile(path: string): Promise<PcmAudio> {
  return decodeWav(await readFile(path));
}

export async function writeWavFile(path: string, audio: PcmAudio): Promise<void> {
  await writeFile(path, encodeWav(audio));
}
