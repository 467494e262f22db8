// The Twilio Media Streams protocol's messages (https://www.twilio.com/docs/voice/media-streams/websocket-messages),
// as Parley speaks it to an agent: what Parley sends (connected, start, media, dtmf, mark, stop;
// every message with `sequenceNumber` and `streamSid`, numbers as strings as Twilio sends them)
// and a total reader for what the agent sends (media, mark, clear). Pure: no socket, no clock.
// Not here: the bridge (media-stream-handler.ts).

export const MEDIA_STREAM_FORMATS = ['mulaw', 'l16-16000', 'l16-24000'] as const;
export type MediaStreamFormat = (typeof MEDIA_STREAM_FORMATS)[number];

export interface MediaFormat {
  readonly encoding: 'audio/x-mulaw' | 'audio/x-l16';
  readonly sampleRate: 8000 | 16000 | 24000;
  readonly channels: 1;
}

export function mediaFormat(format: MediaStreamFormat): MediaFormat {
  if (format === 'mulaw') return { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 };
  return { encoding: 'audio/x-l16', sampleRate: format === 'l16-16000' ? 16000 : 24000, channels: 1 };
}

/** customParameters bounds: keys and value length (a query is ≤ 32 keys already; the session JSON may be larger). */
export const MAX_CUSTOM_PARAMETERS = 64;
export const MAX_CUSTOM_PARAMETER_CHARS = 1024;
/** A mark name longer than this is refused (Twilio's names are labels). */
export const MAX_MARK_NAME_CHARS = 256;

/**
 * start.customParameters: the query parameters as given, then the session JSON flattened to
 * dotted paths (`audio.output.voice`), strings as they are and other leaves as JSON; the query
 * wins a clash. Bounded: the first 64 keys, values cut at 1 KiB.
 */
export function customParameters(
  query: Readonly<Record<string, string>>,
  session: Readonly<Record<string, unknown>>,
): Record<string, string> {
  const out: Record<string, string> = {};
  let n = 0;
  const put = (key: string, value: string): void => {
    if (n >= MAX_CUSTOM_PARAMETERS || Object.hasOwn(out, key)) return;
    out[key] = value.slice(0, MAX_CUSTOM_PARAMETER_CHARS);
    n++;
  };
  for (const [k, v] of Object.entries(query)) put(k, v);
  const walk = (prefix: string, value: unknown, depth: number): void => {
    if (value !== null && typeof value === 'object' && !Array.isArray(value) && depth < 8) {
      for (const [k, v] of Object.entries(value)) walk(prefix === '' ? k : `${prefix}.${k}`, v, depth + 1);
    } else if (prefix !== '') put(prefix, typeof value === 'string' ? value : (JSON.stringify(value) ?? ''));
  };
  walk('', session, 0);
  return out;
}

/** What the agent may send; anything else is `invalid` with a reason (counted, never thrown). */
export type AgentMessage =
  | { readonly event: 'media'; readonly payload: Buffer }
  | { readonly event: 'mark'; readonly name: string }
  | { readonly event: 'clear' }
  | { readonly event: 'ignored'; readonly type: string }
  | { readonly event: 'invalid'; readonly reason: string };

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

/** Reads one text frame from the agent. Total: never throws. */
export function readAgentMessage(text: string): AgentMessage {
  let m: unknown;
  try {
    m = JSON.parse(text);
  } catch {
    return { event: 'invalid', reason: 'not JSON' };
  }
  if (m === null || typeof m !== 'object' || Array.isArray(m)) return { event: 'invalid', reason: 'not a JSON object' };
  const o = m as Record<string, unknown>;
  if (typeof o.event !== 'string') return { event: 'invalid', reason: 'no string `event`' };
  switch (o.event) {
    case 'media': {
      const payload = (o.media as { payload?: unknown } | undefined)?.payload;
      if (typeof payload !== 'string' || payload.length % 4 !== 0 || !BASE64.test(payload))
        return { event: 'invalid', reason: 'media.payload is not base64' };
      return { event: 'media', payload: Buffer.from(payload, 'base64') };
    }
    case 'mark': {
      const name = (o.mark as { name?: unknown } | undefined)?.name;
      if (typeof name !== 'string' || name.length > MAX_MARK_NAME_CHARS)
        return { event: 'invalid', reason: 'mark.name is not a string of ≤ 256 chars' };
      return { event: 'mark', name };
    }
    case 'clear':
      return { event: 'clear' };
    default:
      return { event: 'ignored', type: o.event.slice(0, 64) };
  }
}
