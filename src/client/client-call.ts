// One WebRTC audio call from the client side, sans-IO like the core (STYLE.md rules 1-2): it
// builds the offer, takes the answer, then runs ICE (controlling), DTLS-SRTP (either role) and
// RTP/RTCP over whatever datagrams its I/O shell hands it, and sends pre-encoded Opus frames
// one per 20 ms. Time is a parameter; randomness comes from an Rng. One object per call and no
// timers of its own, so `parley load` can drive hundreds from one timer (./udp-driver.ts).
// Not here: sockets, HTTP signaling (./signaling.ts), Opus encoding/decoding, recording.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import { classifyPacket, isRtcp } from '../core/demux.ts';
import type { Rng } from '../core/rng.ts';
import { SrtpSession } from '../core/srtp/index.ts';
import { FRAME_MS, parseRtp } from '../core/rtp/index.ts';
import type { CallAgents, DtlsEndpointLike, IceAgentLike } from './agents.ts';
import { ClientError, ClientErrorCode } from './errors.ts';
import { RtpStream } from './rtp-stream.ts';
import { buildOffer, OFFER_OPUS_PT, parseAnswer } from './sdp.ts';
import { EchoRttMeter } from './echo-rtt.ts';
import { StunRttMeter } from './stun-rtt.ts';
import type { ClientCallEvent, ClientCallState, ClientCallStats } from './client-call-types.ts';

export type { ClientCallEvent, ClientCallState, ClientCallStats } from './client-call-types.ts';

export interface ClientCallOptions {
  readonly rng: Rng;
  readonly agents: CallAgents;
  /** The local socket's address, advertised as our one host candidate. */
  readonly localAddress: TransportAddress;
  /** Pre-encoded 20 ms Opus frames, shared between calls; sent in order, cycling. */
  readonly frames?: readonly Buffer[];
  /** How many frames to send in all (default: frames.length); 0 sends nothing. */
  readonly frameCount?: number;
  /** Queue an 'audio' event per received packet (the CLI records them; load tests do not). */
  readonly deliverAudio?: boolean;
  /** From acceptAnswer to DTLS connected; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Sender Report interval; default 1 s (short so a short call gets an RTCP RTT). */
  readonly rtcpIntervalMs?: number;
  /** Told of every echo round trip measured (a returned payload matched to the frame sent; ./echo-rtt.ts). */
  readonly onEchoRtt?: (ms: number) => void;
}

/** Sending more than this late skips frames instead of bursting to catch up. */
const MAX_LATE_MS = 500;

function iceChars(rng: Rng, n: number): string {
  // RFC 8839 §5.4 ice-char from base64 (A-Za-z0-9+/): 6 bits per character.
  return rng.bytes(Math.ceil((n * 3) / 4)).toString('base64').slice(0, n);
}

export class ClientCall {
  readonly offer: string;
  readonly #o: ClientCallOptions;
  readonly #ufrag: string;
  readonly #pwd: string;
  readonly #rtp: RtpStream;
  readonly #stunRtt = new StunRttMeter();
  readonly #echoRtt: EchoRttMeter | undefined;
  readonly #tx: { to: TransportAddress; data: Buffer }[] = [];
  readonly #events: ClientCallEvent[] = [];
  #state: ClientCallState = 'new';
  #ice: IceAgentLike | undefined;
  #dtls: DtlsEndpointLike | undefined;
  #dtlsRole: 'client' | 'server' | undefined;
  #srtp: SrtpSession | undefined;
  #payloadType = OFFER_OPUS_PT;
  #remote: TransportAddress | undefined;
  #deadline: number | undefined;
  #nextFrameAt: number | undefined;
  #framesSent = 0;
  #framesSkipped = 0;
  #nextRtcpAt: number | undefined;
  #answeredAt: number | undefined;
  #iceConnectedAt: number | undefined;
  #connectedAt: number | undefined;
  #error: ClientError | undefined;
  #srtpDrops = 0;
  #lastReceiveAt: number | undefined;
  #firstReceiveAt: number | undefined;

