// Receiver statistics for one incoming RTP source, sans-IO: feed it each packet's sequence
// number, RTP timestamp and arrival time (ms, any monotonic clock); ask it for the fields of a
// report block. Implements RFC 3550 Appendix A.1 (sequence tracking with MAX_DROPOUT /
// MAX_MISORDER resync), A.3 (expected, lost, fraction lost) and A.8 (interarrival jitter), and
// remembers the last SR so LSR/DLSR can be reported (§6.4.1).
//
// Not here: the A.1 probation. It keeps stray packets from creating a source; our packets have
// already authenticated through SRTP, so the first one initialises the source.
import { ntpMiddle32, roundTripMs, type NtpTimestamp } from './ntp.ts';
import type { ReportBlock } from './rtcp-types.ts';

const RTP_SEQ_MOD = 1 << 16;
const MAX_DROPOUT = 3000;
const MAX_MISORDER = 100;

export class RtpReceiverStats {
  readonly #clockRate: number;
  #started = false;
  #maxSeq = 0;
  #cycles = 0; // shifted count of sequence number cycles (A.1: cycles += RTP_SEQ_MOD)
  #baseSeq = 0;
  #badSeq = RTP_SEQ_MOD + 1;
  #received = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  #transit: number | undefined;
  #jitter = 0; // in timestamp units, unscaled float
  #lsr = 0;
  #lastSrArrivalMs: number | undefined;
  #lastRttMs: number | undefined;

  /** `clockRate` of the payload format in Hz (48000 for Opus). */
  constructor(clockRate: number) {
    if (!(clockRate > 0)) throw new RangeError('clock rate must be positive');
    this.#clockRate = clockRate;
  }

  /** Records one received packet. Returns false if A.1 judged it a stray (large jump, first sighting). */
  onPacket(seq: number, rtpTimestamp: number, arrivalMs: number): boolean {
    if (!this.#started) {
      this.#init(seq);
      this.#started = true;
    } else if (!this.#updateSeq(seq)) {
      return false;
    }
    this.#received++;
    // A.8: D(i-1,i) = (R_i - R_{i-1}) - (S_i - S_{i-1}); arrival is converted to timestamp units.
    // The transit difference is taken modulo 2^32 so RTP timestamp wrap does not spike it.
    const arrival = (arrivalMs * this.#clockRate) / 1000;
    const transit = arrival - rtpTimestamp;
    if (this.#transit !== undefined) {
      let d = transit - this.#transit;
      d = Math.abs(d - Math.round(d / 0x100000000) * 0x100000000);
      this.#jitter += (d - this.#jitter) / 16;
    }
    this.#transit = transit;
    return true;
  }

  /** Records an SR from this source for the LSR/DLSR fields of our next report block. */
  onSenderReport(ntp: NtpTimestamp, arrivalMs: number): void {
    this.#lsr = ntpMiddle32(ntp);
    this.#lastSrArrivalMs = arrivalMs;
  }

  /**
   * The report block about this source at `nowMs` (A.3). Each call closes a reporting
   * interval: fractionLost covers the packets since the previous call.
   */
  reportBlock(ssrc: number, nowMs: number): ReportBlock {
    const extendedMax = this.#cycles + this.#maxSeq;
    const expected = this.#started ? extendedMax - this.#baseSeq + 1 : 0;
    const lost = Math.max(-0x800000, Math.min(0x7fffff, expected - this.#received));
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.#received - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.#received;
    const lostInterval = expectedInterval - receivedInterval;
    const fractionLost = expectedInterval === 0 || lostInterval <= 0 ? 0 : Math.floor((lostInterval * 256) / expectedInterval);
    const dlsr =
      this.#lastSrArrivalMs === undefined
        ? 0
        : Math.min(0xffffffff, Math.max(0, Math.round(((nowMs - this.#lastSrArrivalMs) * 65536) / 1000)));
    return {
      ssrc,
      fractionLost: Math.min(255, fractionLost),
      cumulativeLost: lost,
      highestSeq: extendedMax >>> 0,
      jitter: Math.floor(this.#jitter) >>> 0,
      lsr: this.#lsr,
      dlsr,
    };
  }

  /**
   * RTT from a report block the peer sent about OUR stream (§6.4.1); `arrivalUnixMs` is on the
   * wall clock our SR's NTP timestamp came from. Remembers the last value for `lastRttMs`.
   */
  onReportBlock(block: { lsr: number; dlsr: number }, arrivalUnixMs: number): number | undefined {
    const rtt = roundTripMs(block, arrivalUnixMs);
    if (rtt !== undefined) this.#lastRttMs = rtt;
    return rtt;
  }

  get lastRttMs(): number | undefined {
    return this.#lastRttMs;
  }

  /** Packets received (A.1 `received`) and expected so far, and the jitter in ms. */
  snapshot(): { received: number; expected: number; lost: number; jitterMs: number } {
    const expected = this.#started ? this.#cycles + this.#maxSeq - this.#baseSeq + 1 : 0;
    return { received: this.#received, expected, lost: expected - this.#received, jitterMs: (this.#jitter * 1000) / this.#clockRate };
  }

  #init(seq: number): void {
    this.#baseSeq = seq;
    this.#maxSeq = seq;
    this.#badSeq = RTP_SEQ_MOD + 1;
    this.#cycles = 0;
    this.#received = 0;
    this.#receivedPrior = 0;
    this.#expectedPrior = 0;
  }

  /** RFC 3550 A.1 update_seq without probation. */
  #updateSeq(seq: number): boolean {
    const udelta = (seq - this.#maxSeq + RTP_SEQ_MOD) % RTP_SEQ_MOD;
    if (udelta < MAX_DROPOUT) {
      // in order, with permissible gap
      if (seq < this.#maxSeq) this.#cycles += RTP_SEQ_MOD; // wrapped
      this.#maxSeq = seq;
    } else if (udelta <= RTP_SEQ_MOD - MAX_MISORDER) {
      // the sequence number made a very large jump
      if (seq === this.#badSeq) {
        // two sequential packets: assume the other side restarted without telling us
        this.#init(seq);
      } else {
        this.#badSeq = (seq + 1) & (RTP_SEQ_MOD - 1);
        return false;
      }
    }
    // else: duplicate or reordered packet, counted as received
    return true;
  }
}
