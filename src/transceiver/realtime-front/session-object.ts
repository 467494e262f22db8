// The Realtime session object Parley shows a client (OpenAI's GA shape: `client_secrets`'
// `session`, `session.created` / `session.updated` on oai-events): OpenAI's defaults, then what
// the client asked (request.session) on top. Parley does not interpret the config — the agent
// behind the handler does; this only makes the object look like the one OpenAI's clients expect.
import type { JsonObject } from './json-limits.ts';
import { isJsonObject } from './json-limits.ts';

const DEFAULT_FORMAT = { type: 'audio/pcm', rate: 24000 };

/**
 * `session` merged shallowly over the defaults; `audio.input` and `audio.output` are merged one
 * level deeper so `{"audio":{"output":{"voice":"x"}}}` keeps the formats. id/object/type are Parley's.
 */
export function realtimeSessionObject(id: string, session: Readonly<JsonObject>): JsonObject {
  const audio = isJsonObject(session.audio) ? session.audio : {};
  const side = (key: 'input' | 'output', defaults: JsonObject): JsonObject => ({
    ...defaults,
    ...(isJsonObject(audio[key]) ? audio[key] : {}),
  });
  return {
    model: 'parley',
    output_modalities: ['audio'],
    instructions: '',
    tools: [],
    tool_choice: 'auto',
    max_output_tokens: 'inf',
    tracing: null,
    prompt: null,
    include: null,
    ...session,
    type: 'realtime',
    object: 'realtime.session',
    id,
    audio: {
      ...audio,
      input: side('input', { format: DEFAULT_FORMAT, transcription: null, noise_reduction: null, turn_detection: null }),
      output: side('output', { format: DEFAULT_FORMAT, voice: 'alloy', speed: 1 }),
    },
  };
}
