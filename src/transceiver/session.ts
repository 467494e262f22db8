// One call, sans-IO (STYLE.md rules 1-2): ICE-lite → DTLS → SRTP → RTP/RTCP → media handler,
// driven like every core object: handle(datagram, path, now) / handleTimeout(now) in,
// pollTransmit / pollEvent / pollTimeout out. The endpoint (endpoint.ts) owns the socket and the
// one timer; this object never reads a clock. Life: created → connecting (ICE nominated, DTLS
// running) → connected (SRTP keys) → closed, with a CloseReason.
// Datagrams arrive without the relay header; `path` says which client address and relay they
// came through, and every transmit says where to send (the relay the client last used).
import { formatAddress } from '../core/address.ts';
import type { TransportAddress } from '../core/address.ts';
import { classify, isRtcp } from '../core/demux.ts';
import { DtlsEndpoint } from '../core/dtls/index.ts';
import type { DtlsCertificate, DtlsDropReason } from '../core/dtls/index.ts';
import { IceLiteAgent } from '../core/ice/ice-lite-agent.ts';
import type { IceLiteCounter } from '../core/ice/index.ts';
import type { Rng } from '../core/rng.ts';
import { parseRtcpCompound, parseRtp } from '../core/rtp/index.ts';
import { SrtpError, SrtpSession } from '../core/srtp/index.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';
import type { MediaHandlerFactory } from './media-handler.ts';
import { containHandler } from './handlers/contain.ts';
import type { HandlerErrorListener } from './handlers/contain.ts';
import { canPull } from './handlers/pull.ts';
import type { CallState, CloseReason, SessionStats } from './call-types.ts';
import { OutboundAudio } from './outbound-audio.ts';
import { ClientPaths } from './session-paths.ts';
import type { SessionDropKind } from './drop-reasons.ts';
import { RtcpReporter } from './session-rtcp.ts';

/** How one client address reaches us: through which relay public address and relay socket. */
export interface SessionPath {
  readonly client: TransportAddress;
  /** The relay public address the client sent to (goes back in the relay header). */
  readonly relayPublic: TransportAddress;
  /** The relay's own socket address, where the transceiver sends the datagram. */
  readonly relaySocket: TransportAddress;
}

export interface SessionTransmit {
  readonly path: SessionPath;
  /** The client's datagram (STUN, DTLS, SRTP or SRTCP), without the relay header. */
  readonly data: Buffer;
}

export type SessionEvent =
  | { readonly type: 'state'; readonly state: CallState }
  /** The client address to route DTLS/SRTP by changed (first nomination or NAT rebinding). */
  | { readonly type: 'path'; readonly path: SessionPath; readonly previous: SessionPath | undefined }
  | { readonly type: 'closed'; readonly reason: CloseReason };

export interface SessionOptions {
  readonly id: string;
  readonly now: number;
  readonly rng: Rng;
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly remoteUfrag: string;
  readonly remotePwd: string;
  readonly dtlsRole: 'client' | 'server';
  readonly certificate: DtlsCertificate;
  /** SHA-256 fingerprint of the client's certificate, from the offer. */
  readonly remoteFingerprint: string;
  readonly ssrc: number;
  readonly cname: string;
  readonly opusPayloadType: number;
  readonly handlerFactory: MediaHandlerFactory;
  readonly onHandlerError?: HandlerErrorListener;
  /** Called when the handler queued audio or hung up outside handle()/handleTimeout(): drive me. */
  readonly onWake?: () => void;
  /** Told of every datagram the session drops (for a process-wide metric), e.g. 'srtp_replayed'. */
  readonly onDrop?: (reason: string) => void;
  /** Told of every STUN packet's ICE result and every DTLS record dropped (process-wide metrics). */
  readonly onIceCheck?: (result: IceLiteCounter) => void;
  readonly onDtlsDrop?: (reason: DtlsDropReason) => void;
  /** Session clock + offset = Unix ms (RTCP NTP timestamps). */
  readonly wallClockOffsetMs?: number;
  /** ICE + DTLS must complete within this (default 10 s). */
  readonly setupTimeoutMs?: number;
  /** RFC 7675 §5.1 (default 30 s). */
  readonly consentTimeoutMs?: number;
  readonly maxDurationMs?: number;
  readonly rtcpIntervalMs?: number;
  /** SrtpSessionOptions.createTransform (--srtp native); default the TypeScript transforms. */
  readonly srtpTransform?: SrtpTransformFactory;
}

