// SctpAssociation: one SCTP association for WebRTC data channels (RFC 8261 over DTLS, RFC 9260,
// RFC 8831), sans-IO (STYLE.md rule 2): handle(packet, now) takes an SCTP packet that came out
// of DTLS application data, handleTimeout(now) runs its timers, pollTransmit() gives SCTP packets
// for DTLS, pollEvent() its events, pollTimeout() the next deadline. Packets are built lazily
// when polled, so many send() calls before a drain share packets.
// This file is the machine: states, verification tags, chunk dispatch, the timers (T1-init,
// T3-rtx via the sender, delayed SACK via the receiver, heartbeat, T2-shutdown, RE-CONFIG),
// SHUTDOWN and ABORT. It runs past 400 lines because those transitions are one state machine and
// read best together; each part with a concept of its own lives beside it: options.ts,
// handshake.ts, tcb.ts, sender.ts, receiver.ts (tsn-tracker.ts, reassembly.ts), stream-reset.ts,
// send-buffer.ts, heartbeat.ts. Not here: DTLS, SDP, DCEP (src/core/datachannel).
import type { SansIo } from '../output.ts';
import { decodeCauses, decodeHeartbeatInfo, decodeInit, decodeSack, encodeCause } from './chunks.ts';
import { openCookie } from './cookie.ts';
import type { CookieState } from './cookie.ts';
import { ErrorCause, SCTP_DROPS, SctpCode, SctpError } from './errors.ts';
import type { SctpDropReason, SctpFailure } from './errors.ts';
import { cookieDecision, initAckValue, initValue, randomTag, randomTsn, validInit } from './handshake.ts';
import type { LocalInit } from './handshake.ts';
import { Heartbeat } from './heartbeat.ts';
import { DEFAULT_MAX_MESSAGE_SIZE, resolveOptions } from './options.ts';
import type { ResolvedOptions } from './options.ts';
import { ChunkType, chunkSize, PacketBuilder, parsePacket, singleChunkPacket } from './packet.ts';
import type { RawChunk } from './packet.ts';
import { Rto } from './rto.ts';
import { SendBuffer } from './send-buffer.ts';
import { makeTcb } from './tcb.ts';
import type { Tcb } from './tcb.ts';
import type { SctpDump, SctpEvent, SctpOptions, SctpState, SctpStats, SendOptions } from './types.ts';

export { DEFAULT_MAX_MESSAGE_SIZE, SCTP_PORT } from './options.ts';

interface Control {
  type: number;
  flags: number;
  value: Buffer;
}

export class SctpAssociation implements SansIo<Buffer, SctpEvent> {
  readonly #o: ResolvedOptions;
  readonly #rto: Rto;
  readonly #heartbeat: Heartbeat;
  readonly #builder: PacketBuilder;
  readonly #sendBuffer: SendBuffer;
  readonly #transmits: Buffer[] = [];
  readonly #events: SctpEvent[] = [];
  readonly #control: Control[] = [];
  readonly #drops = Object.fromEntries(SCTP_DROPS.reasons.map((r) => [r, 0])) as Record<SctpDropReason, number>;
  readonly stats: SctpStats = zeroStats();
  #state: SctpState = 'closed';
  #dead = false;
  #local: LocalInit | undefined;
  #tcb: Tcb | undefined;
  #maxSendMessageSize = DEFAULT_MAX_MESSAGE_SIZE;
  #now = 0;
  #dirty = false;
  /** DATA payload bytes the next flushes may build (a pacer's; Infinity when nobody paces). */
  #allowance = Infinity;
  // T1-init: the INIT or COOKIE-ECHO we resend until answered.
  #t1: { at: number; count: number; interval: number; packet: Buffer } | undefined;
  // T2-shutdown: the SHUTDOWN or SHUTDOWN-ACK we resend until answered.
  #t2: { at: number; count: number } | undefined;
  #errorCount = 0;
  #shutdownWanted = false;

