// SDP text → sdp-transform's SessionDescription, with the ICE credentials as the text they were.
// Every SDP this project reads (offers in the transceiver, answers in `parley call`) goes through
// parseSdp, so this correction is made in one place.
import { parse } from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';

/**
 * sdp-transform's parse, with a=ice-ufrag and a=ice-pwd (session and media level) as strings.
 * sdp-transform turns every attribute value that reads as a canonical integer into a number, so
 * `a=ice-ufrag:72686251` became 72686251 — and a number never equals the ufrag a peer's checks
 * carry in USERNAME, so every check of such a call was refused with 401 and the call never
 * connected. Firefox's ufrags are 8 hex digits: all decimal digits in (10/16)^8 ≈ 2.3 % of
 * calls. sdp-transform converts only when String(Number(v)) === v, so String() restores the
 * exact text (leading zeros and longer digit runs were never converted).
 */
export function parseSdp(text: string): SessionDescription {
  const sdp = parse(text);
  credentialsAsText(sdp);
  for (const m of sdp.media ?? []) credentialsAsText(m);
  return sdp;
}

function credentialsAsText(x: { iceUfrag?: string; icePwd?: string }): void {
  if (x.iceUfrag !== undefined) x.iceUfrag = String(x.iceUfrag);
  if (x.icePwd !== undefined) x.icePwd = String(x.icePwd);
}
