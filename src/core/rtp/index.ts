// RTP and RTCP for the sans-IO core: packet codecs (RFC 3550, RFC 8285), the RTCP packets a
// voice call needs, and receiver statistics (RFC 3550 Appendix A). See docs/srtp-rtp.md.
export { parseRtp, encodeRtp } from './rtp-packet.ts';
export { writeRtp } from './write-rtp.ts';
export { OPUS_CLOCK_RATE, FRAME_MS, TICKS_PER_FRAME } from './opus-clock.ts';
export type { RtpPacket, RtpHeader, RtpHeaderExtension } from './rtp-packet.ts';
export { rtpHeaderLength } from './header-length.ts';
export {
  parseExtensionElements,
  encodeExtensionElements,
  ONE_BYTE_PROFILE,
  TWO_BYTE_PROFILE,
  isOneByteProfile,
  isTwoByteProfile,
} from './header-extension.ts';
export type { RtpExtensionElement } from './header-extension.ts';
export { parseRtcpCompound, encodeRtcpCompound } from './rtcp-codec.ts';
export { RTCP_TYPE, SDES_ITEM } from './rtcp-types.ts';
export type {
  RtcpPacket,
  SenderReport,
  ReceiverReport,
  SourceDescription,
  Goodbye,
  OtherRtcp,
  ReportBlock,
  SdesChunk,
  SdesItem,
} from './rtcp-types.ts';
export { RtpReceiverStats } from './receiver-stats.ts';
export { ntpFromUnixMs, ntpMiddle32, roundTripMs, rttUnits, NTP_UNIX_OFFSET_S } from './ntp.ts';
export type { NtpTimestamp } from './ntp.ts';
export { RtpParseError, rtpParseError, RTP_ERRORS, RTP_PARSE_DROPS, RTP_PARSE_REASONS } from './errors.ts';
export type { RtpParseReason } from './errors.ts';
export { parseTelephoneEvent, encodeTelephoneEvent, dtmfDigit, DTMF_DIGITS } from './telephone-event.ts';
export type { TelephoneEvent } from './telephone-event.ts';