  constructor(o: ClientCallOptions) {
    this.#o = o;
    this.#ufrag = iceChars(o.rng, 8);
    this.#pwd = iceChars(o.rng, 24);
    this.#echoRtt = o.frames && o.frames.length > 0 ? new EchoRttMeter(o.frames) : undefined;
    const r = o.rng.bytes(10);
    this.#rtp = new RtpStream({ ssrc: r.readUInt32BE(0), cname: iceChars(o.rng, 16), payloadType: OFFER_OPUS_PT, firstSeq: r.readUInt16BE(4), firstTimestamp: r.readUInt32BE(6) });
    this.offer = buildOffer({
      iceUfrag: this.#ufrag,
      icePwd: this.#pwd,
      fingerprint: { algorithm: 'sha-256', value: o.agents.fingerprint },
      candidate: o.localAddress,
      ssrc: this.#rtp.ssrc,
      cname: this.#rtp.cname,
      sessionId: BigInt.asUintN(62, o.rng.bytes(8).readBigUInt64BE(0)).toString(),
    });
  }

  get state(): ClientCallState {
    return this.#state;
  }

  /** Why the call failed, once state is 'failed'. */
  get error(): ClientError | undefined {
    return this.#error;
  }

  /** Takes the SDP answer and starts ICE. Throws ClientError(BadAnswer) for an unusable answer. */
  acceptAnswer(sdp: string, now: number): void {
    if (this.#state !== 'new') throw new Error(`acceptAnswer in state ${this.#state}`);
    const a = parseAnswer(sdp);
    this.#payloadType = a.opusPayloadType;
    this.#rtp.payloadType = a.opusPayloadType;
    this.#answeredAt = now;
    this.#deadline = now + (this.#o.connectTimeoutMs ?? 10_000);
    this.#ice = this.#o.agents.createIce({
      localUfrag: this.#ufrag, localPwd: this.#pwd, remoteUfrag: a.iceUfrag, remotePwd: a.icePwd,
      remoteCandidates: a.candidates, now,
    });
    // RFC 5763 §5: the answerer's a=setup:active makes it the DTLS client, so we are the server
    // and only wait for its ClientHello; passive makes us the client, started once ICE connects.
    this.#dtlsRole = a.setup === 'active' ? 'server' : 'client';
    this.#dtls = this.#o.agents.createDtls({ role: this.#dtlsRole, remoteFingerprint: a.fingerprint.value });
    this.#state = 'connecting';
    this.#drain(now);
  }

  /** One datagram from the socket. Demultiplexed by first byte (RFC 7983 §7 / RFC 9443). */
  handle(data: Buffer, from: TransportAddress, now: number): void {
    if (this.#state !== 'connecting' && this.#state !== 'connected') return;
    const kind = classifyPacket(data);
    if (kind === 'stun') {
      this.#stunRtt.onReceive(data, now);
      this.#ice?.handle(data, from, now);
    } else if (kind === 'dtls') {
      // The server's ClientHello may beat our check's response; answer it where it came from.
      if (this.#remote === undefined) this.#remote = from;
      this.#dtls?.handle(data, now);
    } else if (kind === 'rtp') {
      this.#media(data, now);
    }
    this.#drain(now);
  }

  handleTimeout(now: number): void {
    if (this.#state !== 'connecting' && this.#state !== 'connected') return;
    this.#ice?.handleTimeout(now);
    this.#dtls?.handleTimeout(now);
    if (this.#state === 'connecting' && this.#deadline !== undefined && now >= this.#deadline) {
      const iceDone = this.#iceConnectedAt !== undefined;
      this.#fail(iceDone
        ? new ClientError(ClientErrorCode.ConnectTimeout, `ICE connected but DTLS did not complete within ${this.#o.connectTimeoutMs ?? 10_000} ms`)
        : new ClientError(ClientErrorCode.IceFailed, `no STUN check was answered within ${this.#o.connectTimeoutMs ?? 10_000} ms`));
      return;
    }
    if (this.#state === 'connected') this.#sendDue(now);
    this.#drain(now);
  }

  pollTransmit(): { to: TransportAddress; data: Buffer } | undefined {
    return this.#tx.shift();
  }

  pollEvent(): ClientCallEvent | undefined {
    return this.#events.shift();
  }

  /** The earliest time handleTimeout must run, or undefined when nothing is pending. */
  pollTimeout(): number | undefined {
    if (this.#state !== 'connecting' && this.#state !== 'connected') return undefined;
    let t = this.#deadline;
    const min = (v: number | undefined): void => {
      if (v !== undefined && (t === undefined || v < t)) t = v;
    };
    min(this.#ice?.pollTimeout());
    min(this.#dtls?.pollTimeout());
    min(this.#nextFrameAt);
    min(this.#nextRtcpAt);
    return t;
  }

  /** The I/O shell moved to a new local port: nominate from it at once, since a lite agent moves its selected pair only on a nominating check (RFC 8445 §7.3.1.5). */
  rebound(now: number): void {
    this.#ice?.checkNow(now);
    this.#drain(now);
  }

  /** Ends the call: close_notify to the peer; idempotent. Signaling hang-up is the caller's. */
  close(now: number): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    if (this.#state === 'connected') this.#dtls?.close(now);
    this.#drainTransmit(now);
    this.#state = 'closed';
    this.#nextFrameAt = undefined;
    this.#nextRtcpAt = undefined;
  }

  stats(): ClientCallStats {
    const ms = (a: number | undefined, b: number | undefined): number | undefined => (a === undefined || b === undefined ? undefined : b - a);
    const rx = this.#rtp.receiver.snapshot();
    const lost = Math.max(0, rx.lost);
    const rtcpRtt = this.#rtp.rttMs;
    return {
      state: this.#state,
      error: this.#error ? { code: this.#error.code, message: this.#error.message } : undefined,
      dtlsRole: this.#dtlsRole,
      srtpProfile: this.#srtp?.profile,
      remoteAddress: this.#remote ? formatAddress(this.#remote) : undefined,
      iceMs: ms(this.#answeredAt, this.#iceConnectedAt),
      dtlsMs: ms(this.#iceConnectedAt, this.#connectedAt),
      connectedAt: this.#connectedAt,
      packetsSent: this.#rtp.packetsSent,
      framesSkipped: this.#framesSkipped,
      bytesSent: this.#rtp.octetsSent,
      packetsReceived: rx.received,
      bytesReceived: this.#rtp.octetsReceived,
      packetsExpected: rx.expected,
      packetsLost: lost,
      lossFraction: rx.expected > 0 ? lost / rx.expected : 0,
      jitterMs: rx.jitterMs,
      srtpDropped: this.#srtpDrops,
      firstReceiveAt: this.#firstReceiveAt,
      lastReceiveAt: this.#lastReceiveAt,
      rttMs: rtcpRtt ?? this.#stunRtt.smoothed,
      rttSource: rtcpRtt !== undefined ? 'rtcp' : this.#stunRtt.smoothed !== undefined ? 'stun' : undefined,
      stunRttMs: this.#stunRtt.smoothed,
      echoRttMs: this.#echoRtt && this.#echoRtt.samples > 0 ? this.#echoRtt.sumMs / this.#echoRtt.samples : undefined,
      rtcpRttMs: rtcpRtt,
    };
  }

  #media(data: Buffer, now: number): void {
    const srtp = this.#srtp;
    if (!srtp) return;
    if (isRtcp(data)) {
      const rtcp = srtp.unprotectRtcp(data);
      if (!Buffer.isBuffer(rtcp)) {
        this.#srtpDrops++;
        return;
      }
      this.#rtp.rtcp(rtcp, now);
      return;
    }
    const rtp = srtp.unprotectRtp(data);
    if (!Buffer.isBuffer(rtp)) {
      this.#srtpDrops++;
      return;
    }
    const p = parseRtp(rtp);
    if (!('header' in p)) {
      this.#srtpDrops++;
      return;
    }
    const h = p.header;
    this.#rtp.received(h.sequenceNumber, h.timestamp, h.ssrc, p.payload.length, now);
    this.#firstReceiveAt ??= now;
    this.#lastReceiveAt = now;
    const echo = this.#echoRtt?.onReceive(p.payload, now);
    if (echo !== undefined) this.#o.onEchoRtt?.(echo);
    if (h.payloadType !== this.#payloadType || !this.#o.deliverAudio) return;
    this.#events.push({ type: 'audio', payload: p.payload, sequence: h.sequenceNumber, timestamp: h.timestamp, receivedAt: now });
  }

  #sendDue(now: number): void {
    const frames = this.#o.frames;
    const total = this.#o.frameCount ?? frames?.length ?? 0;
    while (frames && frames.length > 0 && this.#nextFrameAt !== undefined && now >= this.#nextFrameAt) {
      if (now - this.#nextFrameAt > MAX_LATE_MS) {
        // The process stalled (GC, a busy loop): drop the backlog rather than burst it.
        const skip = Math.min(Math.floor((now - this.#nextFrameAt) / FRAME_MS), total - this.#framesSent);
        this.#echoRtt?.onSkip(this.#framesSent, skip);
        this.#framesSent += skip;
        this.#framesSkipped += skip;
        this.#rtp.skip(skip);
        this.#nextFrameAt += skip * FRAME_MS;
      }
      if (this.#framesSent >= total) {
        this.#nextFrameAt = undefined;
        this.#events.push({ type: 'sending-done' });
        break;
      }
      this.#echoRtt?.onSend(this.#framesSent, now);
      this.#sendRtp(frames[this.#framesSent % frames.length], now);
      this.#framesSent++;
      this.#nextFrameAt += FRAME_MS;
    }
    if (this.#nextRtcpAt !== undefined && now >= this.#nextRtcpAt) {
      this.#nextRtcpAt = now + (this.#o.rtcpIntervalMs ?? 1000);
      this.#sendRaw(this.#srtp!.protectRtcp(this.#rtp.senderReport(now)), now);
    }
  }

  #sendRtp(payload: Buffer, now: number): void {
    this.#sendRaw(this.#srtp!.protectRtp(this.#rtp.packet(payload)), now);
  }

  #sendRaw(data: Buffer, now: number): void {
    if (!this.#remote) return;
    this.#tx.push({ to: this.#remote, data });
    this.#stunRtt.onSend(data, now);
  }

  /** Moves output and events of both agents into the call's queues, reacting to events. */
  #drain(now: number): void {
    for (let ev = this.#ice?.pollEvent(); ev; ev = this.#ice?.pollEvent()) {
      if (ev.type === 'connected') {
        this.#remote = ev.remote;
        if (this.#iceConnectedAt === undefined) {
          this.#iceConnectedAt = now;
          this.#events.push({ type: 'ice-connected', remote: ev.remote });
          if (this.#dtlsRole === 'client') this.#dtls?.start(now);
        }
      } else if (ev.type === 'consent-lost') {
        this.#fail(new ClientError(ClientErrorCode.ConsentLost, 'consent checks stopped being answered (RFC 7675)'));
        return;
      } else {
        this.#fail(new ClientError(ClientErrorCode.IceFailed, `ICE failed: ${ev.reason}`));
        return;
      }
    }
    for (let ev = this.#dtls?.pollEvent(); ev; ev = this.#dtls?.pollEvent()) {
      if (ev.type === 'connected' && this.#state === 'connecting') {
        this.#srtp = SrtpSession.fromDtls(ev.srtpProfile, ev.keyingMaterial, this.#dtlsRole!);
        this.#state = 'connected';
        this.#connectedAt = now;
        this.#deadline = undefined;
        this.#nextFrameAt = now;
        this.#nextRtcpAt = now + FRAME_MS;
        this.#events.push({ type: 'connected', srtpProfile: ev.srtpProfile });
        // Our last handshake flight (the server's Finished) must leave before the first RTP,
        // or the peer, not yet keyed, drops it.
        this.#drainTransmit(now);
        this.#sendDue(now);
      } else if (ev.type === 'failed') {
        this.#fail(new ClientError(ClientErrorCode.DtlsFailed, `DTLS failed: ${ev.reason}`));
        return;
      } else if (ev.type === 'closed') {
        this.#fail(new ClientError(ClientErrorCode.RemoteClosed, 'the server closed the DTLS association'));
        return;
      }
    }
    this.#drainTransmit(now);
  }

  #drainTransmit(now: number): void {
    for (let t = this.#ice?.pollTransmit(); t; t = this.#ice?.pollTransmit()) {
      this.#tx.push(t);
      this.#stunRtt.onSend(t.data, now);
    }
    for (let d = this.#dtls?.pollTransmit(); d; d = this.#dtls?.pollTransmit()) {
      if (this.#remote) this.#tx.push({ to: this.#remote, data: d });
    }
  }

  #fail(error: ClientError): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    this.#state = 'failed';
    this.#error = error;
    this.#nextFrameAt = undefined;
    this.#nextRtcpAt = undefined;
    this.#deadline = undefined;
    this.#events.push({ type: 'failed', error });
  }
}
