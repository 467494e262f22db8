// Why an RTP or RTCP packet did not parse. Parsers are total (STYLE.md rule 5): they return one
// of these, never throw and never read past their input. Shared frozen instances, as in
// src/core/srtp/errors.ts, because hostile input must not cost an allocation each.
import { ParleyError } from '../errors.ts';

export const RTP_PARSE_REASONS = [
  'too-short', // shorter than the fixed header it claims to be
  'bad-version', // version field is not 2 (RFC 3550 §5.1, §6.4.1)
  'bad-csrc', // CSRC list runs past the packet
  'bad-extension', // header extension (or an RFC 8285 element) runs past its bounds
  'bad-padding', // P set but the padding count is 0 or larger than what follows the header
  'bad-length', // an RTCP length field disagrees with the bytes present (RFC 3550 §6.4.1)
  'bad-compound', // padding before the last packet of a compound (RFC 3550 Appendix A.2)
  'bad-rtcp-body', // SR/RR/SDES/BYE body shorter than its count says
] as const;

export type RtpParseReason = (typeof RTP_PARSE_REASONS)[number];

export class RtpParseError extends ParleyError {
  readonly reason: RtpParseReason;
  constructor(reason: RtpParseReason) {
    super(`RTP_${reason.toUpperCase().replaceAll('-', '_')}`, `RTP/RTCP packet refused: ${reason}`);
    this.reason = reason;
  }
}

const INSTANCES = Object.fromEntries(
  RTP_PARSE_REASONS.map((r) => [r, Object.freeze(new RtpParseError(r))]),
) as Record<RtpParseReason, RtpParseError>;

export function rtpParseError(reason: RtpParseReason): RtpParseError {
  return INSTANCES[reason];
}
