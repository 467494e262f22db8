// SctpAssociation: one SCTP association for WebRTC data channels (RFC 8261 over DTLS, RFC 9260,
// RFC 8831), sans-IO (STYLE.md rule 2): handle(packet, now) takes an SCTP packet that came out
// of DTLS application data, handleTimeout(now) runs its timers, pollTransmit() gives SCTP packets
// for DTLS, pollEvent() its events, pollTimeout() the next deadline. Packets are built lazily
// when polled, so many send() calls before a drain share packets.
// This file is the machine: states, verification tags, chunk dispatch, SACK policy, timers
// (T1-init, T3-rtx via the sender, delayed SACK, heartbeat, T2-shutdown, RE-CONFIG), SHUTDOWN
// and ABORT. It is over 400 lines because those are one state machine; the parts with their own
// concept live beside it: handshake.ts, sender.ts, tsn-tracker.ts, reassembly.ts,
// stream-reset.ts, send-buffer.ts. Not here: DTLS, SDP, DCEP (src/core/datachannel).
import type { SansIo } from '../output.ts';
import type { Rng } from '../rng.ts';
import { processBudget } from './budget.ts';
import type { SctpBudget } from './budget.ts';
import { DataFlag, decodeCauses, decodeData, decodeForwardTsn, decodeHeartbeatInfo, decodeInit, decodeSack, encodeCause, encodeHeartbeatInfo, encodeSack } from './chunks.ts';
import { openCookie } from './cookie.ts';
import type { CookieState } from './cookie.ts';
import { ErrorCause, SctpCode, SctpDrop, SctpError } from './errors.ts';
import type { SctpDropReason, SctpFailure } from './errors.ts';
import { cookieDecision, initAckValue, initValue, randomTag, randomTsn, validInit } from './handshake.ts';
import type { LocalInit } from './handshake.ts';
import { ChunkType, chunkSize, COMMON_HEADER, DATA_HEADER, PacketBuilder, parsePacket, singleChunkPacket } from './packet.ts';
import type { RawChunk } from './packet.ts';
import { HELD_CHUNK_OVERHEAD, Reassembly } from './reassembly.ts';
import type { Delivered } from './reassembly.ts';
import { DEFAULT_RTO, Rto } from './rto.ts';
import { SendBuffer } from './send-buffer.ts';
import { Sender } from './sender.ts';
import { StreamReset } from './stream-reset.ts';
import { tsnAdd } from './serial.ts';
import { MAX_TSN_AHEAD, TsnTracker } from './tsn-tracker.ts';
import type { SctpDump, SctpEvent, SctpOptions, SctpState, SctpStats, SendOptions } from './types.ts';

export const SCTP_PORT = 5000;
export const DEFAULT_MAX_MESSAGE_SIZE = 256 * 1024;

interface Resolved {
  rng: Rng;
  port: number;
  remotePort: number;
  mtu: number;
  maxInboundStreams: number;
  outboundStreams: number;
  maxMessageSize: number;
  maxReassemblyBytes: number;
  maxSendBufferBytes: number;
  sendBufferLowBytes: number;
  budget: SctpBudget;
  maxRetransmissions: number;
  maxInitRetransmissions: number;
  heartbeatIntervalMs: number;
  cookieLifetimeMs: number;
  delayedAckMs: number;
}

/** Everything that exists only once tags are agreed (RFC 9260 §14 TCB). */
interface Tcb {
  peerTag: number;
  inboundStreams: number;
  outboundStreams: number;
  sender: Sender;
  tracker: TsnTracker;
  reassembly: Reassembly;
  reset: StreamReset;
}

interface Control {
  type: number;
  flags: number;
  value: Buffer;
}

export class SctpAssociation implements SansIo<Buffer, SctpEvent> {
  readonly #o: Resolved;
  readonly #secret: Buffer;
  readonly #rto: Rto;
  readonly #rtoInitial: number;
  readonly #rtoMax: number;
  readonly #builder: PacketBuilder;
  readonly #sendBuffer: SendBuffer;
  readonly #transmits: Buffer[] = [];
  readonly #events: SctpEvent[] = [];
  readonly #control: Control[] = [];
  readonly #delivered: Delivered[] = [];
  readonly #drops = Object.fromEntries(Object.values(SctpDrop).map((r) => [r, 0])) as Record<SctpDropReason, number>;
  readonly stats: SctpStats = {
    packetsIn: 0, packetsOut: 0, dataChunksIn: 0, dataChunksOut: 0, messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0,
    retransmits: 0, fastRetransmits: 0, t3Expiries: 0, duplicateTsnsIn: 0, abandonedMessages: 0, forwardTsnsOut: 0, sacksOut: 0,
  };
  #state: SctpState = 'closed';
  #dead = false;
  #local: LocalInit | undefined;
  #tcb: Tcb | undefined;
  #maxSendMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  #now = 0;
  #dirty = false;
  // T1-init: the INIT or COOKIE-ECHO we resend until answered.
  #t1: { at: number; count: number; interval: number; packet: Buffer } | undefined;
  // T2-shutdown: the SHUTDOWN or SHUTDOWN-ACK we resend until answered.
  #t2: { at: number; count: number } | undefined;
  #errorCount = 0;
  #sackNow = false;
  #sackAt: number | undefined;
  #dataPacketsUnacked = 0;
  #heartbeatAt: number | undefined;
  #heartbeatSent: Buffer | undefined;
  #shutdownWanted = false;

