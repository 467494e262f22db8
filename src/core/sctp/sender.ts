// The send side of an association: messages queued per send() call, cut into DATA chunks
// (RFC 9260 §6.9) when the windows allow, kept until acknowledged, and retransmitted on T3-rtx
// (§6.3.3) or fast retransmit (§7.2.4) under congestion control (§7.2: cwnd, ssthresh, slow
// start, congestion avoidance with partial_bytes_acked, fast recovery) and the peer's window
// (§6.1 rule A, one chunk in flight always allowed as the zero-window probe). Partial
// reliability (RFC 3758 §3.5): a message past its retransmission count or lifetime is abandoned
// whole and FORWARD-TSN moves the peer past it. Messages leave round-robin between streams, in
// send() order within one (stream-scheduler.ts).
// Past 400 lines because SACK processing, congestion control and retransmission share one
// window of outstanding chunks and their counters; split, each would reach into the others.
// Not here: when packets leave or timers run (association.ts), or byte accounting (send-buffer.ts).
import { DataFlag, encodeForwardTsn } from './chunks.ts';
import type { ForwardTsnChunk, SackChunk } from './chunks.ts';
import { ChunkType, chunkSize, COMMON_HEADER, DATA_HEADER } from './packet.ts';
import type { PacketBuilder } from './packet.ts';
import { Deque } from './deque.ts';
import { StreamScheduler } from './stream-scheduler.ts';
import { DelayControl } from './delay-control.ts';
import type { DelayControlOptions } from './delay-control.ts';
import type { Rto } from './rto.ts';
import type { SendBuffer } from './send-buffer.ts';
import { tsnAdd, tsnLt, tsnLte } from './serial.ts';
import type { SendOptions, SctpStats } from './types.ts';

interface OutMessage {
  streamId: number;
  ppid: number;
  data: Buffer;
  unordered: boolean;
  maxRetransmits: number | undefined;
  expiresAt: number | undefined;
  /** Bytes already cut into chunks. */
  offset: number;
  ssn: number;
  abandoned: boolean;
  /** Chunks cut and not yet acknowledged (cumulatively or by a gap block). */
  unacked: number;
}

interface OutChunk {
  tsn: number;
  msg: OutMessage;
  flags: number;
  payload: Buffer;
  sentAt: number;
  transmissions: number;
  /** Gap-acknowledged (may be reneged). */
  acked: boolean;
  missing: number;
  retransmit: boolean;
  inFlight: boolean;
  abandoned: boolean;
}

export interface SenderSetup {
  mtu: number;
  initialTsn: number;
  peerARwnd: number;
  peerForwardTsn: boolean;
  rto: Rto;
  /** Delay-based control (delay-control.ts); undefined: loss-based only. */
  delayControl: DelayControlOptions | undefined;
  buffer: SendBuffer;
  stats: SctpStats;
}

export class Sender {
  readonly #mtu: number;
  readonly #maxPayload: number;
  readonly #rto: Rto;
  readonly #delay: DelayControl | undefined;
  readonly #buffer: SendBuffer;
  readonly #stats: SctpStats;
  readonly #prSupported: boolean;
  #nextTsn: number;
  #cumAck: number;
  readonly #queue = new StreamScheduler<OutMessage>();
  readonly #outstanding = new Deque<OutChunk>();
  readonly #ssn = new Map<number, number>();
  #cwnd: number;
  #ssthresh: number;
  #pba = 0;
  #flight = 0;
  #outstandingBytes = 0;
  #peerRwnd: number;
  #fastRecovery = false;
  #fastRecoveryExit = 0;
  #fastRtxPending = false;
  #forwardTsnPending = false;
  #t3At: number | undefined;
  /** Chunks marked for retransmission, and gap-acknowledged: loops over the window skip when 0. */
  #marked = 0;
  #gapAcked = 0;
  /** The earliest lifetime among queued and outstanding messages (Infinity: none). */
  #nextExpiry = Infinity;
  #pacedBack = false;

  constructor(s: SenderSetup) {
    this.#mtu = s.mtu;
    this.#maxPayload = (s.mtu - COMMON_HEADER - DATA_HEADER) & ~3;
    this.#rto = s.rto;
    this.#delay = s.delayControl === undefined ? undefined : new DelayControl(s.delayControl);
    this.#buffer = s.buffer;
    this.#stats = s.stats;
    this.#prSupported = s.peerForwardTsn;
    this.#nextTsn = s.initialTsn;
    this.#cumAck = tsnAdd(s.initialTsn, -1);
    // RFC 9260 §7.2.1: initial cwnd = min(4*MTU, max(2*MTU, 4380)); ssthresh = the peer's a_rwnd.
    this.#cwnd = Math.min(4 * s.mtu, Math.max(2 * s.mtu, 4380));
    this.#ssthresh = s.peerARwnd;
    this.#peerRwnd = s.peerARwnd;
  }

