// A call's close detail: the free text an agent gives with its hang-up (ctx.hangup(reason,
// detail), a media-stream agent's WebSocket close code and reason). It travels to places that
// must not be steered by it — GET's JSON, the `call closed` log line, the caller's page — so it
// is made safe once, here: control and format characters (C0/C1, bidi overrides, zero-width)
// become spaces, runs of white space one space, and it is cut to MAX_CLOSE_DETAIL_CHARS code
// points. Metrics never see it (labels stay the bounded CloseReason).

/** Longest close detail kept, in code points (a WebSocket close reason is at most 123 bytes). */
export const MAX_CLOSE_DETAIL_CHARS = 200;

/** The text made safe to show and log, or undefined when nothing printable is left (or it is not a string). */
export function closeDetail(text: unknown): string | undefined {
  if (typeof text !== 'string') return undefined;
  // Bounded before the regular expressions run: a handler may pass a huge string.
  const clean = [...text.slice(0, 4 * MAX_CLOSE_DETAIL_CHARS)]
    .slice(0, 2 * MAX_CLOSE_DETAIL_CHARS)
    .join('')
    .replace(/[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\uFFFD]/gu, ' ')
    .replace(/\s+/gu, ' ')
    .trim();
  const cut = [...clean].slice(0, MAX_CLOSE_DETAIL_CHARS).join('');
  return cut === '' ? undefined : cut;
}
