// Why an SDP offer cannot be answered. One catalog (STYLE.md rule 6): the call registry maps
// each code to a signaling error (ERR_SIGNALING_BAD_SDP for an offer we cannot read,
// ERR_SIGNALING_SDP_NOT_ACCEPTABLE for one we read but cannot serve), and the message says what
// is wrong so a client developer can fix it.
import { ParleyError, errorCatalog, type CodeOf } from '../errors.ts';

export const SDP_ERRORS = errorCatalog('SDP', {
  unparsable: ['ERR_SDP_UNPARSABLE', 'not SDP at all, or a line that is not `x=value` (RFC 8866 §5)'],
  incomplete: ['ERR_SDP_INCOMPLETE', 'readable SDP missing something every WebRTC offer carries (ICE credentials, fingerprint…)'],
  noAudio: ['ERR_SDP_NO_AUDIO', 'no usable `m=audio` section'],
  noOpus: ['ERR_SDP_NO_OPUS', 'an audio section, but no `opus/48000/2` payload type'],
  tooLarge: ['ERR_SDP_TOO_LARGE', 'over a limit checked before parsing: bytes, lines, m-sections or a= lines per section'],
  unsupported: ['ERR_SDP_UNSUPPORTED', 'something we cannot do: not DTLS-SRTP, no rtcp-mux, a fingerprint hash we do not support'],
});
export const SdpErrorCode = SDP_ERRORS.codes;
export type SdpErrorCode = CodeOf<typeof SDP_ERRORS>;

export class SdpError extends ParleyError<SdpErrorCode> {}