export const DEFAULT_SETUP_TIMEOUT_MS = 10_000;
/** How early a frame queued by the handler may leave before its 20 ms slot (see #applyHandler). */
const EARLY_SEND_MS = 5;
type Drop = SessionDropKind;

export class Session {
  readonly id: string;
  readonly createdAt: number;
  readonly #ice: IceLiteAgent;
  readonly #opts: SessionOptions;
  readonly #out: OutboundAudio;
  readonly #rtcp: RtcpReporter;
  readonly #handler: ReturnType<typeof containHandler>;
  readonly #pull: (() => Buffer | undefined) | undefined;
  readonly #transmits: SessionTransmit[] = [];
  readonly #events: SessionEvent[] = [];
  readonly #paths = new ClientPaths();
  readonly #setupDeadline: number;
  readonly #maxDeadline: number | undefined;
  #dtls: DtlsEndpoint | undefined;
  #srtp: SrtpSession | undefined;
  #selected: SessionPath | undefined;
  #state: CallState = 'created';
  #closeReason: CloseReason | undefined;
  #connectedAt: number | undefined;
  #closedAt: number | undefined;
  #driving = false;
  #woken = false;
  #pendingFrames: Buffer[] = [];
  #pendingHangup = false;
  #packetsReceived = 0;
  #bytesReceived = 0;
  #bytesSent = 0;
  readonly #drops: Record<Drop, number> = { not_ready: 0, srtp: 0, malformed: 0, unknown_payload: 0, unknown_kind: 0 };

