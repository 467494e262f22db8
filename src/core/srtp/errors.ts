// Why SRTP/SRTCP refused a packet. The receive path returns one of these instead of throwing
// (STYLE.md rule 4) so the transceiver can count every drop by reason; the send path throws the
// same class, because a packet we built ourselves being malformed is a programming error.
import { ParleyError, reasonCatalog, errorCatalog, reasonCodes, type CodeOf } from '../errors.ts';

export const SRTP_DROPS = reasonCatalog('srtp', {
  too_short: 'shorter than header + tag (+ SRTCP index)',
  bad_version: 'RTP/RTCP version field is not 2 (RFC 3550 §5.1)',
  malformed: 'CSRC list or header extension runs past the packet, or packet over 64 KiB',
  auth_failed: 'HMAC or GCM tag mismatch (RFC 3711 §3.3 step 5, RFC 7714 §8.2)',
  replayed: 'index already seen inside the replay window (RFC 3711 §3.3.2)',
  too_old: 'index left of the replay window, or estimated ROC would be negative',
  too_many_ssrcs: 'a new SSRC beyond the per-session cap (bounds memory under hostile input)',
  index_exhausted: 'send side: ROC past 2^32 or SRTCP index past 2^31 (RFC 3711 §3.3.1, §3.4)',
});
export const SRTP_DROP_REASONS = SRTP_DROPS.reasons;
export type SrtpDropReason = (typeof SRTP_DROP_REASONS)[number];

/** Every SRTP code: one per drop reason (an SrtpError), and the keying error. */
export const SRTP_ERRORS = errorCatalog('SRTP', {
  ...reasonCodes('SRTP', SRTP_DROPS),
  badKeyingMaterial: ['ERR_SRTP_BAD_KEYING_MATERIAL', 'master key or salt of the wrong length, or too little DTLS keying material'],
  nativeMisuse: [
    'ERR_SRTP_NATIVE_MISUSE',
    'the native SRTP addon (native/src/srtp_native.c) was called with wrong arguments: a bug in its TypeScript wrapper',
  ],
});
export type SrtpErrorCode = CodeOf<typeof SRTP_ERRORS>;

/** A refused SRTP/SRTCP packet. `code` is `ERR_SRTP_` + the reason in upper case. */
export class SrtpError extends ParleyError<SrtpErrorCode> {
  readonly reason: SrtpDropReason;
  constructor(reason: SrtpDropReason) {
    super(SRTP_ERRORS.codes[reason], `SRTP packet refused: ${reason}`);
    this.reason = reason;
  }
}

// One frozen instance per reason: a flood of forged packets must not cost an Error allocation and
// a stack capture each. Their stacks point here, which is fine: the reason is the information.
const INSTANCES = Object.fromEntries(SRTP_DROP_REASONS.map((r) => [r, Object.freeze(new SrtpError(r))])) as Record<
  SrtpDropReason,
  SrtpError
>;

/** The shared, frozen SrtpError for `reason`. */
export function srtpError(reason: SrtpDropReason): SrtpError {
  return INSTANCES[reason];
}

/** Bad master key/salt length or keying-material size: thrown at construction, never per packet. */
export class SrtpKeyError extends ParleyError<'ERR_SRTP_BAD_KEYING_MATERIAL'> {
  constructor(message: string) {
    super(SRTP_ERRORS.codes.badKeyingMaterial, message);
  }
}
