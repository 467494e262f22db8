// NTP timestamps as RTCP uses them (RFC 3550 §4): 32.32 fixed point seconds since 1900, and the
// "middle 32 bits" (16.16) that LSR and RTT arithmetic use (§6.4.1). Time comes in as
// milliseconds on the caller's wall clock; nothing here reads a clock.

/** Seconds from 1900-01-01 (NTP era 0) to 1970-01-01 (Unix epoch). */
export const NTP_UNIX_OFFSET_S = 2208988800;

export interface NtpTimestamp {
  seconds: number;
  fraction: number;
}

/** Unix milliseconds → NTP timestamp (era 0 wraps in 2036; the >>> 0 keeps the low 32 bits). */
export function ntpFromUnixMs(ms: number): NtpTimestamp {
  const whole = Math.floor(ms / 1000);
  const fraction = Math.floor(((ms - whole * 1000) / 1000) * 0x100000000);
  return { seconds: (whole + NTP_UNIX_OFFSET_S) >>> 0, fraction: Math.min(fraction, 0xffffffff) >>> 0 };
}

/** The middle 32 bits: low 16 of the seconds, high 16 of the fraction (the LSR field). */
export function ntpMiddle32(t: NtpTimestamp): number {
  return (((t.seconds & 0xffff) << 16) | (t.fraction >>> 16)) >>> 0;
}

/**
 * RFC 3550 §6.4.1 (Figure 2): RTT = A - LSR - DLSR, every term in 16.16 NTP units (1/65536 s)
 * and computed modulo 2^32. Returns the signed result so callers can reject negatives.
 */
export function rttUnits(arrivalMiddle32: number, lsr: number, dlsr: number): number {
  return (arrivalMiddle32 - lsr - dlsr) | 0;
}

/**
 * Round-trip time in ms from a report block about OUR stream, where `arrivalUnixMs` is the
 * block's arrival on the same wall clock we used for the NTP timestamp of our SR. Undefined
 * when the peer has not received an SR yet (LSR = 0) or the result is negative (clock step,
 * bogus block).
 */
export function roundTripMs(block: { lsr: number; dlsr: number }, arrivalUnixMs: number): number | undefined {
  if (block.lsr === 0) return undefined;
  const rtt = rttUnits(ntpMiddle32(ntpFromUnixMs(arrivalUnixMs)), block.lsr, block.dlsr);
  return rtt < 0 ? undefined : (rtt * 1000) / 65536;
}
