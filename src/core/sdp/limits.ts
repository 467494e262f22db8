// Limits an SDP offer must meet before anything parses it (issue #19, attack 6: a 64 KiB offer
// with ~5 900 m-sections cost 53 ms of the event loop that also carries every call's media).
// One linear pass over the raw text counts bytes, lines, m-sections and attribute lines per
// section, and stops at the first limit crossed, so the cost of a hostile offer is bounded by
// these numbers and never by what sdp-transform or the answer builder would do with it.
// Not the syntax check (offer.ts) and not the HTTP body cap (the signaling layer's 413).

export interface SdpLimits {
  /** Bytes of offer text (UTF-16 code units as read; an SDP offer is ASCII in practice). */
  readonly maxBytes: number;
  readonly maxLines: number;
  /** m= sections: a voice call uses 1–3; browsers with many transceivers stay far below this. */
  readonly maxMediaSections: number;
  /** a= lines at session level or in any one m-section (Chrome's audio section has ~40). */
  readonly maxAttributesPerSection: number;
}

export const DEFAULT_SDP_LIMITS: SdpLimits = {
  maxBytes: 64 * 1024,
  maxLines: 2000,
  maxMediaSections: 32,
  maxAttributesPerSection: 256,
};

/** Which limit an offer crossed, as a sentence for the client; undefined when it is within all. */
export function checkSdpLimits(text: string, limits: SdpLimits = DEFAULT_SDP_LIMITS): string | undefined {
  if (text.length > limits.maxBytes) return `the offer is ${text.length} bytes; at most ${limits.maxBytes} are accepted`;
  let lines = 0;
  let sections = 0;
  let attributes = 0;
  let start = 0;
  while (start < text.length) {
    let end = text.indexOf('\n', start);
    if (end === -1) end = text.length;
    lines++;
    if (lines > limits.maxLines) return `the offer has more than ${limits.maxLines} lines`;
    const type = text.charCodeAt(start);
    if (type === 0x6d /* m */) {
      sections++;
      attributes = 0;
      if (sections > limits.maxMediaSections) return `the offer has more than ${limits.maxMediaSections} m-sections`;
    } else if (type === 0x61 /* a */) {
      attributes++;
      if (attributes > limits.maxAttributesPerSection) {
        return `a section of the offer has more than ${limits.maxAttributesPerSection} a= lines`;
      }
    }
    start = end + 1;
  }
  return undefined;
}
