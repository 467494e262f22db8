// Why an RTP or RTCP packet did not parse. Parsers are total (STYLE.md rule 5): they return one
// of these, never throw and never read past their input. Shared frozen instances, as in
// src/core/srtp/errors.ts, because hostile input must not cost an allocation each.
import { ParleyError, reasonCatalog, errorCatalog, reasonCodes, type CodeOf } from '../errors.ts';

export const RTP_PARSE_DROPS = reasonCatalog('rtp', {
  too_short: 'shorter than the fixed header it claims to be',
  bad_version: 'version field is not 2 (RFC 3550 §5.1, §6.4.1)',
  bad_csrc: 'CSRC list runs past the packet',
  bad_extension: 'header extension (or an RFC 8285 element) runs past its bounds',
  bad_padding: 'P set but the padding count is 0 or larger than what follows the header',
  bad_length: 'an RTCP length field disagrees with the bytes present (RFC 3550 §6.4.1)',
  bad_compound: 'padding before the last packet of a compound (RFC 3550 Appendix A.2)',
  bad_rtcp_body: 'SR/RR/SDES/BYE body shorter than its count says',
});
export const RTP_PARSE_REASONS = RTP_PARSE_DROPS.reasons;
export type RtpParseReason = (typeof RTP_PARSE_REASONS)[number];

/** One code per parse reason: `ERR_RTP_` + the reason in upper case. */
export const RTP_ERRORS = errorCatalog('RTP', reasonCodes('RTP', RTP_PARSE_DROPS));
export type RtpErrorCode = CodeOf<typeof RTP_ERRORS>;

export class RtpParseError extends ParleyError<RtpErrorCode> {
  readonly reason: RtpParseReason;
  constructor(reason: RtpParseReason) {
    super(RTP_ERRORS.codes[reason], `RTP/RTCP packet refused: ${reason}`);
    this.reason = reason;
  }
}

const INSTANCES = Object.fromEntries(RTP_PARSE_REASONS.map((r) => [r, Object.freeze(new RtpParseError(r))])) as Record<
  RtpParseReason,
  RtpParseError
>;

export function rtpParseError(reason: RtpParseReason): RtpParseError {
  return INSTANCES[reason];
}
