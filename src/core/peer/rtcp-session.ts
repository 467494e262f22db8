// RTCP for one peer's audio (sans-IO), the same at both ends: statistics about the far end's
// stream (RFC 3550 Appendix A via RtpReceiverStats), reading its SR/RR (LSR for our reports;
// RTT and loss of our stream from its report blocks, §6.4.1: RTT = A − LSR − DLSR), and
// building our compound reports (§6.1: SR — or RR before we have sent anything — first, then
// SDES with our CNAME; BYE at the end, §6.6), at a randomised interval (§6.3.1).
// Clock: SR NTP timestamps are `now + wallClockOffsetMs` read as Unix time. RTT only ever
// compares our own timestamps (LSR comes back to us), so an offset of 0 — the monotonic clock
// read as if it were Unix time — gives the same RTT; the transceiver passes the real offset so
// its SRs carry wall-clock time.
// Not here: SRTCP (the peer protects what report() returns) or a timer (the peer asks due()).
import type { Rng } from '../rng.ts';
import { OPUS_CLOCK_RATE, RtpReceiverStats, SDES_ITEM, encodeRtcpCompound, ntpFromUnixMs } from '../rtp/index.ts';
import type { ReportBlock, RtcpPacket } from '../rtp/index.ts';

/** RFC 3550 §6.2 allows a shorter interval than 5 s for small sessions; voice stats want ~2.5 s. */
export const DEFAULT_RTCP_INTERVAL_MS = 2500;
/** The first report goes early so RTT and loss are known within a second of connecting. */
export const DEFAULT_FIRST_REPORT_MS = 500;

/** What the SR says about our own stream (RtpSender has these). */
export interface SenderInfo {
  readonly packetsSent: number;
  readonly octetsSent: number;
  readonly lastTimestamp: number;
  readonly lastSentAt: number | undefined;
}

export interface RtcpSessionOptions {
  readonly ssrc: number;
  readonly cname: string;
  readonly rng: Rng;
  /** Mean report interval T (randomised over [0.5, 1.5] × T); default DEFAULT_RTCP_INTERVAL_MS. */
  readonly intervalMs?: number;
  /** First report this long after start(); default DEFAULT_FIRST_REPORT_MS. */
  readonly firstReportMs?: number;
  /** Added to the peer's clock to get Unix ms for SR NTP timestamps (RFC 3550 §4); default 0. */
  readonly wallClockOffsetMs?: number;
}

export class RtcpSession {
  #recv = new RtpReceiverStats(OPUS_CLOCK_RATE);
  readonly #ssrc: number;
  readonly #cname: string;
  readonly #rng: Rng;
  readonly #interval: number;
  readonly #first: number;
  readonly #offset: number;
  #remoteSsrc: number | undefined;
  #due: number | undefined;
  #remoteFractionLost: number | undefined;
  sent = 0;
  received = 0;

  constructor(o: RtcpSessionOptions) {
    this.#ssrc = o.ssrc >>> 0;
    this.#cname = o.cname;
    this.#rng = o.rng;
    this.#interval = o.intervalMs ?? DEFAULT_RTCP_INTERVAL_MS;
    this.#first = o.firstReportMs ?? DEFAULT_FIRST_REPORT_MS;
    this.#offset = o.wallClockOffsetMs ?? 0;
  }

  /** Statistics of the far end's stream. */
  get recv(): RtpReceiverStats {
    return this.#recv;
  }
  get rttMs(): number | undefined {
    return this.#recv.lastRttMs;
  }
  /** Fraction of our packets the far end reports lost (0..1), from its latest report block. */
  get remoteFractionLost(): number | undefined {
    return this.#remoteFractionLost;
  }
  get remoteSsrc(): number | undefined {
    return this.#remoteSsrc;
  }

  /** Reports start when SRTP is up. */
  start(now: number): void {
    this.#due ??= now + this.#first;
  }

  due(): number | undefined {
    return this.#due;
  }

  /** One authenticated RTP packet of the far end's audio stream. */
  onRtp(ssrc: number, seq: number, rtpTimestamp: number, now: number): void {
    // One audio source per call: the first SSRC is the far end's. A new SSRC (a browser
    // replaced its track) restarts the statistics rather than mixing two streams.
    if (this.#remoteSsrc !== ssrc) {
      if (this.#remoteSsrc !== undefined) this.#recv = new RtpReceiverStats(OPUS_CLOCK_RATE);
      this.#remoteSsrc = ssrc;
    }
    this.#recv.onPacket(seq, rtpTimestamp, now);
  }

  /** A decrypted compound RTCP packet from the far end. */
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
  report(now: number, sender: SenderInfo): Buffer {
    // RFC 3550 §6.3.1: randomise the interval over [0.5, 1.5] × T so reports do not synchronise.
    const r = this.#rng.bytes(2).readUInt16BE(0) / 0xffff;
    this.#due = now + Math.round(this.#interval * (0.5 + r));
    this.sent++;
    return encodeRtcpCompound(this.#packets(now, sender));
  }

  /** The final report with a BYE (RFC 3550 §6.6). */
  bye(now: number, sender: SenderInfo, reason: string): Buffer {
    this.#due = undefined;
    this.sent++;
    return encodeRtcpCompound([...this.#packets(now, sender), { type: 'bye', ssrcs: [this.#ssrc], reason }]);
  }

  stop(): void {
    this.#due = undefined;
  }

  #packets(now: number, sender: SenderInfo): RtcpPacket[] {
    const reports: ReportBlock[] = this.#remoteSsrc === undefined ? [] : [this.#recv.reportBlock(this.#remoteSsrc, now)];
    const sdes: RtcpPacket = { type: 'sdes', chunks: [{ ssrc: this.#ssrc, items: [{ type: SDES_ITEM.CNAME, text: this.#cname }] }] };
    const lastAt = sender.lastSentAt;
    if (sender.packetsSent === 0 || lastAt === undefined) return [{ type: 'rr', ssrc: this.#ssrc, reports }, sdes];
    // RFC 3550 §6.4.1: the SR's RTP timestamp is the media time at the NTP instant, so it is
    // extrapolated from the last frame sent at the 48 kHz clock.
    const ntp = ntpFromUnixMs(now + this.#offset);
    const rtpTimestamp = (sender.lastTimestamp + Math.round(((now - lastAt) * OPUS_CLOCK_RATE) / 1000)) >>> 0;
    return [
      {
        type: 'sr',
        ssrc: this.#ssrc,
        ntpSeconds: ntp.seconds,
        ntpFraction: ntp.fraction,
        rtpTimestamp,
        packetCount: sender.packetsSent >>> 0,
        octetCount: sender.octetsSent >>> 0,
        reports,
      },
      sdes,
    ];
  }
}