  constructor(opts: SctpOptions) {
    const invalid = (why: string): SctpError => new SctpError(SctpCode.invalidOptions, why);
    if (typeof opts.rng?.bytes !== 'function') throw invalid('rng is required');
    const int = (v: number | undefined, def: number, min: number, max: number, name: string): number => {
      const x = v ?? def;
      if (!Number.isInteger(x) || x < min || x > max) throw invalid(`${name} must be an integer in ${min}..${max}`);
      return x;
    };
    const mtu = int(opts.mtu, 1200, 256, 65535, 'mtu');
    const maxMessageSize = int(opts.maxMessageSize, DEFAULT_MAX_MESSAGE_SIZE, 1, 2 ** 30, 'maxMessageSize');
    const maxSendBufferBytes = int(opts.maxSendBufferBytes, 1024 * 1024, 1, 2 ** 40, 'maxSendBufferBytes');
    this.#o = {
      rng: opts.rng,
      port: int(opts.port, SCTP_PORT, 1, 65535, 'port'),
      remotePort: int(opts.remotePort, SCTP_PORT, 1, 65535, 'remotePort'),
      mtu,
      maxInboundStreams: int(opts.maxInboundStreams, 1024, 1, 65535, 'maxInboundStreams'),
      outboundStreams: int(opts.outboundStreams, 1024, 1, 65535, 'outboundStreams'),
      maxMessageSize,
      maxReassemblyBytes: int(opts.maxReassemblyBytes, 1024 * 1024, 4 * mtu, 2 ** 31 - 1, 'maxReassemblyBytes'),
      maxSendBufferBytes,
      sendBufferLowBytes: int(opts.sendBufferLowBytes, Math.min(256 * 1024, maxSendBufferBytes), 0, maxSendBufferBytes, 'sendBufferLowBytes'),
      budget: opts.budget ?? processBudget,
      maxRetransmissions: int(opts.maxRetransmissions, 10, 1, 1000, 'maxRetransmissions'),
      maxInitRetransmissions: int(opts.maxInitRetransmissions, 8, 1, 1000, 'maxInitRetransmissions'),
      heartbeatIntervalMs: int(opts.heartbeatIntervalMs, 30_000, 1, 2 ** 31, 'heartbeatIntervalMs'),
      cookieLifetimeMs: int(opts.cookieLifetimeMs, 60_000, 1, 2 ** 31, 'cookieLifetimeMs'),
      delayedAckMs: int(opts.delayedAckMs, 200, 0, 500, 'delayedAckMs'),
    };
    const rto = { ...DEFAULT_RTO, ...opts.rto };
    if (!(rto.minMs > 0 && rto.minMs <= rto.initialMs && rto.initialMs <= rto.maxMs)) throw invalid('rto must satisfy 0 < minMs <= initialMs <= maxMs');
    this.#rto = new Rto(rto);
    this.#rtoInitial = rto.initialMs;
    this.#rtoMax = rto.maxMs;
    this.#secret = opts.cookieSecret ?? opts.rng.bytes(32);
    this.#builder = new PacketBuilder(mtu);
    this.#sendBuffer = new SendBuffer(maxSendBufferBytes, this.#o.sendBufferLowBytes, this.#o.budget, this.#events);
  }

  get state(): SctpState {
    return this.#state;
  }

  /** Received packets and chunks dropped so far, by reason (for metrics; never an error). */
  get drops(): Readonly<Record<SctpDropReason, number>> {
    return this.#drops;
  }

  /** Streams usable for send() once established (min of our OS and the peer's MIS). */
  get outboundStreams(): number {
    return this.#tcb?.outboundStreams ?? 0;
  }

  get bufferedAmount(): number {
    return this.#sendBuffer.bytes;
  }

  streamBufferedAmount(streamId: number): number {
    return this.#sendBuffer.streamBytes(streamId);
  }

  /** `buffered_low` fires for the stream when its buffered bytes fall to `bytes` or below. */
  setBufferedAmountLowThreshold(streamId: number, bytes: number): void {
    this.#sendBuffer.setLowThreshold(streamId, bytes);
  }

  /** The largest message we receive (what SDP a=max-message-size should announce). */
  get maxMessageSize(): number {
    return this.#o.maxMessageSize;
  }

  /** The peer's a=max-message-size (RFC 8841 §6); send() refuses larger messages. 0 means no limit. */
  setRemoteMaxMessageSize(bytes: number): void {
    this.#maxSendMessageSize = bytes === 0 ? Number.MAX_SAFE_INTEGER : bytes;
  }

  /** Sends INIT (RFC 9260 §5.1 A). Either side may call it; both at once is simultaneous open. */
  connect(now: number): void {
    if (this.#dead || this.#state !== 'closed' || this.#tcb !== undefined) return;
    this.#now = now;
    this.#local = this.#newLocal();
    const packet = singleChunkPacket(this.#o.mtu, this.#o.port, this.#o.remotePort, 0, ChunkType.init, 0, initValue(this.#local));
    this.#state = 'cookie_wait';
    this.#t1 = { at: now + this.#rtoInitial, count: 0, interval: this.#rtoInitial, packet };
    this.#push(packet);
  }

  /** One SCTP packet from the peer. Never throws. */
  handle(packet: Buffer, now: number): void {
    this.#now = now;
    if (this.#dead) {
      this.#drop(SctpDrop.outOfTheBlue);
      return;
    }
    const p = parsePacket(packet);
    if (typeof p === 'string') {
      this.#drop(p);
      return;
    }
    this.stats.packetsIn++;
    if (p.srcPort !== this.#o.remotePort || p.dstPort !== this.#o.port) {
      this.#drop(SctpDrop.wrongPort);
      return;
    }
    const first = p.chunks[0];
    if (first.type === ChunkType.init || first.type === ChunkType.initAck || first.type === ChunkType.shutdownComplete) {
      if (p.chunks.length !== 1) {
        this.#drop(SctpDrop.bundledControl);
        return;
      }
    }
    if (first.type === ChunkType.init) {
      if (p.verificationTag !== 0) this.#drop(SctpDrop.badVerificationTag);
      else this.#onInit(first.value, now);
      return;
    }
    let start = 0;
    if (first.type === ChunkType.cookieEcho) {
      if (!this.#onCookieEcho(first.value, p.verificationTag, now)) return;
      start = 1;
    } else if (!this.#tagOk(first, p.verificationTag)) {
      return;
    }
    let hadData = false;
    let immediate = false;
    let reportedUnknown = false;
    for (let i = start; i < p.chunks.length && !this.#dead; i++) {
      const c = p.chunks[i];
      if (c.type === ChunkType.data) {
        hadData = true;
        if ((c.flags & DataFlag.immediate) !== 0) immediate = true;
        this.#onData(c);
        continue;
      }
      const known = this.#dispatch(c, now);
      if (known) continue;
      // RFC 9260 §3.2: the upper two bits of an unknown type say whether to go on and report.
      if ((c.type & 0x40) !== 0 && !reportedUnknown && this.#tcb !== undefined) {
        reportedUnknown = true;
        const raw = Buffer.alloc(Math.min(4 + c.value.length, 256));
        raw[0] = c.type;
        raw[1] = c.flags;
        raw.writeUInt16BE(4 + c.value.length, 2);
        c.value.copy(raw, 4, 0, raw.length - 4);
        this.#queueControl(ChunkType.error, 0, encodeCause(ErrorCause.unrecognizedChunkType, raw));
      }
      this.#drop(SctpDrop.unknownChunk);
      if ((c.type & 0x80) === 0) break;
    }
    if (hadData && this.#tcb !== undefined) this.#afterData(immediate, now);
    this.#emitDelivered();
    this.#dirty = true;
  }

  handleTimeout(now: number): void {
    this.#now = now;
    if (this.#dead) return;
    const t1 = this.#t1;
    if (t1 !== undefined && now >= t1.at) {
      if (++t1.count > this.#o.maxInitRetransmissions) {
        this.#fail(SctpCode.handshakeTimeout, `no answer to ${this.#state === 'cookie_wait' ? 'INIT' : 'COOKIE-ECHO'} after ${t1.count - 1} retransmissions`);
        return;
      }
      t1.interval = Math.min(t1.interval * 2, this.#rtoMax);
      t1.at = now + t1.interval;
      this.#push(t1.packet);
    }
    const tcb = this.#tcb;
    if (tcb === undefined) return;
    const t3 = tcb.sender.t3At;
    if (t3 !== undefined && now >= t3) {
      tcb.sender.onT3(now);
      if (this.#timeoutCounts()) return;
    }
    if (this.#sackAt !== undefined && now >= this.#sackAt) {
      this.#sackAt = undefined;
      this.#sackNow = true;
    }
    if (this.#heartbeatAt !== undefined && now >= this.#heartbeatAt) {
      if (this.#heartbeatSent !== undefined && this.#timeoutCounts()) return;
      this.#sendHeartbeat(now);
    }
    if (this.#t2 !== undefined && now >= this.#t2.at) {
      if (++this.#t2.count > this.#o.maxRetransmissions) {
        this.#fail(SctpCode.peerUnreachable, 'no answer to SHUTDOWN');
        return;
      }
      this.#rto.backOff();
      this.#sendShutdownChunk(now);
    }
    if (tcb.reset.timerAt !== undefined && now >= tcb.reset.timerAt) {
      const v = tcb.reset.onTimer(now, this.#rto.rto);
      if (v !== undefined) this.#queueControl(ChunkType.reconfig, 0, v);
    }
    this.#dirty = true;
  }

  pollTransmit(): Buffer | undefined {
    if (this.#dirty) this.#flush();
    return this.#transmits.shift();
  }

  pollEvent(): SctpEvent | undefined {
    return this.#events.shift();
  }

  pollTimeout(): number | undefined {
    if (this.#dirty) this.#flush();
    if (this.#dead) return undefined;
    let t = this.#t1?.at;
    const min = (x: number | undefined): void => {
      if (x !== undefined && (t === undefined || x < t)) t = x;
    };
    const tcb = this.#tcb;
    if (tcb !== undefined) {
      min(tcb.sender.t3At);
      min(this.#sackAt);
      min(this.#heartbeatAt);
      min(this.#t2?.at);
      min(tcb.reset.timerAt);
    }
    return t;
  }

  /**
   * Queues one message (RFC 9260 §6.1). True when queued; false when the send buffer (this
   * association's limit or the shared budget) has no room — wait for `send_buffer_low` or the
   * stream's `buffered_low`. Throws on misuse (not established, bad stream, empty or too large).
   */
  send(streamId: number, ppid: number, data: Buffer, options: SendOptions, now: number): boolean {
    const tcb = this.#tcb;
    if (tcb === undefined || this.#state !== 'established' || this.#shutdownWanted) {
      throw new SctpError(SctpCode.notConnected, `cannot send in state ${this.#state}`);
    }
    if (!Number.isInteger(streamId) || streamId < 0 || streamId >= tcb.outboundStreams || tcb.reset.resetting(streamId)) {
      throw new SctpError(SctpCode.invalidStream, `stream ${streamId} is not open for sending (${tcb.outboundStreams} outbound streams)`);
    }
    if (data.length === 0) throw new SctpError(SctpCode.emptyMessage, 'SCTP carries no empty message');
    if (data.length > this.#maxSendMessageSize) {
      throw new SctpError(SctpCode.messageTooLarge, `message of ${data.length} bytes exceeds the peer's ${this.#maxSendMessageSize}`);
    }
    this.#now = now;
    if (!this.#sendBuffer.reserve(streamId, data.length)) return false;
    tcb.sender.enqueue(streamId, ppid, data, options, now);
    this.#dirty = true;
    return true;
  }

  /** RFC 6525 §5.1.2: resets our outgoing streams (after their queued data is sent). */
  resetStreams(streamIds: number[], now: number): void {
    const tcb = this.#tcb;
    if (tcb === undefined || this.#state !== 'established') return;
    this.#now = now;
    tcb.reset.request(streamIds.filter((id) => Number.isInteger(id) && id >= 0 && id < tcb.outboundStreams));
    this.#dirty = true;
  }

  /** Graceful close (RFC 9260 §9.2): sends what is queued, then SHUTDOWN. */
  shutdown(now: number): void {
    this.#now = now;
    if (this.#dead) return;
    if (this.#tcb === undefined || this.#state !== 'established') {
      this.abort('shutdown before established', now);
      return;
    }
    this.#shutdownWanted = true;
    this.#state = 'shutdown_pending';
    this.#dirty = true;
  }

  /** Sends ABORT with a User-Initiated Abort cause (RFC 9260 §9.1) and ends. Idempotent. */
  abort(reason: string, now: number): void {
    this.#now = now;
    if (this.#dead) return;
    this.#sendAbort(ErrorCause.userInitiatedAbort, Buffer.from(reason.slice(0, 128)));
    this.#end({ code: SctpCode.userAbort, message: reason });
  }

  /** Ends the association (ABORT if it lives). Idempotent. */
  close(now = this.#now): void {
    this.abort('closed', now);
  }

  dump(): SctpDump {
    const s = this.#tcb?.sender;
    return {
      state: this.#state,
      streams: this.#tcb?.reassembly.streamCount ?? 0,
      reassemblyBytes: this.#tcb?.reassembly.held ?? 0,
      bufferedBytes: this.#sendBuffer.bytes,
      queuedMessages: s?.queuedMessages ?? 0,
      outstandingChunks: s?.outstandingChunks ?? 0,
      cwnd: s?.cwnd ?? 0,
      ssthresh: s?.ssthresh ?? 0,
      rto: this.#rto.rto,
      srtt: this.#rto.srtt,
      peerRwnd: s?.peerRwnd ?? 0,
    };
  }

  #newLocal(): LocalInit {
    return {
      tag: randomTag(this.#o.rng),
      initialTsn: randomTsn(this.#o.rng),
      aRwnd: this.#o.maxReassemblyBytes,
      outboundStreams: this.#o.outboundStreams,
      inboundStreams: this.#o.maxInboundStreams,
    };
  }

  /** RFC 9260 §8.5: the verification tag rules for everything but INIT and COOKIE-ECHO. */
  #tagOk(first: RawChunk, vtag: number): boolean {
    const local = this.#local?.tag;
    if (local === undefined) {
      // No association: ABORT and SHUTDOWN-COMPLETE are silently ignored, the rest is out of the blue.
      this.#drop(SctpDrop.outOfTheBlue);
      return false;
    }
    const reflected = (first.type === ChunkType.abort || first.type === ChunkType.shutdownComplete) && (first.flags & 1) !== 0;
    const ok = reflected ? this.#tcb !== undefined && vtag === this.#tcb.peerTag : vtag === local;
    if (!ok) this.#drop(SctpDrop.badVerificationTag);
    return ok;
  }

  #onInit(v: Buffer, now: number): void {
    const init = decodeInit(v);
    if (init === undefined) return this.#drop(SctpDrop.malformedChunk);
    if (!validInit(init)) return this.#drop(SctpDrop.invalidInit);
    if (this.#state !== 'closed' && this.#state !== 'cookie_wait' && this.#state !== 'cookie_echoed') return this.#drop(SctpDrop.restartRefused);
    // Closed: fresh tags from the Rng, kept nowhere. Waiting: our own INIT's (RFC 9260 §5.2.1).
    const local = this.#state === 'closed' ? this.#newLocal() : this.#local!;
    const value = initAckValue(this.#secret, local, init, now);
    this.#push(singleChunkPacket(this.#o.mtu, this.#o.port, this.#o.remotePort, init.initiateTag, ChunkType.initAck, 0, value));
  }

  #onInitAck(v: Buffer, now: number): void {
    if (this.#state !== 'cookie_wait') return this.#drop(SctpDrop.unexpectedChunk);
    const ack = decodeInit(v);
    if (ack === undefined || ack.cookie === undefined) return this.#drop(SctpDrop.malformedChunk);
    if (!validInit(ack)) return this.#drop(SctpDrop.invalidInit);
    const local = this.#local!;
    this.#tcb = this.#makeTcb({
      issuedAt: now,
      localTag: local.tag,
      peerTag: ack.initiateTag,
      localInitialTsn: local.initialTsn,
      peerInitialTsn: ack.initialTsn,
      peerARwnd: ack.aRwnd,
      outboundStreams: Math.min(local.outboundStreams, ack.inboundStreams),
      inboundStreams: Math.min(local.inboundStreams, ack.outboundStreams),
      peerForwardTsn: ack.forwardTsn,
      peerReconfig: ack.reconfig,
    });
    const packet = singleChunkPacket(this.#o.mtu, this.#o.port, this.#o.remotePort, ack.initiateTag, ChunkType.cookieEcho, 0, Buffer.from(ack.cookie));
    this.#state = 'cookie_echoed';
    this.#t1 = { at: now + this.#rtoInitial, count: 0, interval: this.#rtoInitial, packet };
    this.#push(packet);
  }

  /** RFC 9260 §5.1.5 and §5.2.4; true when the rest of the packet may be processed. */
  #onCookieEcho(v: Buffer, vtag: number, now: number): boolean {
    const opened = openCookie(this.#secret, v, now, this.#o.cookieLifetimeMs);
    if (!opened.ok) {
      if (opened.reason === 'stale_cookie') this.#drop(SctpDrop.staleCookie);
      else this.#drop(SctpDrop.badCookie);
      return false;
    }
    const c = opened.state;
    if (vtag !== c.localTag) {
      this.#drop(SctpDrop.badVerificationTag);
      return false;
    }
    const decision = cookieDecision(this.#state, this.#tcb !== undefined, this.#local?.tag ?? 0, this.#tcb?.peerTag ?? 0, c);
    if (decision === 'refuse') {
      this.#drop(SctpDrop.restartRefused);
      return false;
    }
    if (decision === 'establish') {
      this.#local = { tag: c.localTag, initialTsn: c.localInitialTsn, aRwnd: this.#o.maxReassemblyBytes, outboundStreams: this.#o.outboundStreams, inboundStreams: this.#o.maxInboundStreams };
      this.#tcb = this.#makeTcb(c);
      this.#established(now);
    }
    this.#queueControl(ChunkType.cookieAck, 0, Buffer.alloc(0));
    return true;
  }

  #makeTcb(c: CookieState): Tcb {
    const stats = this.stats;
    const reassembly = new Reassembly({ maxBytes: this.#o.maxReassemblyBytes, maxMessageSize: this.#o.maxMessageSize, budget: this.#o.budget });
    const tracker = new TsnTracker(c.peerInitialTsn);
    const sender = new Sender({ mtu: this.#o.mtu, initialTsn: c.localInitialTsn, peerARwnd: c.peerARwnd, peerForwardTsn: c.peerForwardTsn, rto: this.#rto, buffer: this.#sendBuffer, stats });
    const reset = new StreamReset(
      {
        cumTsn: () => tracker.cumTsn,
        resetIncoming: (streamIds) => {
          reassembly.resetStreams(streamIds);
          this.#events.push({ type: 'stream_reset', streamIds });
        },
        outgoingDone: (streamIds, ok) => {
          if (ok) sender.resetSsns(streamIds);
          this.#events.push({ type: 'stream_reset_done', streamIds, ok });
        },
      },
      c.localInitialTsn,
      c.peerInitialTsn,
    );
    return { peerTag: c.peerTag, inboundStreams: c.inboundStreams, outboundStreams: c.outboundStreams, sender, tracker, reassembly, reset };
  }

  #established(now: number): void {
    this.#state = 'established';
    this.#t1 = undefined;
    this.#errorCount = 0;
    this.#heartbeatAt = now + this.#o.heartbeatIntervalMs;
    this.#events.push({ type: 'connected' });
  }

  /** Every chunk but DATA and INIT; false when the type is unknown. */
  #dispatch(c: RawChunk, now: number): boolean {
    const tcb = this.#tcb;
    switch (c.type) {
      case ChunkType.initAck:
        this.#onInitAck(c.value, now);
        return true;
      case ChunkType.cookieEcho:
        // Only valid first in a packet (handled there).
        this.#drop(SctpDrop.unexpectedChunk);
        return true;
      case ChunkType.cookieAck:
        if (this.#state === 'cookie_echoed') this.#established(now);
        return true;
      case ChunkType.abort: {
        const causes = decodeCauses(c.value).map((x) => x.code);
        this.#end({ code: SctpCode.peerAbort, message: `peer sent ABORT (causes: ${causes.join(',') || 'none'})` });
        return true;
      }
      case ChunkType.error:
        return true;
      case ChunkType.shutdownComplete:
        if (this.#state === 'shutdown_ack_sent') this.#end(undefined);
        return true;
    }
    if (tcb === undefined || this.#state === 'cookie_wait' || this.#state === 'cookie_echoed') {
      if (isKnown(c.type)) this.#drop(SctpDrop.unexpectedChunk);
      return isKnown(c.type);
    }
    switch (c.type) {
      case ChunkType.sack: {
        const sack = decodeSack(c.value);
        if (sack === undefined) this.#drop(SctpDrop.malformedChunk);
        else if (!tcb.sender.onSack(sack, now)) this.#drop(SctpDrop.invalidSack);
        else this.#errorCount = 0;
        return true;
      }
      case ChunkType.heartbeat:
        if (decodeHeartbeatInfo(c.value) === undefined) this.#drop(SctpDrop.malformedChunk);
        else this.#queueControl(ChunkType.heartbeatAck, 0, Buffer.from(c.value));
        return true;
      case ChunkType.heartbeatAck:
        this.#onHeartbeatAck(c.value, now);
        return true;
      case ChunkType.shutdown:
        this.#onShutdown(c.value, now);
        return true;
      case ChunkType.shutdownAck:
        if (this.#state === 'shutdown_sent' || this.#state === 'shutdown_ack_sent') {
          this.#queueControl(ChunkType.shutdownComplete, 0, Buffer.alloc(0));
          this.#flush();
          this.#end(undefined);
        } else this.#drop(SctpDrop.unexpectedChunk);
        return true;
      case ChunkType.forwardTsn:
        this.#onForwardTsn(c.value);
        return true;
      case ChunkType.reconfig: {
        const responses = tcb.reset.onChunk(c.value);
        if (responses === undefined) this.#drop(SctpDrop.invalidReconfig);
        else for (const r of responses) this.#queueControl(ChunkType.reconfig, 0, r);
        return true;
      }
    }
    return false;
  }

  #onData(raw: RawChunk): void {
    const tcb = this.#tcb;
    if (tcb === undefined || !(this.#state === 'established' || this.#state.startsWith('shutdown'))) return this.#drop(SctpDrop.unexpectedChunk);
    const c = decodeData(raw.flags, raw.value);
    if (c === undefined) return this.#drop(SctpDrop.malformedChunk);
    this.stats.dataChunksIn++;
    if (c.payload.length === 0) {
      // RFC 9260 §6.2: a DATA chunk with no user data is answered with ABORT.
      this.#sendAbort(ErrorCause.noUserData, Buffer.from([c.tsn >>> 24, c.tsn >>> 16, c.tsn >>> 8, c.tsn]));
      this.#end({ code: SctpCode.protocolViolation, message: `DATA chunk ${c.tsn} carries no user data` });
      return;
    }
    const cls = tcb.tracker.classify(c.tsn);
    if (cls === 'duplicate') {
      tcb.tracker.noteDuplicate(c.tsn);
      this.stats.duplicateTsnsIn++;
      this.#sackNow = true;
      return;
    }
    if (cls === 'too_far') return this.#drop(SctpDrop.tsnOutOfWindow);
    if (c.streamId >= tcb.inboundStreams) {
      // RFC 9260 §6.5: acknowledge the TSN, discard the data, report the stream.
      tcb.tracker.record(c.tsn);
      const info = Buffer.alloc(4);
      info.writeUInt16BE(c.streamId, 0);
      this.#queueControl(ChunkType.error, 0, encodeCause(ErrorCause.invalidStreamIdentifier, info));
      return this.#drop(SctpDrop.invalidStream);
    }
    const inSequence = c.tsn === tsnAdd(tcb.tracker.cumTsn, 1);
    const r = tcb.reassembly.add(c, inSequence, this.#delivered);
    if (r === 'full') {
      this.#sackNow = true;
      return this.#drop(SctpDrop.receiveWindowFull);
    }
    if (r === 'too_large') return this.#violation(`message on stream ${c.streamId} exceeds max-message-size ${this.#o.maxMessageSize}`);
    tcb.tracker.record(c.tsn);
    this.stats.bytesIn += c.payload.length;
  }

  /** RFC 9260 §6.2, §6.7: SACK every second DATA packet, at once on gaps or duplicates, else delayed. */
  #afterData(immediate: boolean, now: number): void {
    const tcb = this.#tcb!;
    const deferred = tcb.reset.checkDeferred();
    if (deferred !== undefined) this.#queueControl(ChunkType.reconfig, 0, deferred);
    this.#dataPacketsUnacked++;
    if (immediate || this.#dataPacketsUnacked >= 2 || tcb.tracker.hasGaps || tcb.tracker.duplicatesPending || this.#o.delayedAckMs === 0 || this.#state !== 'established') {
      this.#sackNow = true;
    } else {
      this.#sackAt ??= now + this.#o.delayedAckMs;
    }
  }

  #onForwardTsn(v: Buffer): void {
    const tcb = this.#tcb!;
    const f = decodeForwardTsn(v);
    if (f === undefined) return this.#drop(SctpDrop.malformedChunk);
    const ahead = tcb.tracker.distance(f.newCumTsn);
    this.#sackNow = true;
    if (ahead <= 0) return; // nothing new (RFC 3758 §3.6: still answered with a SACK)
    if (ahead > MAX_TSN_AHEAD) return this.#drop(SctpDrop.invalidForwardTsn);
    tcb.tracker.forward(f.newCumTsn);
    tcb.reassembly.forwardTsn(f.newCumTsn, f.streams.filter((s) => s.streamId < tcb.inboundStreams), this.#delivered);
    const deferred = tcb.reset.checkDeferred();
    if (deferred !== undefined) this.#queueControl(ChunkType.reconfig, 0, deferred);
  }

  #onHeartbeatAck(v: Buffer, now: number): void {
    const info = decodeHeartbeatInfo(v);
    const sent = this.#heartbeatSent;
    if (info === undefined || sent === undefined || !info.equals(sent)) return this.#drop(SctpDrop.unknownHeartbeatAck);
    this.#heartbeatSent = undefined;
    this.#errorCount = 0;
    this.#rto.measure(now - sent.readDoubleBE(0));
  }

  #sendHeartbeat(now: number): void {
    const info = Buffer.alloc(16);
    info.writeDoubleBE(now, 0);
    this.#o.rng.bytes(8).copy(info, 8);
    this.#heartbeatSent = info;
    this.#heartbeatAt = now + this.#o.heartbeatIntervalMs + this.#rto.rto;
    this.#queueControl(ChunkType.heartbeat, 0, encodeHeartbeatInfo(info));
  }

  #onShutdown(v: Buffer, now: number): void {
    const tcb = this.#tcb!;
    if (v.length !== 4) return this.#drop(SctpDrop.malformedChunk);
    tcb.sender.onSack({ cumTsn: v.readUInt32BE(0), aRwnd: tcb.sender.peerRwnd, gaps: [], duplicates: [] }, now);
    if (this.#state === 'established' || this.#state === 'shutdown_pending') this.#state = 'shutdown_received';
    else if (this.#state === 'shutdown_sent') {
      this.#state = 'shutdown_ack_sent';
      this.#t2 = { at: now + this.#rto.rto, count: 0 };
      this.#sendShutdownChunk(now);
    }
  }

  #sendShutdownChunk(now: number): void {
    const tcb = this.#tcb!;
    if (this.#t2 !== undefined) this.#t2.at = now + this.#rto.rto;
    if (this.#state === 'shutdown_sent') {
      const v = Buffer.alloc(4);
      v.writeUInt32BE(tcb.tracker.cumTsn, 0);
      this.#queueControl(ChunkType.shutdown, 0, v);
    } else if (this.#state === 'shutdown_ack_sent') {
      this.#queueControl(ChunkType.shutdownAck, 0, Buffer.alloc(0));
    }
  }

  /** T3, heartbeat: one more consecutive timeout (RFC 9260 §8.1); true when the association failed. */
  #timeoutCounts(): boolean {
    if (++this.#errorCount > this.#o.maxRetransmissions) {
      this.#fail(SctpCode.peerUnreachable, `${this.#errorCount - 1} consecutive retransmission timeouts`);
      return true;
    }
    return false;
  }

  /** Builds every packet owed now: control chunks, SACK, data, RE-CONFIG, SHUTDOWN. */
  #flush(): void {
    this.#dirty = false;
    const tcb = this.#tcb;
    const now = this.#now;
    const b = this.#builder;
    const seal = (): void => {
      const packet = b.finish(this.#o.port, this.#o.remotePort, tcb?.peerTag ?? 0);
      if (packet !== undefined) this.#push(packet);
    };
    if (tcb === undefined) {
      this.#control.length = 0;
      return;
    }
    const add = (type: number, flags: number, value: Buffer): void => {
      if (b.room < chunkSize(value.length)) seal();
      b.add(type, flags, value);
    };
    for (const c of this.#control.splice(0)) add(c.type, c.flags, c.value);
    if (this.#sackNow && !this.#dead) {
      this.#sackNow = false;
      this.#sackAt = undefined;
      this.#dataPacketsUnacked = 0;
      const room = tcb.reassembly.room;
      const maxPayload = this.#o.mtu - COMMON_HEADER - DATA_HEADER;
      const aRwnd = Math.floor((room * maxPayload) / (maxPayload + HELD_CHUNK_OVERHEAD));
      add(ChunkType.sack, 0, encodeSack(tcb.tracker.sack(aRwnd)));
      this.stats.sacksOut++;
    }
    const live = this.#state === 'established' || this.#state === 'shutdown_pending' || this.#state === 'shutdown_received';
    if (live) tcb.sender.fill(b, now, seal);
    if (this.#state === 'established') {
      const ready = tcb.reset.queued.size > 0 && !tcb.sender.hasQueued(tcb.reset.queued);
      const req = tcb.reset.nextRequest(tcb.sender.lastAssignedTsn, ready, now, this.#rto.rto);
      if (req !== undefined) add(ChunkType.reconfig, 0, req);
    }
    if ((this.#state === 'shutdown_pending' || this.#state === 'shutdown_received') && tcb.sender.idle) {
      this.#state = this.#state === 'shutdown_pending' ? 'shutdown_sent' : 'shutdown_ack_sent';
      this.#t2 = { at: now + this.#rto.rto, count: 0 };
      this.#sendShutdownChunk(now);
      for (const c of this.#control.splice(0)) add(c.type, c.flags, c.value);
    }
    seal();
  }

  #queueControl(type: number, flags: number, value: Buffer): void {
    this.#control.push({ type, flags, value });
    this.#dirty = true;
  }

  #emitDelivered(): void {
    for (const d of this.#delivered) {
      this.stats.messagesIn++;
      this.#events.push({ type: 'message', streamId: d.streamId, ppid: d.ppid, data: d.data, unordered: d.unordered });
    }
    this.#delivered.length = 0;
  }

  #push(packet: Buffer): void {
    this.stats.packetsOut++;
    this.#transmits.push(packet);
  }

  #drop(reason: SctpDropReason): void {
    this.#drops[reason]++;
  }

  #sendAbort(cause: number, info: Buffer): void {
    const tcb = this.#tcb;
    if (tcb === undefined) return;
    this.#push(singleChunkPacket(this.#o.mtu, this.#o.port, this.#o.remotePort, tcb.peerTag, ChunkType.abort, 0, encodeCause(cause, info)));
  }

  #violation(message: string): void {
    this.#sendAbort(ErrorCause.protocolViolation, Buffer.from(message.slice(0, 128)));
    this.#end({ code: SctpCode.protocolViolation, message });
  }

  #fail(code: SctpCode, message: string): void {
    this.#sendAbort(ErrorCause.userInitiatedAbort, Buffer.from(message.slice(0, 128)));
    this.#end({ code, message });
  }

  /** Frees everything and emits `closed`; the association never lives again. */
  #end(error: SctpFailure | undefined): void {
    if (this.#dead) return;
    this.#emitDelivered();
    this.#dead = true;
    this.#state = 'closed';
    this.#t1 = undefined;
    this.#t2 = undefined;
    this.#sackAt = undefined;
    this.#heartbeatAt = undefined;
    this.#control.length = 0;
    const tcb = this.#tcb;
    if (tcb !== undefined) {
      tcb.sender.clear();
      tcb.reassembly.clear();
    }
    this.#sendBuffer.clear();
    this.#events.push(error === undefined ? { type: 'closed' } : { type: 'closed', error });
  }
}

function isKnown(type: number): boolean {
  return Object.values(ChunkType).includes(type as (typeof ChunkType)[keyof typeof ChunkType]);
}

