// What the realtime handler does to Realtime events on their way to and from the model: the one
// audio format Parley speaks with a model (PCM16 at 24 kHz, both ways) forced into every session
// config, whatever the client asked for (the caller's audio is Opus on RTP; Parley converts);
// appends written as bytes; the model's events read from their bytes, audio deltas decoded on the
// way. Pure: no socket. Not here: the bridge (realtime-handler.ts).
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

/** What readModelEvent found: the event as JSON.parse gives it, and a delta's audio when it was decoded on the way. */
export interface ModelEventRead {
  readonly event: unknown;
  /** The samples of `event.delta` (a view of the scratch, valid until it is used again); absent when not decoded here. */
  readonly samples?: Int16Array;
}

const DELTA_KEY = Buffer.from('"delta":"', 'latin1');
const QUOTE = 0x22;
const PAD = 0x3d;
/** Stands in for the delta while the rest of the event is parsed: a JSON text can only spell it `\u0000`. */
const MARK = '\u0000';
const MARK_JSON = '\\u0000';

/**
 * One model event from its WebSocket text bytes: what `JSON.parse(String(bytes))` returns, and
 * throws where that throws. The model's audio deltas (6.4 KB of base64 per 100 ms) are not
 * decoded to UTF-16 and scanned by JSON.parse: when the first `"delta":"` is followed by
 * base64 that decodes whole (so no `\`, control or non-ASCII byte: Node's decoder skips those,
 * pinned by test/handlers/realtime-model-event.test.ts) into `scratch`, the rest of the event is
 * parsed with `"\u0000"` in its place, and the delta is put back as its Latin-1 text only if
 * `\u0000` appears nowhere else and the parsed event's own `delta` is that mark (so the bytes
 * found were the top-level delta's value, whatever keys or nesting come before or after).
 * Anything else — another shape, escapes, a delta longer than the scratch — goes through
 * JSON.parse whole, as before.
 */
export function readModelEvent(bytes: Buffer, scratch: Int16Array): ModelEventRead {
  const found = decodeDelta(bytes, scratch);
  if (found !== undefined) {
    const { start, end } = found;
    const head = bytes.toString('utf8', 0, start - 1);
    const tail = bytes.toString('utf8', end);
    if (!head.includes(MARK_JSON) && !tail.includes(MARK_JSON)) {
      let event: unknown;
      try {
        event = JSON.parse(`${head}"${MARK_JSON}${tail}`);
      } catch {
        event = undefined; // the whole text's own parse below throws its own error
      }
      if (typeof event === 'object' && event !== null && (event as { delta?: unknown }).delta === MARK) {
        (event as { delta: string }).delta = found.text;
        return found.pcm === undefined ? { event } : { event, samples: found.pcm };
      }
    }
  }
  return { event: JSON.parse(String(bytes)) };
}

/** The base64 after the first `"delta":"`, decoded into `scratch` if it is all alphabet, whole quads, padding only at the end. */
function decodeDelta(bytes: Buffer, scratch: Int16Array): { start: number; end: number; text: string; pcm?: Int16Array } | undefined {
  const at = bytes.indexOf(DELTA_KEY);
  if (at < 0) return undefined;
  const start = at + DELTA_KEY.length;
  const end = bytes.indexOf(QUOTE, start);
  const length = end - start;
  if (end < 0 || length % 4 !== 0) return undefined;
  const padding = length === 0 || bytes[end - 1] !== PAD ? 0 : bytes[end - 2] === PAD ? 2 : 1;
  const decoded = (length / 4) * 3 - padding;
  if (decoded > scratch.byteLength) return undefined;
  const out = Buffer.from(scratch.buffer, scratch.byteOffset, decoded);
  // Every character outside the alphabet (and `=` before the end) is skipped or stops the
  // decoder, so only a text of alphabet characters fills `decoded` bytes.
  const text = bytes.toString('latin1', start, end);
  if (out.write(text, 'base64') !== decoded) return undefined;
  if (decoded % 2 !== 0 || !LITTLE_ENDIAN) return { start, end, text };
  return { start, end, text, pcm: scratch.subarray(0, decoded / 2) };
}