  constructor(opts: SctpOptions) {
    this.#o = resolveOptions(opts);
    this.#rto = new Rto(this.#o.rto);
    this.#heartbeat = new Heartbeat(this.#o.heartbeatIntervalMs, this.#o.rng);
    this.#builder = new PacketBuilder(this.#o.mtu);
    this.#sendBuffer = new SendBuffer(this.#o.maxSendBufferBytes, this.#o.sendBufferLowBytes, this.#o.budget, this.#events);
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

  /**
   * How many DATA payload bytes may be built from now on (a pacer's allowance, ../peer/pacer.ts):
   * packets are built only when they may leave, so their send time, RTT samples and T3 timer are
   * true. At least one chunk goes whenever the allowance is positive.
   */
  setSendAllowance(bytes: number, now: number): void {
    this.#allowance = bytes;
    if (bytes > 0 && this.#tcb?.sender.pacedBack === true) {
      this.#now = now;
      this.#dirty = true;
    }
  }

  /** What is left of the send allowance: what was set less the DATA payload bytes built since. */
  get sendAllowance(): number {
    return this.#allowance;
  }

  /** DATA waits that only the send allowance held back: a pacer should come back. */
  get pacedBack(): boolean {
    return this.#tcb?.sender.pacedBack === true;
  }

  /** The congestion window in bytes (0 before the association is established): what a pacer spreads over one SRTT. */
  get cwnd(): number {
    return this.#tcb?.sender.cwnd ?? 0;
  }

  /** The smoothed round-trip time in ms (RFC 6298), undefined before the first measurement. */
  get srtt(): number | undefined {
    return this.#rto.srtt;
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
    this.#t1 = { at: now + this.#o.rto.initialMs, count: 0, interval: this.#o.rto.initialMs, packet };
    this.#push(packet);
  }

  /** One SCTP packet from the peer. Never throws. */
  handle(packet: Buffer, now: number): void {
    this.#now = now;
    if (this.#dead) {
      this.#drop('out_of_the_blue');
      return;
    }
    const p = parsePacket(packet);
    if (typeof p === 'string') {
      this.#drop(p);
      return;
    }
    this.stats.packetsIn++;
    if (p.srcPort !== this.#o.remotePort || p.dstPort !== this.#o.port) {
      this.#drop('wrong_port');
      return;
    }
    const first = p.chunks[0];
    if (first.type === ChunkType.init || first.type === ChunkType.initAck || first.type === ChunkType.shutdownComplete) {
      if (p.chunks.length !== 1) {
        this.#drop('bundled_control');
        return;
      }
    }
    if (first.type === ChunkType.init) {
      if (p.verificationTag !== 0) this.#drop('bad_verification_tag');
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
    let reportedUnknown = false;
    for (let i = start; i < p.chunks.length && !this.#dead; i++) {
      const c = p.chunks[i];
      if (c.type === ChunkType.data) {
        hadData = true;
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
      this.#drop('unknown_chunk');
      if ((c.type & 0x80) === 0) break;
    }
    const tcb = this.#tcb;
    if (hadData && tcb !== undefined && !this.#dead) {
      tcb.receiver.afterDataPacket(now, this.#state !== 'established');
      this.#checkDeferredReset(tcb);
    }
    this.#emitDelivered();
    this.#dirty = true;
  }

  handleTimeout(now: number): void {
    this.#now = now;
    if (this.#dead) return;
    const t1 = this.#t1;
    if (t1 !== undefined && now >= t1.at) {
      if (++t1.count > this.#o.maxInitRetransmissions) {
        this.#fail(
          SctpCode.handshakeTimeout,
          `no answer to ${this.#state === 'cookie_wait' ? 'INIT' : 'COOKIE-ECHO'} after ${t1.count - 1} retransmissions`,
        );
        return;
      }
      t1.interval = Math.min(t1.interval * 2, this.#o.rto.maxMs);
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
    const sackAt = tcb.receiver.sackAt;
    if (sackAt !== undefined && now >= sackAt) tcb.receiver.requestSack();
    const hb = this.#heartbeat.at;
    if (hb !== undefined && now >= hb) {
      const { missed, value } = this.#heartbeat.fire(now, this.#rto.rto);
      if (missed && this.#timeoutCounts()) return;
      this.#queueControl(ChunkType.heartbeat, 0, value);
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
      min(tcb.receiver.sackAt);
      min(this.#heartbeat.at);
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
      streams: this.#tcb?.receiver.reassembly.streamCount ?? 0,
      reassemblyBytes: this.#tcb?.receiver.reassembly.held ?? 0,
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
      this.#drop('out_of_the_blue');
      return false;
    }
    const reflected = (first.type === ChunkType.abort || first.type === ChunkType.shutdownComplete) && (first.flags & 1) !== 0;
    const ok = reflected ? this.#tcb !== undefined && vtag === this.#tcb.peerTag : vtag === local;
    if (!ok) this.#drop('bad_verification_tag');
    return ok;
  }

  #onInit(v: Buffer, now: number): void {
    const init = decodeInit(v);
    if (init === undefined) return this.#drop('malformed_chunk');
    if (!validInit(init)) return this.#drop('invalid_init');
    if (this.#state !== 'closed' && this.#state !== 'cookie_wait' && this.#state !== 'cookie_echoed') return this.#drop('restart_refused');
    // Closed: fresh tags from the Rng, kept nowhere. Waiting: our own INIT's (RFC 9260 §5.2.1).
    const local = this.#state === 'closed' ? this.#newLocal() : this.#local!;
    const value = initAckValue(this.#o.cookieSecret, local, init, now);
    this.#push(singleChunkPacket(this.#o.mtu, this.#o.port, this.#o.remotePort, init.initiateTag, ChunkType.initAck, 0, value));
  }

  #onInitAck(v: Buffer, now: number): void {
    if (this.#state !== 'cookie_wait') return this.#drop('unexpected_chunk');
    const ack = decodeInit(v);
    if (ack === undefined || ack.cookie === undefined) return this.#drop('malformed_chunk');
    if (!validInit(ack)) return this.#drop('invalid_init');
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
    const packet = singleChunkPacket(
      this.#o.mtu,
      this.#o.port,
      this.#o.remotePort,
      ack.initiateTag,
      ChunkType.cookieEcho,
      0,
      Buffer.from(ack.cookie),
    );
    this.#state = 'cookie_echoed';
    this.#t1 = { at: now + this.#o.rto.initialMs, count: 0, interval: this.#o.rto.initialMs, packet };
    this.#push(packet);
  }

  /** RFC 9260 §5.1.5 and §5.2.4; true when the rest of the packet may be processed. */
  #onCookieEcho(v: Buffer, vtag: number, now: number): boolean {
    const opened = openCookie(this.#o.cookieSecret, v, now, this.#o.cookieLifetimeMs);
    if (!opened.ok) {
      if (opened.reason === 'stale_cookie') this.#drop('stale_cookie');
      else this.#drop('bad_cookie');
      return false;
    }
    const c = opened.state;
    if (vtag !== c.localTag) {
      this.#drop('bad_verification_tag');
      return false;
    }
    const decision = cookieDecision(this.#state, this.#tcb !== undefined, this.#local?.tag ?? 0, this.#tcb?.peerTag ?? 0, c);
    if (decision === 'refuse') {
      this.#drop('restart_refused');
      return false;
    }
    if (decision === 'establish') {
      this.#local = {
        tag: c.localTag,
        initialTsn: c.localInitialTsn,
        aRwnd: this.#o.maxReassemblyBytes,
        outboundStreams: this.#o.outboundStreams,
        inboundStreams: this.#o.maxInboundStreams,
      };
      this.#tcb = this.#makeTcb(c);
      this.#established(now);
    }
    this.#queueControl(ChunkType.cookieAck, 0, Buffer.alloc(0));
    return true;
  }

  #makeTcb(c: CookieState): Tcb {
    return makeTcb(c, { o: this.#o, rto: this.#rto, sendBuffer: this.#sendBuffer, stats: this.stats, events: this.#events });
  }

  #established(now: number): void {
    this.#state = 'established';
    this.#t1 = undefined;
    this.#errorCount = 0;
    this.#heartbeat.start(now);
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
        this.#drop('unexpected_chunk');
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
      if (isKnown(c.type)) this.#drop('unexpected_chunk');
      return isKnown(c.type);
    }
    switch (c.type) {
      case ChunkType.sack: {
        const sack = decodeSack(c.value);
        if (sack === undefined) this.#drop('malformed_chunk');
        else if (!tcb.sender.onSack(sack, now)) this.#drop('invalid_sack');
        else this.#errorCount = 0;
        return true;
      }
      case ChunkType.heartbeat:
        if (decodeHeartbeatInfo(c.value) === undefined) this.#drop('malformed_chunk');
        else this.#queueControl(ChunkType.heartbeatAck, 0, Buffer.from(c.value));
        return true;
      case ChunkType.heartbeatAck: {
        const rtt = this.#heartbeat.onAck(c.value, now);
        if (rtt === undefined) this.#drop('unknown_heartbeat_ack');
        else {
          this.#errorCount = 0;
          this.#rto.measure(rtt);
        }
        return true;
      }
      case ChunkType.shutdown:
        this.#onShutdown(c.value, now);
        return true;
      case ChunkType.shutdownAck:
        if (this.#state === 'shutdown_sent' || this.#state === 'shutdown_ack_sent') {
          this.#queueControl(ChunkType.shutdownComplete, 0, Buffer.alloc(0));
          this.#flush();
          this.#end(undefined);
        } else this.#drop('unexpected_chunk');
        return true;
      case ChunkType.forwardTsn: {
        const drop = tcb.receiver.onForwardTsn(c.value);
        if (drop !== undefined) this.#drop(drop);
        else this.#checkDeferredReset(tcb);
        return true;
      }
      case ChunkType.reconfig: {
        const responses = tcb.reset.onChunk(c.value);
        if (responses === undefined) this.#drop('invalid_reconfig');
        else for (const r of responses) this.#queueControl(ChunkType.reconfig, 0, r);
        return true;
      }
    }
    return false;
  }

  #onData(raw: RawChunk): void {
    const tcb = this.#tcb;
    if (tcb === undefined || !(this.#state === 'established' || this.#state.startsWith('shutdown'))) return this.#drop('unexpected_chunk');
    const r = tcb.receiver.onData(raw.flags, raw.value);
    switch (r.kind) {
      case 'ok':
        return;
      case 'drop':
        return this.#drop(r.reason);
      case 'report':
        this.#queueControl(ChunkType.error, 0, r.error);
        return this.#drop(r.reason);
      case 'abort':
        this.#sendAbort(r.cause, r.info.subarray(0, 128));
        this.#end({ code: SctpCode.protocolViolation, message: r.message });
    }
  }

  /** RFC 6525 §5.2.2: a deferred peer reset is performed once its last TSN has arrived. */
  #checkDeferredReset(tcb: Tcb): void {
    const response = tcb.reset.checkDeferred();
    if (response !== undefined) this.#queueControl(ChunkType.reconfig, 0, response);
  }

  #onShutdown(v: Buffer, now: number): void {
    const tcb = this.#tcb!;
    if (v.length !== 4) return this.#drop('malformed_chunk');
    tcb.sender.onCumAck(v.readUInt32BE(0), now);
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
      v.writeUInt32BE(tcb.receiver.tracker.cumTsn, 0);
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
    if (tcb.receiver.sackOwed && !this.#dead) add(ChunkType.sack, 0, tcb.receiver.takeSack(now));
    const live = this.#state === 'established' || this.#state === 'shutdown_pending' || this.#state === 'shutdown_received';
    if (live) this.#allowance -= tcb.sender.fill(b, now, seal, this.#allowance);
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
    const delivered = this.#tcb?.receiver.delivered;
    if (delivered === undefined) return;
    for (const d of delivered) {
      this.stats.messagesIn++;
      this.#events.push({ type: 'message', streamId: d.streamId, ppid: d.ppid, data: d.data, unordered: d.unordered });
    }
    delivered.length = 0;
  }

  #push(packet: Buffer): void {
    this.stats.packetsOut++;
    this.#transmits.push(packet);
  }

  #drop(reason: SctpDropReason): void {
    this.#drops[reason]++;
    this.#o.onDrop?.(reason);
  }

  #sendAbort(cause: number, info: Buffer): void {
    const tcb = this.#tcb;
    if (tcb === undefined) return;
    this.#push(singleChunkPacket(this.#o.mtu, this.#o.port, this.#o.remotePort, tcb.peerTag, ChunkType.abort, 0, encodeCause(cause, info)));
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
    this.#heartbeat.stop();
    this.#control.length = 0;
    const tcb = this.#tcb;
    if (tcb !== undefined) {
      tcb.sender.clear();
      tcb.receiver.clear();
    }
    this.#sendBuffer.clear();
    this.#events.push(error === undefined ? { type: 'closed' } : { type: 'closed', error });
  }
}

function isKnown(type: number): boolean {
  return Object.values(ChunkType).includes(type as (typeof ChunkType)[keyof typeof ChunkType]);
}

/** Every counter of an association at 0. */
export function zeroStats(): SctpStats {
  return {
    packetsIn: 0,
    packetsOut: 0,
    dataChunksIn: 0,
    dataChunksOut: 0,
    messagesIn: 0,
    messagesOut: 0,
    bytesIn: 0,
    bytesOut: 0,
    retransmits: 0,
    fastRetransmits: 0,
    t3Expiries: 0,
    delayCuts: 0,
    duplicateTsnsIn: 0,
    abandonedMessages: 0,
    forwardTsnsOut: 0,
    sacksOut: 0,
  };
}