  constructor(o: SessionOptions) {
    this.id = o.id;
    this.#opts = o;
    this.createdAt = o.now;
    this.#ice = new IceLiteAgent({ localUfrag: o.localUfrag, localPwd: o.localPwd, remoteUfrag: o.remoteUfrag, remotePwd: o.remotePwd, consentTimeoutMs: o.consentTimeoutMs, onCheck: o.onIceCheck });
    this.#out = new OutboundAudio({ ssrc: o.ssrc, payloadType: o.opusPayloadType, rng: o.rng });
    this.#rtcp = new RtcpReporter({ ssrc: o.ssrc, cname: o.cname, rng: o.rng, intervalMs: o.rtcpIntervalMs, wallClockOffsetMs: o.wallClockOffsetMs ?? 0 });
    this.#setupDeadline = o.now + (o.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS);
    this.#maxDeadline = o.maxDurationMs === undefined ? undefined : o.now + o.maxDurationMs;
    this.#handler = containHandler(o.handlerFactory, {
      callId: o.id,
      // Frames and hang-ups are applied at the next drive with a fresh `now` (see #wake).
      send: (packet: Buffer) => {
        if (this.#state === 'closed') return;
        this.#pendingFrames.push(packet);
        this.#wake();
      },
      hangup: () => {
        this.#pendingHangup = true;
        this.#wake();
      },
    }, o.onHandlerError ?? (() => {}));
    this.#pull = canPull(this.#handler) ? () => this.#handler.pull() : undefined;
  }

  get state(): CallState {
    return this.#state;
  }
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }
  get connectedAt(): number | undefined {
    return this.#connectedAt;
  }
  get closedAt(): number | undefined {
    return this.#closedAt;
  }
  /** The path media currently goes to (the nominated client address), if any. */
  get selectedPath(): SessionPath | undefined {
    return this.#selected;
  }
  get localUfrag(): string {
    return this.#opts.localUfrag;
  }

  /** One datagram from the client (relay header removed). Never throws. */
  handle(datagram: Buffer, path: SessionPath, now: number): void {
    if (this.#state === 'closed' || datagram.length === 0) return;
    // #drive's steps written out: this runs for every datagram, and a closure per packet is garbage.
    this.#driving = true;
    this.#woken = false;
    try {
      const kind = classify(datagram[0]);
      if (kind === 'stun') this.#onStun(datagram, path, now);
      else if (kind === 'dtls') this.#onDtls(datagram, now);
      else if (kind === 'rtp') this.#onSrtp(datagram, path, now);
      else this.#drop('unknown_kind');
      this.#applyHandler(now);
    } finally {
      this.#driving = false;
    }
  }

  /** Call when `now` ≥ pollTimeout(), or after onWake. Idempotent. */
  handleTimeout(now: number): void {
    if (this.#state === 'closed') return;
    this.#drive(now, () => {
      if (now >= this.#setupDeadline && this.#state !== 'connected') return this.close('setup-timeout', now);
      if (this.#maxDeadline !== undefined && now >= this.#maxDeadline) return this.close('max-duration', now);
      this.#ice.handleTimeout(now);
      this.#drainIce(now);
      const dtlsDue = this.#dtls?.pollTimeout();
      if (this.#dtls && dtlsDue !== undefined && now >= dtlsDue) {
        this.#dtls.handleTimeout(now);
        this.#drainDtls(now);
      }
      this.#sendDue(now);
    });
  }

  pollTransmit(): SessionTransmit | undefined {
    return this.#transmits.shift();
  }

  pollEvent(): SessionEvent | undefined {
    return this.#events.shift();
  }

  /** The earliest deadline (same clock as `now`), or undefined when closed. */
  pollTimeout(): number | undefined {
    if (this.#state === 'closed') return undefined;
    // Asked after every datagram: no array, no closure.
    let t = this.#state === 'connected' ? Infinity : this.#setupDeadline;
    let d = this.#maxDeadline;
    if (d !== undefined && d < t) t = d;
    d = this.#ice.pollTimeout();
    if (d !== undefined && d < t) t = d;
    d = this.#dtls?.pollTimeout();
    if (d !== undefined && d < t) t = d;
    d = this.#out.due();
    if (d !== undefined && d < t) t = d;
    d = this.#rtcp.due();
    if (d !== undefined && d < t) t = d;
    return t === Infinity ? undefined : t;
  }

  /** Ends the call (idempotent): RTCP BYE and DTLS close_notify go out, the handler is closed. */
  close(reason: CloseReason, now: number): void {
    if (this.#state === 'closed') return;
    if (this.#srtp && this.#selected) {
      this.#sendRtcp(this.#rtcp.bye(now, this.#out, reason), this.#selected);
    }
    this.#rtcp.stop();
    if (this.#dtls) {
      // RFC 5246 §7.2.1 close_notify tells the browser at once instead of after its consent timeout.
      this.#dtls.close(now);
      if (this.#selected) for (let d = this.#dtls.pollTransmit(); d; d = this.#dtls.pollTransmit()) this.#transmits.push({ path: this.#selected, data: d });
    }
    this.#ice.close();
    this.#closeReason = reason;
    this.#closedAt = now;
    this.#setState('closed');
    this.#events.push({ type: 'closed', reason });
    this.#pendingFrames = [];
    this.#handler.close();
  }

  stats(): SessionStats {
    const recv = this.#rtcp.recv.snapshot();
    return {
      packetsReceived: this.#packetsReceived,
      bytesReceived: this.#bytesReceived,
      packetsSent: this.#out.packetsSent,
      bytesSent: this.#bytesSent,
      packetsLost: Math.max(0, recv.lost),
      jitterMs: Math.round(recv.jitterMs * 100) / 100,
      rttMs: this.#rtcp.rttMs === undefined ? undefined : Math.round(this.#rtcp.rttMs * 100) / 100,
      remoteFractionLost: this.#rtcp.remoteFractionLost,
      rtcpSent: this.#rtcp.sent,
      rtcpReceived: this.#rtcp.received,
      framesDropped: this.#out.dropped,
      packetsDropped: Object.values(this.#drops).reduce((a, b) => a + b, 0),
    };
  }

  /** State for tests and operations (mediasoup-style dump()). No secrets. */
  dump(): object {
    return {
      id: this.id, state: this.#state, closeReason: this.#closeReason,
      selected: this.#selected && formatAddress(this.#selected.client),
      dtls: this.#dtls?.state, srtpProfile: this.#srtp?.profile, drops: { ...this.#drops },
      ice: this.#ice.dump(), stats: this.stats(),
    };
  }

  /** Counts a dropped datagram; SRTP drops carry their reason (RFC 3711 auth, replay…) to the metric. */
  #drop(kind: Drop, detail?: string): void {
    this.#drops[kind]++;
    this.#opts.onDrop?.(detail === undefined ? kind : `${kind}_${detail}`);
  }

  #wake(): void {
    if (this.#driving || this.#woken) return;
    this.#woken = true;
    this.#opts.onWake?.();
  }

  /** Runs one input with re-entrancy guarded, then applies what the handler asked for. */
  #drive(now: number, fn: () => void): void {
    this.#driving = true;
    this.#woken = false;
    try {
      fn();
      this.#applyHandler(now);
    } finally {
      this.#driving = false;
    }
  }

  /** Applies what the handler asked for during an input: a hang-up, or frames to pace out. */
  #applyHandler(now: number): void {
    if (this.#state === 'closed') return;
    if (this.#pendingHangup) return this.close('agent-hangup', now);
    if (this.#pendingFrames.length > 0) {
      for (const f of this.#pendingFrames) this.#out.enqueue(f, now);
      this.#pendingFrames.length = 0;
      // A frame that arrives within EARLY_SEND_MS of its slot goes out now, from the receive path,
      // instead of waking the timer for it: an echo's input arrives with a few ms of jitter
      // around the 20 ms slots, and without this about half its frames each cost a timer wake-up.
      this.#sendDue(now, EARLY_SEND_MS);
    }
  }

  #onStun(datagram: Buffer, path: SessionPath, now: number): void {
    this.#paths.remember(path);
    const answered = this.#ice.stats.answered;
    this.#ice.handle(datagram, path.client, now);
    if (this.#ice.stats.answered > answered) this.#followRelay(path);
    this.#drainIce(now);
  }

  /** After an authenticated packet: answer through the relay the client last used (ClientPaths.follow). */
  #followRelay(path: SessionPath): void {
    const previous = this.#selected;
    const next = this.#paths.follow(previous, path);
    if (!next) return;
    this.#selected = next;
    this.#events.push({ type: 'path', path: next, previous });
  }

  #drainIce(now: number): void {
    for (let t = this.#ice.pollTransmit(); t; t = this.#ice.pollTransmit()) {
      const p = this.#paths.get(t.to);
      if (p) this.#transmits.push({ path: p, data: t.data });
    }
    for (let e = this.#ice.pollEvent(); e; e = this.#ice.pollEvent()) {
      if (e.type === 'consent-lost') return this.close('consent-lost', now);
      const to = e.type === 'selected' ? e.address : e.to;
      const path = this.#paths.get(to);
      if (!path) continue;
      const previous = this.#selected;
      this.#selected = path;
      this.#events.push({ type: 'path', path, previous });
      if (e.type === 'selected') this.#startDtls(now);
    }
  }

  /** RFC 5763 §5: DTLS runs over the nominated pair; the active side (client) speaks first. */
  #startDtls(now: number): void {
    if (this.#dtls) return;
    if (this.#state === 'created') this.#setState('connecting');
    try {
      this.#dtls = new DtlsEndpoint({
        role: this.#opts.dtlsRole, certificate: this.#opts.certificate, remoteFingerprint: this.#opts.remoteFingerprint, rng: this.#opts.rng,
        onDrop: this.#opts.onDtlsDrop,
      });
    } catch {
      return this.close('dtls-failed', now);
    }
    this.#dtls.start(now);
    this.#drainDtls(now);
  }

  #onDtls(datagram: Buffer, now: number): void {
    if (!this.#dtls) {
      this.#drop('not_ready');
      return;
    }
    this.#dtls.handle(datagram, now);
    this.#drainDtls(now);
  }

  #drainDtls(now: number): void {
    const dtls = this.#dtls;
    if (!dtls) return;
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) {
      if (this.#selected) this.#transmits.push({ path: this.#selected, data: d });
    }
    for (let e = dtls.pollEvent(); e; e = dtls.pollEvent()) {
      if (e.type === 'connected') {
        // RFC 5764 §4.2: SRTP keys come from the DTLS exporter; the DTLS role picks which half is ours.
        this.#srtp = SrtpSession.fromDtls(e.srtpProfile, e.keyingMaterial, this.#opts.dtlsRole, {
          createTransform: this.#opts.srtpTransform,
        });
        this.#connectedAt = now;
        this.#setState('connected');
        this.#rtcp.start(now);
        if (this.#pull) this.#out.keepTicking(now);
      } else if (e.type === 'failed') {
        return this.close('dtls-failed', now);
      } else if (e.type === 'closed') {
        return this.close('dtls-closed', now);
      }
      // 'data': no data channel is negotiated (the answer declines m=application), so ignore it.
    }
  }

  #onSrtp(datagram: Buffer, path: SessionPath, now: number): void {
    const srtp = this.#srtp;
    if (!srtp) {
      this.#drop('not_ready');
      return;
    }
    if (isRtcp(datagram)) {
      const clear = srtp.unprotectRtcp(datagram);
      if (clear instanceof SrtpError) return this.#drop('srtp', clear.reason);
      this.#followRelay(path);
      const packets = parseRtcpCompound(clear);
      if (!Array.isArray(packets)) return this.#drop('malformed');
      this.#rtcp.onRtcp(packets, now);
      return;
    }
    const clear = srtp.unprotectRtp(datagram);
    if (clear instanceof SrtpError) return this.#drop('srtp', clear.reason);
    this.#followRelay(path);
    const rtp = parseRtp(clear);
    if (!('header' in rtp)) return this.#drop('malformed');
    this.#packetsReceived++;
    this.#bytesReceived += datagram.length;
    const h = rtp.header;
    // Only Opus goes to the handler; telephone-event (RFC 4733) and anything else is counted.
    if (h.payloadType !== this.#opts.opusPayloadType) return this.#drop('unknown_payload');
    this.#rtcp.onRtp(h.ssrc, h.sequenceNumber, h.timestamp, now);
    this.#handler.onAudio({ payload: rtp.payload, rtpTimestamp: h.timestamp, sequence: h.sequenceNumber, receivedAt: now });
  }

  /** Sends every paced frame and RTCP report that is due. */
  #sendDue(now: number, earlyMs = 0): void {
    const srtp = this.#srtp;
    const path = this.#selected;
    if (!srtp || !path || this.#state !== 'connected') return;
    for (let due = this.#out.due(); due !== undefined && due <= now + earlyMs; due = this.#out.due()) {
      const rtp = this.#out.tick(now, this.#pull, earlyMs);
      if (!rtp) continue;
      const data = srtp.protectRtp(rtp);
      this.#bytesSent += data.length;
      this.#transmits.push({ path, data });
    }
    const rtcpDue = this.#rtcp.due();
    if (rtcpDue !== undefined && rtcpDue <= now) this.#sendRtcp(this.#rtcp.report(now, this.#out), path);
  }

  #sendRtcp(clear: Buffer, path: SessionPath): void {
    if (!this.#srtp) return;
    this.#transmits.push({ path, data: this.#srtp.protectRtcp(clear) });
  }

  #setState(state: CallState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.push({ type: 'state', state });
  }
}
