// Why an SDP offer cannot be answered. One catalog (STYLE.md rule 6): the signaling layer maps
// each code to an HTTP status (400 for an offer we cannot read, 406 for one we read but cannot
// serve), and the message says what is wrong so a client developer can fix it.
import { ParleyError } from '../errors.ts';

export const SdpErrorCode = {
  /** Not SDP at all, or a line that is not `x=value` (RFC 8866 §5). */
  unparsable: 'ERR_SDP_UNPARSABLE',
  /** Readable SDP missing something every WebRTC offer carries (ICE credentials, fingerprint…). */
  incomplete: 'ERR_SDP_INCOMPLETE',
  /** No usable `m=audio` section. */
  noAudio: 'ERR_SDP_NO_AUDIO',
  /** An audio section, but no `opus/48000/2` payload type. */
  noOpus: 'ERR_SDP_NO_OPUS',
  /** Something we cannot do: not DTLS-SRTP, no rtcp-mux, a fingerprint hash we do not support. */
  unsupported: 'ERR_SDP_UNSUPPORTED',
} as const;
export type SdpErrorCode = (typeof SdpErrorCode)[keyof typeof SdpErrorCode];

export class SdpError extends ParleyError {
  declare readonly code: SdpErrorCode;
  constructor(code: SdpErrorCode, message: string) {
    super(code, message);
  }
}