  get t3At(): number | undefined {
    return this.#t3At;
  }
  get cwnd(): number {
    return this.#cwnd;
  }
  get ssthresh(): number {
    return this.#ssthresh;
  }
  /** Queueing delay over the base RTT (ms) as delay-based control sees it; 0 without it. */
  get queueDelay(): number {
    return this.#delay?.queueDelay ?? 0;
  }
  get peerRwnd(): number {
    return this.#peerRwnd;
  }
  get queuedMessages(): number {
    return this.#queue.length;
  }
  get outstandingChunks(): number {
    return this.#outstanding.length;
  }
  /** The last TSN handed out (RFC 6525 "Sender's Last Assigned TSN"). */
  get lastAssignedTsn(): number {
    return tsnAdd(this.#nextTsn, -1);
  }
  /** Nothing queued and nothing unacknowledged (SHUTDOWN may go, RFC 9260 §9.2). */
  get idle(): boolean {
    return this.#queue.length === 0 && this.#outstanding.length === 0;
  }

  /** Queues one message whose bytes the caller has reserved in the send buffer. */
  enqueue(streamId: number, ppid: number, data: Buffer, o: SendOptions, now: number): void {
    const pr = this.#prSupported;
    if (pr && o.maxLifetimeMs !== undefined) this.#nextExpiry = Math.min(this.#nextExpiry, now + o.maxLifetimeMs);
    this.#queue.push({
      streamId,
      ppid,
      data,
      unordered: o.unordered === true,
      maxRetransmits: pr ? o.maxRetransmits : undefined,
      expiresAt: pr && o.maxLifetimeMs !== undefined ? now + o.maxLifetimeMs : undefined,
      offset: 0,
      ssn: 0,
      abandoned: false,
      unacked: 0,
    });
  }

  /** Whether messages for any of these streams still wait to be cut into chunks. */
  hasQueued(streamIds: ReadonlySet<number>): boolean {
    for (const id of streamIds) if (this.#queue.hasStream(id)) return true;
    return false;
  }

  /** RFC 6525 §5.1.2: after a performed outgoing reset, the streams' SSNs start again at 0. */
  resetSsns(streamIds: number[]): void {
    for (const id of streamIds) this.#ssn.delete(id);
  }

  /** Processes a SACK (RFC 9260 §6.2.1, §7.2); false when it must be dropped as invalid. */
  onSack(s: SackChunk, now: number): boolean {
    if (tsnLt(s.cumTsn, this.#cumAck)) return true; // older than one already seen: ignored
    if (!tsnLt(s.cumTsn, this.#nextTsn)) return false; // acks what we never sent
    const flightBefore = this.#flight;
    let cumBytes = 0;
    let measured = false;
    // For delay-based control: the bytes this SACK newly acknowledges, and the send time of the
    // newest chunk among them sent once (it triggered the SACK when the SACK came promptly).
    let newlyAcked = 0;
    let newestSentAt: number | undefined;
    const cumAdvanced = s.cumTsn !== this.#cumAck;
    while (this.#outstanding.length > 0 && tsnLte(this.#outstanding.at(0)!.tsn, s.cumTsn)) {
      const c = this.#outstanding.shift()!;
      if (c.retransmit) this.#marked--;
      if (c.acked) this.#gapAcked--;
      else c.msg.unacked--;
      if (!c.acked && !c.abandoned) {
        cumBytes += c.payload.length;
        this.#outstandingBytes -= c.payload.length;
        // Karn's rule (RFC 6298 §3): only chunks sent once give a measurement; one per SACK.
        if (!measured && c.transmissions === 1) {
          this.#rto.measure(now - c.sentAt);
          measured = true;
        }
        newlyAcked += c.payload.length;
        newestSentAt = c.transmissions === 1 ? c.sentAt : undefined;
      }
      if (c.inFlight) this.#flight -= c.payload.length;
      if (!c.abandoned) this.#buffer.release(c.msg.streamId, c.payload.length);
    }
    this.#cumAck = s.cumTsn;
    let highestNewlyAcked: number | undefined;
    let highestAcked = s.cumTsn;
    let g = 0;
    const scan = s.gaps.length > 0 || this.#gapAcked > 0 ? this.#outstanding.length : 0;
    for (let i = 0; i < scan; i++) {
      const c = this.#outstanding.at(i)!;
      const off = i + 1;
      while (g < s.gaps.length && s.gaps[g][1] < off) g++;
      const inGap = g < s.gaps.length && s.gaps[g][0] <= off;
      if (inGap) {
        highestAcked = c.tsn;
        if (!c.acked) {
          c.acked = true;
          c.msg.unacked--;
          this.#gapAcked++;
          this.#unmark(c);
          if (!c.abandoned) {
            this.#outstandingBytes -= c.payload.length;
            if (c.inFlight) {
              c.inFlight = false;
              this.#flight -= c.payload.length;
            }
            highestNewlyAcked = c.tsn;
            newlyAcked += c.payload.length;
            newestSentAt = c.transmissions === 1 ? c.sentAt : undefined;
          }
        }
      } else if (c.acked) {
        // Reneged (RFC 9260 §6.2.1 D.iii): no longer acknowledged; T3 or a gap will resend it.
        c.acked = false;
        this.#gapAcked--;
        c.msg.unacked++;
        if (!c.abandoned) this.#outstandingBytes += c.payload.length;
      }
    }
    // RFC 9260 §7.2.4: miss indications, with the HTNA rule while in fast recovery.
    let marked = 0;
    const limit = this.#fastRecovery ? highestNewlyAcked : highestAcked;
    if (limit !== undefined) {
      for (const c of this.#outstanding) {
        if (!tsnLt(c.tsn, limit)) break;
        if (c.acked || c.abandoned || c.retransmit) continue;
        if (++c.missing >= 3) {
          c.missing = 0;
          this.#markForRetransmit(c);
          marked++;
        }
      }
    }
    if (marked > 0) {
      this.#stats.fastRetransmits += marked;
      this.#fastRtxPending = true;
      if (!this.#fastRecovery) {
        this.#ssthresh = Math.max(this.#cwnd / 2, 4 * this.#mtu);
        this.#cwnd = this.#ssthresh;
        this.#pba = 0;
        this.#fastRecovery = true;
        this.#fastRecoveryExit = this.lastAssignedTsn;
      }
    }
    if (this.#fastRecovery && tsnLte(this.#fastRecoveryExit, this.#cumAck)) this.#fastRecovery = false;
    if (cumBytes > 0 && !this.#fastRecovery) this.#grow(cumBytes, flightBefore);
    // More than one packet's payload: the receiver's every-second-packet SACK, not its delayed one.
    if (this.#delay !== undefined && newestSentAt !== undefined && newlyAcked > this.#maxPayload) {
      this.#delay.sample(now - newestSentAt, now);
      const cap = this.#delay.limit(flightBefore, 4 * this.#mtu, now, this.#cwnd > this.#ssthresh);
      if (cap !== undefined && cap < this.#cwnd) {
        this.#cwnd = cap;
        this.#ssthresh = cap;
        this.#pba = 0;
        this.#stats.delayCuts++;
      }
    }
    this.#peerRwnd = Math.max(0, s.aRwnd - this.#outstandingBytes);
    this.#advancePeerAckPoint();
    if (!this.#hasUnacked()) this.#t3At = undefined;
    else if (cumAdvanced || this.#t3At === undefined) this.#t3At = now + this.#rto.rto;
    return true;
  }

  /** A bare cumulative ack (SHUTDOWN's, RFC 9260 §9.2): the peer's window is left as it was. */
  onCumAck(cumTsn: number, now: number): void {
    this.onSack({ cumTsn, aRwnd: this.#peerRwnd + this.#outstandingBytes, gaps: [], duplicates: [] }, now);
  }

  /** RFC 9260 §6.3.3: T3-rtx expired. */
  onT3(now: number): void {
    this.#stats.t3Expiries++;
    this.#ssthresh = Math.max(this.#cwnd / 2, 4 * this.#mtu);
    this.#cwnd = this.#mtu;
    this.#pba = 0;
    this.#fastRecovery = false;
    this.#rto.backOff();
    for (const c of this.#outstanding) if (!c.acked && !c.abandoned) this.#markForRetransmit(c);
    this.#abandonExpired(now);
    this.#advancePeerAckPoint();
    this.#t3At = this.#hasUnacked() ? now + this.#rto.rto : undefined;
  }

  /**
   * Adds what may be sent now to `b`: FORWARD-TSN, retransmissions, then new data. `flush()` seals
   * the current packet when the next chunk does not fit. DATA stops once `allowance` bytes (a
   * pacer's) are used up, after at least one chunk; returns the payload bytes added.
   */
  fill(b: PacketBuilder, now: number, flush: () => void, allowance = Infinity): number {
    let used = 0;
    this.#pacedBack = false;
    this.#abandonExpired(now);
    if (this.#forwardTsnPending) this.#addForwardTsn(b, now, flush);
    let ignoreCwnd = this.#fastRtxPending;
    this.#fastRtxPending = false;
    let firstPacketRoom = ignoreCwnd ? this.#mtu - COMMON_HEADER : 0;
    for (let i = 0; i < this.#outstanding.length && this.#marked > 0; i++) {
      const c = this.#outstanding.at(i)!;
      if (!c.retransmit) continue;
      if (c.msg.maxRetransmits !== undefined && c.transmissions > c.msg.maxRetransmits) {
        this.#abandon(c.msg);
        continue;
      }
      const size = chunkSize(DATA_HEADER - 4 + c.payload.length);
      if (ignoreCwnd && firstPacketRoom < size) ignoreCwnd = false;
      if (!ignoreCwnd && this.#flight >= this.#cwnd) break;
      if (used >= allowance) {
        this.#pacedBack = true;
        return used;
      }
      used += c.payload.length;
      if (b.room < size) flush();
      firstPacketRoom -= size;
      b.addData(c.flags, c.tsn, c.msg.streamId, c.msg.ssn, c.msg.ppid, c.payload);
      this.#unmark(c);
      c.inFlight = true;
      c.transmissions++;
      c.sentAt = now;
      this.#flight += c.payload.length;
      this.#stats.retransmits++;
      this.#stats.dataChunksOut++;
      this.#t3At ??= now + this.#rto.rto;
    }
    if (this.#forwardTsnPending) this.#addForwardTsn(b, now, flush);
    while (this.#queue.length > 0 && this.#flight < this.#cwnd) {
      const m = this.#queue.head()!;
      const len = Math.min(this.#maxPayload, m.data.length - m.offset);
      if (this.#peerRwnd < len && this.#flight > 0) break;
      if (used >= allowance) {
        this.#pacedBack = true;
        break;
      }
      used += len;
      const size = chunkSize(DATA_HEADER - 4 + len);
      if (b.room < size) flush();
      let flags = m.unordered ? DataFlag.unordered : 0;
      if (m.offset === 0) {
        flags |= DataFlag.begin;
        if (!m.unordered) {
          m.ssn = this.#ssn.get(m.streamId) ?? 0;
          this.#ssn.set(m.streamId, (m.ssn + 1) & 0xffff);
        }
        this.#stats.messagesOut++;
      }
      const payload = m.data.subarray(m.offset, m.offset + len);
      m.offset += len;
      if (m.offset === m.data.length) {
        flags |= DataFlag.end;
        this.#queue.shift();
      }
      const tsn = this.#nextTsn;
      this.#nextTsn = tsnAdd(tsn, 1);
      b.addData(flags, tsn, m.streamId, m.ssn, m.ppid, payload);
      m.unacked++;
      this.#outstanding.push({
        tsn,
        msg: m,
        flags,
        payload,
        sentAt: now,
        transmissions: 1,
        acked: false,
        missing: 0,
        retransmit: false,
        inFlight: true,
        abandoned: false,
      });
      this.#flight += len;
      this.#outstandingBytes += len;
      this.#peerRwnd = Math.max(0, this.#peerRwnd - len);
      this.#stats.dataChunksOut++;
      this.#stats.bytesOut += len;
      this.#t3At ??= now + this.#rto.rto;
    }
    return used;
  }

  /** The last fill() stopped at its allowance with DATA the windows would have let go. */
  get pacedBack(): boolean {
    return this.#pacedBack;
  }

  /** Everything unsent and unacknowledged is dropped (the association ended). */
  clear(): void {
    this.#queue.clear();
    this.#outstanding.clear();
    this.#marked = 0;
    this.#gapAcked = 0;
    this.#t3At = undefined;
  }

  #grow(acked: number, flightBefore: number): void {
    // RFC 9260 §7.2.1 / §7.2.2: grow only when the window was in use. Data still queued counts as
    // use: a pacer (src/core/peer/pacer.ts) keeps the flight below cwnd on purpose, and a window
    // that never grew would pace at the initial cwnd per RTT forever.
    const inUse = flightBefore + this.#mtu >= this.#cwnd || this.#queue.length > 0;
    if (this.#cwnd <= this.#ssthresh) {
      if (inUse) this.#cwnd += Math.min(acked, this.#mtu);
      return;
    }
    this.#pba += acked;
    if (this.#pba >= this.#cwnd && inUse) {
      this.#pba -= this.#cwnd;
      this.#cwnd += this.#mtu;
    }
  }

  #unmark(c: OutChunk): void {
    if (!c.retransmit) return;
    c.retransmit = false;
    this.#marked--;
  }

  #markForRetransmit(c: OutChunk): void {
    if (!c.retransmit) this.#marked++;
    c.retransmit = true;
    if (c.inFlight) {
      c.inFlight = false;
      this.#flight -= c.payload.length;
    }
  }

  #hasUnacked(): boolean {
    if (this.forwardTsnOwed) return true;
    for (const c of this.#outstanding) if (!c.acked) return true;
    return false;
  }

  /** RFC 3758 §3.5 rule A (lifetime): unsent and outstanding messages past their time go. */
  #abandonExpired(now: number): void {
    if (now < this.#nextExpiry) return;
    // Messages not yet begun, on any stream (one begun is outstanding in part and handled below).
    const expired: OutMessage[] = [];
    for (const m of this.#queue) if (m.expiresAt !== undefined && m.expiresAt <= now && m.offset === 0) expired.push(m);
    for (const m of expired) this.#abandon(m);
    let next = Infinity;
    for (const c of this.#outstanding) {
      const e = c.msg.expiresAt;
      if (e === undefined || c.abandoned) continue;
      if (e <= now && !c.acked) this.#abandon(c.msg);
      else next = Math.min(next, e);
    }
    for (const m of this.#queue) if (m.expiresAt !== undefined) next = Math.min(next, m.expiresAt);
    this.#nextExpiry = next;
  }

  #abandon(m: OutMessage): void {
    if (m.abandoned) return;
    m.abandoned = true;
    this.#stats.abandonedMessages++;
    for (const c of this.#outstanding) {
      if (c.msg !== m || c.abandoned) continue;
      c.abandoned = true;
      this.#unmark(c);
      if (c.inFlight) {
        c.inFlight = false;
        this.#flight -= c.payload.length;
      }
      if (!c.acked) this.#outstandingBytes -= c.payload.length;
      this.#buffer.release(m.streamId, c.payload.length);
    }
    if (m.offset < m.data.length) {
      this.#queue.remove(m);
      this.#buffer.release(m.streamId, m.data.length - m.offset);
      // A message never begun keeps no SSN; one cut in part keeps its SSN, skipped by FORWARD-TSN.
      m.offset = m.data.length;
    }
    this.#advancePeerAckPoint();
  }

  #advancePeerAckPoint(): void {
    if (this.#skippable() > 0) this.#forwardTsnPending = true;
  }

  /**
   * RFC 3758 §3.5 C: how many chunks from the ack point the peer may be told to skip — the
   * abandoned ones, and acknowledged ones of messages wholly acknowledged (the peer holds those
   * already; skipping them lets one FORWARD-TSN cover a run of losses). Counts up to the last
   * abandoned chunk; 0 when none.
   */
  #skippable(): number {
    let last = 0;
    for (let i = 0; i < this.#outstanding.length; i++) {
      const c = this.#outstanding.at(i)!;
      if (c.abandoned) last = i + 1;
      else if (!(c.acked && c.msg.unacked === 0 && c.msg.offset === c.msg.data.length)) break;
    }
    return last;
  }

  /** FORWARD-TSN to the end of the skippable run after the ack point. */
  #addForwardTsn(b: PacketBuilder, now: number, flush: () => void): void {
    this.#forwardTsnPending = false;
    const n = this.#skippable();
    if (n === 0) return;
    const skipped = new Map<number, number>();
    for (let i = 0; i < n; i++) {
      const c = this.#outstanding.at(i)!;
      if (c.abandoned && !c.msg.unordered) skipped.set(c.msg.streamId, c.msg.ssn);
    }
    const f: ForwardTsnChunk = {
      newCumTsn: this.#outstanding.at(n - 1)!.tsn,
      streams: [...skipped].map(([streamId, ssn]) => ({ streamId, ssn })),
    };
    const value = encodeForwardTsn(f);
    if (b.room < chunkSize(value.length)) flush();
    b.add(ChunkType.forwardTsn, 0, value);
    this.#stats.forwardTsnsOut++;
    // The T3 timer makes FORWARD-TSN reliable: on expiry it is sent again while still owed.
    this.#t3At ??= now + this.#rto.rto;
  }

  /** Whether a FORWARD-TSN is still owed to the peer (the T3 timer keeps it reliable). */
  get forwardTsnOwed(): boolean {
    return this.#skippable() > 0;
  }
}
