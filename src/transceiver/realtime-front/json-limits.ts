// Bounds on client JSON that Parley keeps (a Realtime session config, a client event): parsed
// text must be a JSON object no deeper than a limit. JSON.parse itself is bounded by the text
// size (the caller checks bytes first); depth is checked after, without recursion, so a hostile
// `[[[[…` cannot blow the stack of whoever walks the value later.
// Not here: what a session or event means (session-object.ts, calls/oai-events.ts).

/** Nesting a session config or event may have (OpenAI's deepest, tools' JSON schemas, fit well inside). */
export const MAX_JSON_DEPTH = 32;

export type JsonObject = Record<string, unknown>;

/** Why a text is not an acceptable JSON object. */
export type JsonRefusal = 'not_json' | 'not_object' | 'too_deep';

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Depth of a parsed JSON value (a scalar is 0), stopping once it passes `limit`. */
export function jsonDepth(value: unknown, limit = MAX_JSON_DEPTH): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 0]];
  while (stack.length > 0) {
    const [v, d] = stack.pop()!;
    if (typeof v !== 'object' || v === null) continue;
    const depth = d + 1;
    if (depth > max) max = depth;
    if (max > limit) return max;
    for (const child of Object.values(v)) stack.push([child, depth]);
  }
  return max;
}

/** Parses text as a JSON object within MAX_JSON_DEPTH (the caller bounds its size). */
export function parseJsonObject(text: string): { ok: true; value: JsonObject } | { ok: false; refusal: JsonRefusal } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, refusal: 'not_json' };
  }
  if (!isJsonObject(value)) return { ok: false, refusal: 'not_object' };
  if (jsonDepth(value) > MAX_JSON_DEPTH) return { ok: false, refusal: 'too_deep' };
  return { ok: true, value };
}
