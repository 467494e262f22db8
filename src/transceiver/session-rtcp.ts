// RTCP for one call (sans-IO): statistics about the caller's stream (RFC 3550 Appendix A via
// RtpReceiverStats), reading the caller's SR/RR (LSR for our reports; RTT and loss of our
// stream from its report blocks, §6.4.1) and building our compound reports (§6.1: SR or RR first,
// then SDES with our CNAME; BYE at the end of the call, §6.6). It does not encrypt: the session
// SRTCP-protects what `report()` returns.
import type { Rng } from '../core/rng.ts';
import { OPUS_CLOCK_RATE, RtpReceiverStats, SDES_ITEM, encodeRtcpCompound, ntpFromUnixMs } from '../core/rtp/index.ts';
import type { ReportBlock, RtcpPacket } from '../core/rtp/index.ts';
import type { OutboundAudio } from './outbound-audio.ts';

/** RFC 3550 §6.2 allows a shorter interval than 5 s for small sessions; voice stats want ~2.5 s. */
export const DEFAULT_RTCP_INTERVAL_MS = 2500;
/** The first report goes early so RTT and loss are known within a second of connecting. */
const FIRST_REPORT_MS = 500;

export interface RtcpReporterOptions {
  readonly ssrc: number;
  readonly cname: string;
  readonly rng: Rng;
  readonly intervalMs?: number;
  /** Added to the session clock to get Unix ms, for SR NTP timestamps and RTT (RFC 3550 §4). */
  readonly wallClockOffsetMs: number;
}

export class RtcpReporter {
  #recv = new RtpReceiverStats(OPUS_CLOCK_RATE);
  readonly #ssrc: number;
  readonly #cname: string;
  readonly #rng: Rng;
  readonly #interval: number;
  readonly #offset: number;
  #remoteSsrc: number | undefined;
  #due: number | undefined;
  #remoteFractionLost: number | undefined;
  sent = 0;
  received = 0;

  constructor(o: RtcpReporterOptions) {
    this.#ssrc = o.ssrc >>> 0;
    this.#cname = o.cname;
    this.#rng = o.rng;
    this.#interval = o.intervalMs ?? DEFAULT_RTCP_INTERVAL_MS;
    this.#offset = o.wallClockOffsetMs;
  }

  /** Statistics of the caller's stream. */
  get recv(): RtpReceiverStats {
    return this.#recv;
  }
  get rttMs(): number | undefined {
    return this.#recv.lastRttMs;
  }
  /** Fraction of our packets the caller reports lost (0..1), from its latest report block. */
  get remoteFractionLost(): number | undefined {
    return this.#remoteFractionLost;
  }
  get remoteSsrc(): number | undefined {
    return this.#remoteSsrc;
  }

  /** Reports start when SRTP is up. */
  start(now: number): void {
    this.#due ??= now + FIRST_REPORT_MS;
  }

  due(): number | undefined {
    return this.#due;
  }

  /** One authenticated RTP packet of the caller's Opus stream. */
  onRtp(ssrc: number, seq: number, rtpTimestamp: number, now: number): void {
    // One audio source per call: the first SSRC is the caller's. A new SSRC (the browser
    // replaced its track) restarts the statistics rather than mixing two streams.
    if (this.#remoteSsrc !== ssrc) {
      if (this.#remoteSsrc !== undefined) this.#recv = new RtpReceiverStats(OPUS_CLOCK_RATE);
      this.#remoteSsrc = ssrc;
    }
    this.#recv.onPacket(seq, rtpTimestamp, now);
  }

  /** A decrypted compound RTCP packet from the caller. */
  onRtcp(packets: readonly RtcpPacket[], now: number): void {
    this.received++;
    for (const p of packets) {
      if (p.type !== 'sr' && p.type !== 'rr') continue;
      if (p.type === 'sr' && p.ssrc === this.#remoteSsrc) {
        this.#recv.onSenderReport({ seconds: p.ntpSeconds, fraction: p.ntpFraction }, now);
      }
      for (const block of p.reports) {
        if (block.ssrc !== this.#ssrc) continue;
        this.#recv.onReportBlock(block, now + this.#offset);
        this.#remoteFractionLost = block.fractionLost / 256;
      }
    }
  }

  /** Our compound report at `now` (clear text), and the next one scheduled. */
  report(now: number, sender: OutboundAudio): Buffer {
    // RFC 3550 §6.3.1: randomise the interval over [0.5, 1.5] × T so reports do not synchronise.
    const r = this.#rng.bytes(2).readUInt16BE(0) / 0xffff;
    this.#due = now + Math.round(this.#interval * (0.5 + r));
    this.sent++;
    return encodeRtcpCompound(this.#packets(now, sender));
  }

  /** The final report with a BYE (RFC 3550 §6.6). */
  bye(now: number, sender: OutboundAudio, reason: string): Buffer {
    this.#due = undefined;
    this.sent++;
    return encodeRtcpCompound([...this.#packets(now, sender), { type: 'bye', ssrcs: [this.#ssrc], reason }]);
  }

  stop(): void {
    this.#due = undefined;
  }

  #packets(now: number, sender: OutboundAudio): RtcpPacket[] {
    const reports: ReportBlock[] = this.#remoteSsrc === undefined ? [] : [this.#recv.reportBlock(this.#remoteSsrc, now)];
    const sdes: RtcpPacket = { type: 'sdes', chunks: [{ ssrc: this.#ssrc, items: [{ type: SDES_ITEM.CNAME, text: this.#cname }] }] };
    const lastAt = sender.lastSentAt;
    if (sender.packetsSent === 0 || lastAt === undefined) return [{ type: 'rr', ssrc: this.#ssrc, reports }, sdes];
    // RFC 3550 §6.4.1: the SR's RTP timestamp is the media time at the NTP instant, so it is
    // extrapolated from the last frame sent at the 48 kHz clock.
    const ntp = ntpFromUnixMs(now + this.#offset);
    const rtpTimestamp = (sender.lastTimestamp + Math.round(((now - lastAt) * OPUS_CLOCK_RATE) / 1000)) >>> 0;
    return [{
      type: 'sr', ssrc: this.#ssrc, ntpSeconds: ntp.seconds, ntpFraction: ntp.fraction, rtpTimestamp,
      packetCount: sender.packetsSent >>> 0, octetCount: sender.octetsSent >>> 0, reports,
    }, sdes];
  }
}
