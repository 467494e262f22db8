// The one RTP header fact SRTP needs per packet, without building a header object: where the
// payload starts (RFC 3550 §5.1 fixed header + CSRCs, §5.3.1 extension). Total: never reads past
// `packet`, returns a negative code instead.

/** Version is not 2. */
export const RTP_BAD_VERSION = -1;
/** Shorter than 12 bytes. */
export const RTP_TOO_SHORT = -2;
/** CSRC list or header extension runs past the end. */
export const RTP_MALFORMED = -3;

/** Byte length of the RTP header in packet[0..len) (fixed part, CSRCs, extension), or a negative code above. */
export function rtpHeaderLength(packet: Uint8Array, len: number = packet.length): number {
  if (len < 12) return RTP_TOO_SHORT;
  const b0 = packet[0];
  if (b0 >>> 6 !== 2) return RTP_BAD_VERSION;
  let h = 12 + 4 * (b0 & 0x0f);
  if (b0 & 0x10) {
    if (h + 4 > len) return RTP_MALFORMED;
    h += 4 + 4 * ((packet[h + 2] << 8) | packet[h + 3]);
  }
  return h > len ? RTP_MALFORMED : h;
}
