// The body of POST /v1/realtime/calls as OpenAI's clients send it: `application/sdp` (the offer
// alone, as WHIP does) or `multipart/form-data` (RFC 7578) with an `sdp` part and an optional
// `session` part (the Realtime session config, JSON), each with or without its own Content-Type
// or filename. The multipart parser is the one built into Node (undici's Body.formData(), the
// Fetch spec's algorithm): no dependency, well kept, and the body is already bounded by the
// signaling server, so its memory is too. On top of it: the boundary must be RFC 2046 §5.1.1
// (1..70 chars), at most MAX_PARTS parts, only `sdp` and `session`, each once.
// Also the query parameters a call's handler sees (CallRequest.query). Not here: HTTP, auth.
import type { JsonObject } from './json-limits.ts';
import { parseJsonObject } from './json-limits.ts';

export const MAX_PARTS = 4;
/** A session config (multipart part or client secret) as JSON text. */
export const MAX_SESSION_BYTES = 16 * 1024;
export const MAX_QUERY_KEYS = 32;
export const MAX_QUERY_VALUE_BYTES = 1024;

export type CallOffer = { readonly sdp: string; readonly session: JsonObject | undefined };

/** Why an offer body was refused: the media type, or the multipart body (with a message). */
export type CallOfferResult =
  | { readonly ok: true; readonly offer: CallOffer }
  | { readonly ok: false; readonly refusal: 'media_type' | 'multipart'; readonly message: string };

const BOUNDARY = /;\s*boundary=(?:"([^"]{1,70})"|([^\s;"]{1,70}))\s*(?:;|$)/i;

/** The media type of a Content-Type value, lower case, without parameters. */
export function mediaType(contentType: string | undefined): string {
  return (contentType ?? '').split(';')[0].trim().toLowerCase();
}

export async function parseCallOffer(contentType: string | undefined, body: Buffer): Promise<CallOfferResult> {
  const type = mediaType(contentType);
  if (type === 'application/sdp') return { ok: true, offer: { sdp: body.toString('utf8'), session: undefined } };
  if (type !== 'multipart/form-data') {
    const got = type === '' ? 'none' : JSON.stringify(type);
    return { ok: false, refusal: 'media_type', message: `send the offer as application/sdp or multipart/form-data (got ${got})` };
  }
  const bad = (message: string): CallOfferResult => ({ ok: false, refusal: 'multipart', message });
  if (!BOUNDARY.test(contentType ?? ''))
    return bad('multipart/form-data needs a boundary parameter of 1 to 70 characters (RFC 2046 §5.1.1)');
  let form: FormData;
  try {
    form = await new Response(body, { headers: { 'content-type': contentType ?? '' } }).formData();
  } catch {
    return bad('the multipart/form-data body does not parse (RFC 7578): check the boundary, CRLFs and part headers');
  }
  const parts: Record<string, string> = {};
  let count = 0;
  for (const [name, value] of form) {
    if (++count > MAX_PARTS) return bad(`at most ${MAX_PARTS} parts are accepted`);
    if (name !== 'sdp' && name !== 'session') return bad(`unknown part ${JSON.stringify(name.slice(0, 40))}: only "sdp" and "session"`);
    if (parts[name] !== undefined) return bad(`the part "${name}" is sent twice`);
    parts[name] = typeof value === 'string' ? value : await value.text();
  }
  if (parts.sdp === undefined) return bad('the multipart body has no "sdp" part');
  if (parts.session === undefined) return { ok: true, offer: { sdp: parts.sdp, session: undefined } };
  const session = parseSession(parts.session);
  if (!session.ok) return bad(`the "session" part: ${session.message}`);
  return { ok: true, offer: { sdp: parts.sdp, session: session.value } };
}

/** A session config as JSON text: an object of at most MAX_SESSION_BYTES and MAX_JSON_DEPTH. */
export function parseSession(text: string): { ok: true; value: JsonObject } | { ok: false; message: string } {
  if (Buffer.byteLength(text) > MAX_SESSION_BYTES) return { ok: false, message: `a session config is at most ${MAX_SESSION_BYTES} bytes` };
  const r = parseJsonObject(text);
  if (r.ok) return r;
  return {
    ok: false,
    message: r.refusal === 'too_deep' ? 'the session config is nested too deeply' : 'the session config must be a JSON object',
  };
}

/** The query parameters a handler sees: all but `handler`, bounded; a message when over the bounds. */
export function callQuery(params: URLSearchParams): { ok: true; query: Record<string, string> } | { ok: false; message: string } {
  const query: Record<string, string> = {};
  let keys = 0;
  for (const [k, v] of params) {
    if (k === 'handler' || Object.hasOwn(query, k)) continue;
    if (++keys > MAX_QUERY_KEYS) return { ok: false, message: `at most ${MAX_QUERY_KEYS} query parameters are accepted` };
    if (Buffer.byteLength(v) > MAX_QUERY_VALUE_BYTES)
      return { ok: false, message: `the query parameter ${JSON.stringify(k.slice(0, 40))} is over ${MAX_QUERY_VALUE_BYTES} bytes` };
    query[k] = v;
  }
  return { ok: true, query };
}
