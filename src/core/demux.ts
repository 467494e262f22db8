// First-byte demultiplexing of one UDP 5-tuple carrying STUN, DTLS and SRTP/SRTCP (RFC 7983
// §7, as updated by RFC 9443 §3), plus the RTP/RTCP split of RFC 5761 §4. Pure functions, no
// parsing beyond the first two bytes: a class here is only a routing hint, and each protocol's
// own parser still validates. Not here: STUN framing checks (stun/raw.ts).

export type PacketKind = 'stun' | 'zrtp' | 'dtls' | 'turn-channel' | 'quic' | 'rtp' | 'unknown';

/**
 * RFC 7983 §7 / RFC 9443 §3:
 *   0..3     STUN (the two leading zero bits of RFC 8489 §5, and method bits 0)
 *   16..19   ZRTP
 *   20..63   DTLS (content types 20..63)
 *   64..79   TURN ChannelData (channel numbers 0x4000..0x4FFF, RFC 8656 §12)
 *   80..127  QUIC short header (fixed "QUIC bit" 0x40 set). A short header can also start
 *            with 64..79; there TURN channels take precedence, and an endpoint that
 *            multiplexes QUIC must not grease the QUIC bit (RFC 9287).
 *   128..191 RTP and RTCP (version 2); see isRtcp
 *   192..255 QUIC long header (header form and fixed bits set)
 * 4..15 is dropped ('unknown'), as is anything that is not a byte value. Parley speaks neither
 * ZRTP, TURN nor QUIC: those classes exist so they are counted, not parsed as something else.
 */
export function classify(firstByte: number): PacketKind {
  if (!Number.isInteger(firstByte) || firstByte < 0 || firstByte > 255) return 'unknown';
  if (firstByte <= 3) return 'stun';
  if (firstByte >= 16 && firstByte <= 19) return 'zrtp';
  if (firstByte >= 20 && firstByte <= 63) return 'dtls';
  if (firstByte >= 64 && firstByte <= 79) return 'turn-channel';
  if (firstByte >= 80 && firstByte <= 127) return 'quic';
  if (firstByte >= 128 && firstByte <= 191) return 'rtp';
  if (firstByte >= 192) return 'quic';
  return 'unknown';
}

/** classify() of a whole packet; an empty datagram is 'unknown'. */
export function classifyPacket(packet: Uint8Array): PacketKind {
  return packet.length === 0 ? 'unknown' : classify(packet[0]);
}

/**
 * RFC 5761 §4: with RTP and RTCP on one port, a packet is RTCP when its second octet (the RTCP
 * packet type; for RTP it would be marker bit + payload type) is 192..223 — that is why RTP
 * payload types 64..95 must not be used when muxing. Also requires version 2 (RFC 3550 §5.1)
 * and at least the two bytes looked at.
 */
export function isRtcp(packet: Uint8Array): boolean {
  return packet.length >= 2 && (packet[0] & 0xc0) === 0x80 && packet[1] >= 192 && packet[1] <= 223;
}
