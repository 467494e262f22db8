// What the realtime handler does to Realtime events on their way to the model: the one audio
// format Parley speaks with a model (PCM16 at 24 kHz, both ways) forced into every session
// config, whatever the client asked for (the caller's audio is Opus on RTP; Parley converts).
export const MODEL_AUDIO_FORMAT = { type: 'audio/pcm', rate: 24000 } as const;

function object(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
}

/** The session config with `audio.input.format` and `audio.output.format` set to PCM16 24 kHz (GA shape, `type: realtime`). */
export function forceAudioFormats(session: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const audio = object(session.audio);
  return {
    type: 'realtime',
    ...session,
    audio: {
      ...audio,
      input: { ...object(audio.input), format: MODEL_AUDIO_FORMAT },
      output: { ...object(audio.output), format: MODEL_AUDIO_FORMAT },
    },
  };
}

/** Realtime `audio/pcm` on the wire: little-endian PCM16 in base64. */
export function pcm16ToBase64(pcm: Int16Array): string {
  return Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength).toString('base64');
}

/** Typed arrays use the host's byte order: on a little-endian host PCM16LE bytes are the samples as they are. */
const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The samples of a base64 `audio/pcm` chunk; undefined when its byte count is odd. In `scratch`
 * when it is large enough (the result is then a view of it, valid until the scratch is used
 * again: for a caller that copies the samples out at once), else in a fresh array.
 */
export function pcm16FromBase64(text: string, scratch?: Int16Array): Int16Array | undefined {
  // An upper bound from the text's length and padding; the decoder skips characters outside the
  // alphabet, so what it really wrote decides.
  const bound = Math.ceil(Buffer.byteLength(text, 'base64') / 2);
  const pcm = scratch !== undefined && scratch.length >= bound ? scratch.subarray(0, bound) : new Int16Array(bound);
  // Decoded straight into the samples' memory: no intermediate Buffer and copy.
  const bytes = Buffer.from(pcm.buffer, pcm.byteOffset, pcm.byteLength);
  const written = bytes.write(text, 'base64');
  if (written % 2 !== 0) return undefined;
  const samples = written === bytes.length ? pcm : pcm.subarray(0, written / 2);
  // On a little-endian host PCM16LE bytes are the samples as they are.
  if (!LITTLE_ENDIAN) for (let i = 0; i < samples.length; i++) samples[i] = bytes.readInt16LE(2 * i);
  return samples;
}

const APPEND_HEAD = Buffer.from('{"type":"input_audio_buffer.append","audio":"', 'latin1');
const APPEND_TAIL = Buffer.from('"}', 'latin1');

/**
 * `{"type":"input_audio_buffer.append","audio":"<base64>"}` as the bytes of a WebSocket text
 * message. Base64 needs no JSON escaping, so this is what JSON.stringify would give, without
 * building the 2.5 KB string, JSON-scanning it, and encoding it to UTF-8 again in the sender.
 */
export function appendEventBytes(pcm: Int16Array): Buffer {
  const audio = pcm16ToBase64(pcm);
  const out = Buffer.allocUnsafe(APPEND_HEAD.length + audio.length + APPEND_TAIL.length);
  APPEND_HEAD.copy(out, 0);
  out.write(audio, APPEND_HEAD.length, 'latin1');
  APPEND_TAIL.copy(out, APPEND_HEAD.length + audio.length);
  return out;
}
