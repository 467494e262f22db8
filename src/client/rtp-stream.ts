// The client's RTP/RTCP for one audio call, over the core codecs (src/core/rtp): stamps outgoing
// Opus packets (RFC 3550 §5.1 header, RFC 7587 §4.1 48 kHz clock, 960 ticks per 20 ms frame),
// keeps receiver statistics of the incoming stream (RtpReceiverStats, RFC 3550 Appendix A),
// builds our SR+SDES with a report block about what we receive, and takes the RTT from the
// peer's report blocks about our stream (§6.4.1: RTT = A − LSR − DLSR). Not here: SRTP.
//
// Clock: RTCP's NTP fields are filled from the caller's monotonic `now`, read as if it were Unix
// time. Only differences between our own timestamps are ever computed (LSR comes back to us),
// so wall-clock time is not needed, and a clock step cannot produce a bogus RTT.
import { encodeRtcpCompound, ntpFromUnixMs, OPUS_CLOCK_RATE, parseRtcpCompound, RtpReceiverStats, SDES_ITEM, TICKS_PER_FRAME, writeRtp } from '../core/rtp/index.ts';
import type { RtcpPacket } from '../core/rtp/index.ts';

export class RtpStream {
  readonly ssrc: number;
  readonly cname: string;
  /** Set from the answer before the first packet: the answerer may renumber (RFC 3264 §6.1). */
  payloadType: number;
  #seq: number;
  #timestamp: number;
  #first = true;
  packetsSent = 0;
  octetsSent = 0;
  /** Payload bytes received (the receiver stats count packets). */
  octetsReceived = 0;
  #remoteSsrc: number | undefined;
  readonly receiver = new RtpReceiverStats(OPUS_CLOCK_RATE);
  rttMs: number | undefined;

  constructor(o: { ssrc: number; cname: string; payloadType: number; firstSeq: number; firstTimestamp: number }) {
    this.ssrc = o.ssrc >>> 0;
    this.cname = o.cname;
    this.payloadType = o.payloadType;
    this.#seq = o.firstSeq & 0xffff;
    this.#timestamp = o.firstTimestamp >>> 0;
  }

  /** One RTP packet around a 20 ms Opus payload; the first carries the marker bit (RFC 3551 §4.1). */
  packet(payload: Buffer): Buffer {
    // The fixed header written directly (encodeRtp zero-fills a fresh ArrayBuffer per packet).
    const out = writeRtp(this.#first, this.payloadType, this.#seq, this.#timestamp, this.ssrc, payload);
    this.#first = false;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + TICKS_PER_FRAME) >>> 0;
    this.packetsSent++;
    this.octetsSent += payload.length;
    return out;
  }

  /**
   * Frames not sent because the sender stalled: the timestamp moves on (time passed) but the
   * sequence number does not, so the receiver sees a gap in time, not a loss (RFC 3550 §5.1).
   */
  skip(frames: number): void {
    this.#timestamp = (this.#timestamp + frames * TICKS_PER_FRAME) >>> 0;
  }

  /** Records one authenticated incoming packet. */
  received(seq: number, timestamp: number, ssrc: number, payloadBytes: number, now: number): void {
    this.#remoteSsrc ??= ssrc;
    this.octetsReceived += payloadBytes;
    this.receiver.onPacket(seq, timestamp, now);
  }

  /** Our Sender Report (with a block about the peer's stream once it has one) and SDES CNAME, as one compound (§6.1). */
  senderReport(now: number): Buffer {
    const ntp = ntpFromUnixMs(now);
    const reports = this.#remoteSsrc === undefined ? [] : [this.receiver.reportBlock(this.#remoteSsrc, now)];
    const packets: RtcpPacket[] = [
      { type: 'sr', ssrc: this.ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp: this.#timestamp,
        packetCount: this.packetsSent >>> 0, octetCount: this.octetsSent >>> 0, reports },
      { type: 'sdes', chunks: [{ ssrc: this.ssrc, items: [{ type: SDES_ITEM.CNAME, text: this.cname }] }] },
    ];
    return encodeRtcpCompound(packets);
  }

  /** An incoming RTCP compound: remembers the peer's SR for our LSR, takes the RTT from blocks about us. */
  rtcp(compound: Buffer, now: number): void {
    const packets = parseRtcpCompound(compound);
    if (!Array.isArray(packets)) return;
    for (const p of packets) {
      if (p.type !== 'sr' && p.type !== 'rr') continue;
      if (p.type === 'sr') this.receiver.onSenderReport({ seconds: p.ntpSeconds, fraction: p.ntpFraction }, now);
      const mine = p.reports.find((b) => b.ssrc === this.ssrc);
      if (mine) this.rttMs = this.receiver.onReportBlock(mine, now) ?? this.rttMs;
    }
  }
}
