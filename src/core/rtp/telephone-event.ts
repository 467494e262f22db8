// RFC 4733 telephone-events (DTMF) in RTP: the 4-byte payload of §2.3 — event (8 bits), E (end),
// R, volume (6 bits), duration (16 bits, in timestamp units) — read and written. Events 0-15 are
// the DTMF keys (§3.2). A key press is several packets with the same RTP timestamp; the last ones
// (sent three times, §2.5.1.4) carry E. Pure and total: a bad payload reads as undefined.

/** RFC 4733 §3.2: events 0-9, 10 = '*', 11 = '#', 12-15 = 'A'-'D'. */
export const DTMF_DIGITS = '0123456789*#ABCD';

export interface TelephoneEvent {
  readonly event: number;
  readonly end: boolean;
  /** 0-63, the power level in -dBm0 (§2.3.4). */
  readonly volume: number;
  /** Timestamp units since the event began (§2.3.5). */
  readonly duration: number;
}

export function parseTelephoneEvent(payload: Uint8Array): TelephoneEvent | undefined {
  if (payload.length < 4) return undefined;
  return { event: payload[0], end: (payload[1] & 0x80) !== 0, volume: payload[1] & 0x3f, duration: (payload[2] << 8) | payload[3] };
}

export function encodeTelephoneEvent(e: TelephoneEvent): Buffer {
  const b = Buffer.alloc(4);
  b[0] = e.event;
  b[1] = (e.end ? 0x80 : 0) | (e.volume & 0x3f);
  b.writeUInt16BE(Math.min(0xffff, e.duration), 2);
  return b;
}

/** The key of a DTMF event (0-15), or undefined for the other events of RFC 4734. */
export function dtmfDigit(event: number): string | undefined {
  return event < DTMF_DIGITS.length ? DTMF_DIGITS[event] : undefined;
}
