// The RTCP packets a voice call needs (RFC 3550 §6.4-§6.6): SR, RR, SDES, BYE. Any other type
// (APP, RTPFB/PSFB feedback, XR) is carried through as `other` with its raw body.

export const RTCP_TYPE = { SR: 200, RR: 201, SDES: 202, BYE: 203, APP: 204, RTPFB: 205, PSFB: 206, XR: 207 } as const;
export const SDES_ITEM = { END: 0, CNAME: 1, NAME: 2, EMAIL: 3, PHONE: 4, LOC: 5, TOOL: 6, NOTE: 7, PRIV: 8 } as const;

/** RFC 3550 §6.4.1 report block, 24 bytes. */
export interface ReportBlock {
  ssrc: number;
  /** Loss since the previous report, in 1/256 (0..255). */
  fractionLost: number;
  /** Cumulative lost packets, a signed 24-bit value (negative with duplicates). */
  cumulativeLost: number;
  /** Extended highest sequence number received: cycles << 16 | highest seq. */
  highestSeq: number;
  /** Interarrival jitter in RTP timestamp units. */
  jitter: number;
  /** Middle 32 bits of the NTP timestamp of the last SR received from this source, or 0. */
  lsr: number;
  /** Delay since that SR in 1/65536 s, or 0. */
  dlsr: number;
}

export interface SenderReport {
  type: 'sr';
  ssrc: number;
  ntpSeconds: number;
  ntpFraction: number;
  rtpTimestamp: number;
  packetCount: number;
  octetCount: number;
  reports: ReportBlock[];
  /** Profile-specific extension after the report blocks (usually empty). */
  extension?: Buffer;
}

export interface ReceiverReport {
  type: 'rr';
  ssrc: number;
  reports: ReportBlock[];
  extension?: Buffer;
}

export interface SdesItem {
  type: number;
  text: string;
}

export interface SdesChunk {
  ssrc: number;
  items: SdesItem[];
}

export interface SourceDescription {
  type: 'sdes';
  chunks: SdesChunk[];
}

export interface Goodbye {
  type: 'bye';
  ssrcs: number[];
  reason?: string;
}

/** Any other RTCP packet: `count` is the 5-bit RC/FMT field, `body` what follows the 4-byte header. */
export interface OtherRtcp {
  type: 'other';
  packetType: number;
  count: number;
  body: Buffer;
}

export type RtcpPacket = SenderReport | ReceiverReport | SourceDescription | Goodbye | OtherRtcp;
