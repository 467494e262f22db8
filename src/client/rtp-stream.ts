// The client's RTP bookkeeping for one audio call: stamps outgoing Opus packets (RFC 3550 §5.1
// header, RFC 7587 §4.1 48 kHz clock, 960 ticks per 20 ms frame), counts and loss-estimates the
// incoming stream (RFC 3550 §6.4.1 / Appendix A.3), and builds and reads the minimal RTCP the
// client needs for an RTT: a Sender Report, and the LSR/DLSR of Receiver Report blocks about
// our SSRC (RFC 3550 §6.4.1, RTT = A − LSR − DLSR). Not here: SRTP (src/core/srtp), jitter
// buffering, SDES beyond CNAME, feedback messages.

export const RTCP_SR = 200;
export const RTCP_RR = 201;
const RTCP_SDES = 202;
/** Ticks of the 48 kHz RTP clock in one 20 ms Opus frame. */
export const TICKS_PER_FRAME = 960;

/** NTP "middle 32 bits" (16.16 seconds) of a monotonic millisecond clock; only differences matter. */
export function ntpMiddle(nowMs: number): number {
  return Math.round((nowMs * 65536) / 1000) >>> 0;
}

/** Outgoing RTP: sequence numbers and timestamps start at random values (RFC 3550 §5.1). */
export class RtpSender {
  readonly ssrc: number;
  /** Set from the answer before the first packet: the answerer may renumber (RFC 3264 §6.1). */
  payloadType: number;
  #seq: number;
  #timestamp: number;
  #first = true;
  packets = 0;
  octets = 0;

  constructor(ssrc: number, payloadType: number, firstSeq: number, firstTimestamp: number) {
    this.ssrc = ssrc >>> 0;
    this.payloadType = payloadType;
    this.#seq = firstSeq & 0xffff;
    this.#timestamp = firstTimestamp >>> 0;
  }

  /** One RTP packet around a 20 ms Opus payload. The first one carries the marker bit (RFC 3551 §4.1). */
  packet(payload: Buffer): Buffer {
    const out = Buffer.allocUnsafe(12 + payload.length);
    out[0] = 0x80;
    out[1] = (this.#first ? 0x80 : 0) | this.payloadType;
    out.writeUInt16BE(this.#seq, 2);
    out.writeUInt32BE(this.#timestamp, 4);
    out.writeUInt32BE(this.ssrc, 8);
    payload.copy(out, 12);
    this.#first = false;
    this.#seq = (this.#seq + 1) & 0xffff;
    this.#timestamp = (this.#timestamp + TICKS_PER_FRAME) >>> 0;
    this.packets++;
    this.octets += payload.length;
    return out;
  }

  /**
   * Frames not sent because the sender stalled: the timestamp moves on (time passed) but the
   * sequence number does not, so the receiver sees a gap in time, not a loss (RFC 3550 §5.1).
   */
  skip(frames: number): void {
    this.#timestamp = (this.#timestamp + frames * TICKS_PER_FRAME) >>> 0;
  }

  /** A Sender Report (RFC 3550 §6.4.1) with an SDES CNAME chunk, as a compound packet (§6.1). */
  senderReport(nowMs: number, cname: string): Buffer {
    const sr = Buffer.alloc(28);
    sr[0] = 0x80;
    sr[1] = RTCP_SR;
    sr.writeUInt16BE(6, 2);
    sr.writeUInt32BE(this.ssrc, 4);
    // NTP timestamp: only its middle 32 bits come back to us (LSR), so the rest is derived
    // from the same monotonic clock; wall-clock time is not needed for an RTT.
    const ntp = ntpMiddle(nowMs);
    sr.writeUInt32BE(ntp >>> 16, 8);
    sr.writeUInt32BE((ntp << 16) >>> 0, 12);
    sr.writeUInt32BE(this.#timestamp, 16);
    sr.writeUInt32BE(this.packets >>> 0, 20);
    sr.writeUInt32BE(this.octets >>> 0, 24);
    const name = Buffer.from(cname, 'utf8').subarray(0, 255);
    // SDES: header, SSRC, item (type 1, length, text), null terminator, padded to 32 bits.
    const itemBytes = 2 + name.length + 1;
    const sdesLen = 8 + ((itemBytes + 3) & ~3);
    const sdes = Buffer.alloc(sdesLen);
    sdes[0] = 0x81;
    sdes[1] = RTCP_SDES;
    sdes.writeUInt16BE(sdesLen / 4 - 1, 2);
    sdes.writeUInt32BE(this.ssrc, 4);
    sdes[8] = 1;
    sdes[9] = name.length;
    name.copy(sdes, 10);
    return Buffer.concat([sr, sdes]);
  }
}

/** Incoming RTP of one SSRC: counts, extended highest sequence, loss (RFC 3550 Appendix A.3). */
export class RtpReceiveCounter {
  packets = 0;
  octets = 0;
  #baseSeq = -1;
  #maxSeq = 0;
  #cycles = 0;

  /** Records one authenticated packet's sequence number and payload size. */
  record(seq: number, payloadBytes: number): void {
    this.packets++;
    this.octets += payloadBytes;
    if (this.#baseSeq < 0) {
      this.#baseSeq = seq;
      this.#maxSeq = seq;
      return;
    }
    const delta = (seq - this.#maxSeq) & 0xffff;
    // A.1: forward within half the space advances max_seq (wrapping bumps cycles); else it is late.
    if (delta !== 0 && delta < 0x8000) {
      if (seq < this.#maxSeq) this.#cycles += 0x10000;
      this.#maxSeq = seq;
    }
  }

  /** Packets expected from the first to the highest sequence number seen (A.3). */
  get expected(): number {
    return this.#baseSeq < 0 ? 0 : this.#cycles + this.#maxSeq - this.#baseSeq + 1;
  }

  /** Expected minus received; negative (duplicates) is reported as 0. */
  get lost(): number {
    return Math.max(0, this.expected - this.packets);
  }
}

/**
 * RTT from the first report block about `ourSsrc` in an RTCP compound (SR or RR), or undefined
 * when there is none or it has no LSR yet (LSR = 0 means no SR was received, §6.4.1).
 */
export function rttFromRtcp(compound: Buffer, ourSsrc: number, nowMs: number): number | undefined {
  let off = 0;
  while (off + 4 <= compound.length) {
    const count = compound[off] & 0x1f;
    const type = compound[off + 1];
    const len = (compound.readUInt16BE(off + 2) + 1) * 4;
    if ((compound[off] >>> 6) !== 2 || off + len > compound.length) return undefined;
    const blocksAt = type === RTCP_SR ? off + 28 : type === RTCP_RR ? off + 8 : -1;
    for (let i = 0; blocksAt >= 0 && i < count; i++) {
      const b = blocksAt + i * 24;
      if (b + 24 > off + len) break;
      if (compound.readUInt32BE(b) !== ourSsrc >>> 0) continue;
      const lsr = compound.readUInt32BE(b + 16);
      const dlsr = compound.readUInt32BE(b + 20);
      if (lsr === 0) return undefined;
      const rtt = (ntpMiddle(nowMs) - lsr - dlsr) >>> 0;
      // A wrapped (negative) difference is a stale or bogus block: ignore it.
      return rtt > 0x7fffffff ? undefined : (rtt * 1000) / 65536;
    }
    off += len;
  }
  return undefined;
}
