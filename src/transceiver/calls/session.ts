// One call on the transceiver, sans-IO (STYLE.md rules 1-2): the audio peer (src/core/peer, in
// the ICE-lite role) + the media handler + the client's paths through relays (calls/session-paths.ts)
// + the call's deadlines (setup, max duration; consent is the peer's ICE). Driven like every
// core object: handle(datagram, path, now) / handleTimeout(now) in, pollTransmit / pollEvent /
// pollTimeout out. The endpoint (media/endpoint.ts) owns the socket and the one timer; this object
// never reads a clock. Life: created → connecting (ICE selected, DTLS running) → connected
// (SRTP keys) → closed, with a CloseReason.
// Datagrams arrive without the relay header; `path` says which client address and relay they
// came through, and every transmit says where to send (the relay the client last used).
// Past 400 lines because the call's deadlines, handler hand-offs (audio, channels, events, DTMF,
// marks) and path following act on one state in one handle/poll cycle; the peer itself is core/peer.
import type { DtlsCertificate, DtlsDropReason } from '../../core/dtls/index.ts';
import type { IceLiteCounter } from '../../core/ice/index.ts';
import type { SansIo } from '../../core/output.ts';
import { AudioPeer } from '../../core/peer/index.ts';
import type { PeerDataOptions, PeerDataStats, PeerDropReason, PeerFailure, PeerTransmit } from '../../core/peer/index.ts';
import { DataChannelCode, DataChannelError } from '../../core/datachannel/index.ts';
import { DEFAULT_REMOTE_MAX_MESSAGE_SIZE } from '../../core/peer/index.ts';
import type { Rng } from '../../core/rng.ts';
import type { SrtpTransformFactory } from '../../core/srtp/index.ts';
import type { DtlsCrypto } from '../../core/dtls/index.ts';
import type { StunIntegrity } from '../../core/stun/index.ts';
import type { DtmfOptions, MediaHandlerFactory } from '../handlers/media-handler.ts';
import { HandlerError, HandlerErrorCode } from '../handlers/errors.ts';
import { DTMF_DIGITS } from '../../core/rtp/index.ts';
import { DTMF_MAX_DURATION_MS, DTMF_MAX_QUEUED, DTMF_MIN_DURATION_MS } from '../../core/peer/index.ts';
import { containHandler } from '../handlers/contain.ts';
import type { HandlerErrorListener } from '../handlers/contain.ts';
import { canPull } from '../handlers/pull.ts';
import type { AgentCloseReason, CallState, CloseReason, DataChannelStats, SessionStats } from './call-types.ts';
import { AGENT_CLOSE_REASONS } from './call-types.ts';
import { CallChannels } from './call-channels.ts';
import { OaiEvents } from './oai-events.ts';
import type { SidebandHandle, SidebandSink } from './oai-events.ts';
import type { OaiEventDrop } from './oai-events.ts';
import type { CallRequest } from '../handlers/media-handler.ts';
import type { CallChannelDrop } from './call-channels.ts';
import { ClientPaths } from './session-paths.ts';
import { closeDetail } from './close-detail.ts';
import type { SessionPath } from './session-paths.ts';

export type { SessionPath } from './session-paths.ts';

/** The client's datagram (STUN, DTLS, SRTP or SRTCP), without the relay header, and where it goes. */
export type SessionTransmit = PeerTransmit<SessionPath>;

export type SessionEvent =
  | { readonly type: 'state'; readonly state: CallState }
  /** The client address to route DTLS/SRTP by changed (first nomination or NAT rebinding). */
  | { readonly type: 'path'; readonly path: SessionPath; readonly previous: SessionPath | undefined }
  /** The client address of `path` proved it receives (AudioPeer's 'confirmed'): it is this call's for good. */
  | { readonly type: 'confirmed'; readonly path: SessionPath }
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
  /** RFC 4733 telephone-event's payload type when the offer had it: key presses reach handler.onDtmf. */
  readonly telephoneEventPayloadType?: number;
  readonly handlerFactory: MediaHandlerFactory;
  /** What the client asked (query, session config): ctx.request. */
  readonly request?: CallRequest;
  /** Told of every oai-events drop (a process-wide metric). */
  readonly onEventDrop?: (reason: OaiEventDrop) => void;
  readonly onHandlerError?: HandlerErrorListener;
  /** Called when the handler queued audio or hung up outside handle()/handleTimeout(): drive me. */
  readonly onWake?: () => void;
  /** Told of every datagram the session drops (for a process-wide metric), e.g. 'srtp_replayed'. */
  readonly onDrop?: (reason: PeerDropReason) => void;
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
  /** The DTLS crypto handed to every peer (the native addon's); each part defaults to node:crypto's. */
  readonly dtlsCrypto?: DtlsCrypto;
  /** The HMAC-SHA1 of the ICE checks' MESSAGE-INTEGRITY (the native addon's); default node:crypto's. */
  readonly stunIntegrity?: StunIntegrity;
  /** Data channels, when the answer took the offer's data section (port and size from SDP, limits). */
  readonly dataChannels?: PeerDataOptions;
  /** Told of every data-channel refusal of the call's own (a process-wide metric). */
  readonly onChannelDrop?: (reason: CallChannelDrop) => void;
}

/** The call's send buffer for data channels unless dataChannels.sctp says otherwise. */
export const DEFAULT_CALL_SEND_BUFFER_BYTES = 1024 * 1024;

export const DEFAULT_SETUP_TIMEOUT_MS = 10_000;

/** How the peer's own failures end a call. A lite agent never fails ICE (it only answers checks); were it to, the call did not set up. */
const CLOSE_ON_FAILURE: Record<PeerFailure, CloseReason> = {
  consent_lost: 'consent_lost',
  dtls_failed: 'dtls_failed',
  dtls_closed: 'dtls_closed',
  ice_failed: 'setup_timeout',
};

export class Session implements SansIo<SessionTransmit, SessionEvent> {
  readonly id: string;
  readonly createdAt: number;
  readonly #opts: SessionOptions;
  readonly #peer: AudioPeer<SessionPath>;
  readonly #handler: ReturnType<typeof containHandler>;
  readonly #channels: CallChannels | undefined;
  readonly #oaiEvents: OaiEvents;
  readonly #events: SessionEvent[] = [];
  /** The clock of the current (or last) drive, for what runs inside it without a `now` (oai-events' rate). */
  #now: number;
  readonly #setupDeadline: number;
  readonly #maxDeadline: number | undefined;
  #state: CallState = 'created';
  #closeReason: CloseReason | undefined;
  #connectedAt: number | undefined;
  #closedAt: number | undefined;
  #driving = false;
  #woken = false;
  #pendingFrames: Buffer[] = [];
  #pendingHangup: { readonly reason: AgentCloseReason; readonly detail: string | undefined } | undefined;
  #closeDetail: string | undefined;
  /** Key presses the handler asked for, queued on the peer at the next drive (with its `now`). */
  #pendingDtmf: { readonly digits: string; readonly durationMs: number | undefined }[] = [];
  /** The handler's marks in queue order: each is done once the queue has given up `target` frames. */
  #marks: { readonly target: number; readonly done: (played: boolean) => void }[] = [];

  constructor(o: SessionOptions) {
    this.id = o.id;
    this.#opts = o;
    // A synchronous factory may send or mark at once: that is applied at the first drive, and
    // must not wake the owner, who is still constructing this session.
    this.#driving = true;
    this.createdAt = o.now;
    this.#now = o.now;
    const oaiEvents = new OaiEvents({
      callId: o.id,
      request: o.request,
      dataChannels: o.dataChannels !== undefined,
      rng: o.rng,
      now: () => this.#now,
      deliver: (event) => this.#handler.onEvent(event),
      onDrop: o.onEventDrop,
    });
    this.#oaiEvents = oaiEvents;
    this.#setupDeadline = o.now + (o.setupTimeoutMs ?? DEFAULT_SETUP_TIMEOUT_MS);
    this.#maxDeadline = o.maxDurationMs === undefined ? undefined : o.now + o.maxDurationMs;
    // The context's getters are read by the handler later, with `this` being the context.
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const self = this;
    // The peer and the call's channels exist before the factory runs, so a factory may open a
    // channel at once; both reach the handler only through this.#handler, after it is set.
    this.#peer = new AudioPeer<SessionPath>({
      rng: o.rng,
      paths: new ClientPaths(),
      ice: {
        role: 'lite',
        localUfrag: o.localUfrag,
        localPwd: o.localPwd,
        remoteUfrag: o.remoteUfrag,
        remotePwd: o.remotePwd,
        consentTimeoutMs: o.consentTimeoutMs,
        integrity: o.stunIntegrity,
      },
      dtlsRole: o.dtlsRole,
      certificate: o.certificate,
      remoteFingerprint: o.remoteFingerprint,
      srtpTransform: o.srtpTransform,
      dtlsCrypto: o.dtlsCrypto,
      ssrc: o.ssrc,
      cname: o.cname,
      payloadType: o.opusPayloadType,
      telephoneEventPayloadType: o.telephoneEventPayloadType,
      // A handler that pulls is asked for a frame in every 20 ms slot its queue leaves empty.
      // `done` is read when the call connects, after an async factory settled (the answer waits for it).
      source: {
        pull: () => this.#handler.pull(),
        get done(): boolean {
          return !canPull(self.#handler);
        },
      },
      rtcpIntervalMs: o.rtcpIntervalMs,
      wallClockOffsetMs: o.wallClockOffsetMs,
      onDrop: o.onDrop,
      onIceCheck: o.onIceCheck,
      onDtlsDrop: o.onDtlsDrop,
      dataChannels: o.dataChannels,
    });
    const data = this.#peer.data;
    if (data && o.dataChannels) {
      this.#channels = new CallChannels({
        data,
        maxSendMessageSize: o.dataChannels.remoteMaxMessageSize ?? DEFAULT_REMOTE_MAX_MESSAGE_SIZE,
        maxBufferedBytes: o.dataChannels.sctp?.maxSendBufferBytes ?? DEFAULT_CALL_SEND_BUFFER_BYTES,
        onChannel: (ch) => {
          if (!oaiEvents.claim(ch)) this.#handler.onChannel(ch);
        },
        onError: o.onHandlerError ?? (() => {}),
        wake: () => this.#wake(),
        onDrop: o.onChannelDrop,
      });
    }
    this.#handler = containHandler(
      o.handlerFactory,
      {
        callId: o.id,
        request: oaiEvents.request,
        sendEvent: (event) => {
          const queued = oaiEvents.send(event);
          if (queued) this.#wake();
          return queued;
        },
        // Frames and hang-ups are applied at the next drive with a fresh `now` (see #wake).
        send: (packet: Buffer) => {
          if (this.#state === 'closed') return;
          this.#pendingFrames.push(packet);
          this.#wake();
        },
        hangup: (reason?: AgentCloseReason, detail?: string) => {
          this.#pendingHangup ??= {
            reason: reason !== undefined && AGENT_CLOSE_REASONS.includes(reason) ? reason : 'agent_hangup',
            detail: closeDetail(detail),
          };
          this.#wake();
        },
        get queuedFrames(): number {
          return self.#pendingFrames.length + self.#peer.audioQueued;
        },
        get framesSent(): number {
          return self.#peer.audioSent;
        },
        clearAudio: () => this.#clearAudio(),
        sendDtmf: (digits: string, options?: DtmfOptions) => this.#sendDtmf(digits, options),
        mark: (done: (played: boolean) => void) => {
          if (this.#state === 'closed') return this.#settle(done, false);
          const peer = this.#peer;
          this.#marks.push({ target: peer.audioTaken + peer.audioQueued + this.#pendingFrames.length, done });
          this.#wake();
        },
        dataChannels: o.dataChannels !== undefined,
        openChannel: (init) => {
          if (this.#channels === undefined)
            throw new DataChannelError(DataChannelCode.invalidChannel, 'this call has no data channels (the offer had none)');
          return this.#channels.open(init);
        },
      },
      o.onHandlerError ?? (() => {}),
    );
    this.#driving = false;
  }

  /** A server's sideband on the call's event stream (calls/oai-events.ts); undefined when closed or full. */
  attachSideband(sink: SidebandSink): SidebandHandle | undefined {
    return this.#state === 'closed' ? undefined : this.#oaiEvents.attachSideband(sink);
  }

  get state(): CallState {
    return this.#state;
  }
  get closeReason(): CloseReason | undefined {
    return this.#closeReason;
  }
  /** The agent's words with its hang-up (calls/close-detail.ts), if it gave any. */
  get closeDetail(): string | undefined {
    return this.#closeDetail;
  }
  get connectedAt(): number | undefined {
    return this.#connectedAt;
  }
  get closedAt(): number | undefined {
    return this.#closedAt;
  }
  /** The path media currently goes to (the nominated client address), if any. */
  get selectedPath(): SessionPath | undefined {
    return this.#peer.selectedPath;
  }
  get localUfrag(): string {
    return this.#opts.localUfrag;
  }
  /** Settles when the handler's factory did; rejects when an async factory failed. */
  get handlerReady(): Promise<void> {
    return this.#handler.ready;
  }
  /** The handler's factory is async (it dials an agent): handlerReady is worth waiting for. A sync one's is resolved already. */
  get handlerAsync(): boolean {
    return this.#handler.async;
  }

  /** One datagram from the client (relay header removed). Never throws. */
  handle(datagram: Buffer, path: SessionPath, now: number): void {
    if (this.#state === 'closed' || datagram.length === 0) return;
    // #drive's steps written out: this runs for every datagram, and a closure per packet is garbage.
    this.#driving = true;
    this.#woken = false;
    this.#now = now;
    try {
      this.#peer.handle(datagram, path, now);
      this.#takePeerEvents(now);
      this.#applyHandler(now);
    } finally {
      this.#driving = false;
    }
  }

  /**
   * Idle work once the answer is out and before the first check (issue #18): the peer builds what
   * it will send first (AudioPeer.prepare); nothing is sent. Idempotent.
   */
  prepare(now: number): void {
    if (this.#state === 'closed') return;
    this.#driving = true;
    this.#now = now;
    try {
      this.#peer.prepare(now);
      this.#takePeerEvents(now);
    } finally {
      this.#driving = false;
    }
  }

  /** Whether prepare() has idle work again (AudioPeer.preparable): the media endpoint runs it after the turn. */
  get preparable(): boolean {
    return this.#state !== 'closed' && this.#peer.preparable;
  }

  /** Call when `now` ≥ pollTimeout(), or after onWake. Idempotent. */
  handleTimeout(now: number): void {
    if (this.#state === 'closed') return;
    this.#driving = true;
    this.#woken = false;
    this.#now = now;
    try {
      if (now >= this.#setupDeadline && this.#state !== 'connected') return this.close('setup_timeout', now);
      if (this.#maxDeadline !== undefined && now >= this.#maxDeadline) return this.close('max_duration', now);
      this.#peer.handleTimeout(now);
      this.#takePeerEvents(now);
      this.#applyHandler(now);
    } finally {
      this.#driving = false;
    }
  }

  pollTransmit(): SessionTransmit | undefined {
    return this.#peer.pollTransmit();
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
    d = this.#peer.pollTimeout();
    if (d !== undefined && d < t) t = d;
    return t === Infinity ? undefined : t;
  }

  /** Ends the call (idempotent): RTCP BYE and DTLS close_notify go out, the handler is closed. */
  close(reason: CloseReason, now: number): void {
    if (this.#state === 'closed') return;
    this.#peer.close(now, reason);
    this.#closeReason = reason;
    this.#closedAt = now;
    this.#setState('closed');
    this.#events.push({ type: 'closed', reason });
    this.#pendingFrames = [];
    this.#channels?.end();
    this.#oaiEvents.end();
    for (const m of this.#marks.splice(0)) this.#settle(m.done, false);
    this.#handler.close();
  }

  stats(): SessionStats {
    const p = this.#peer.stats();
    const d = p.drops;
    return {
      packetsReceived: p.packetsReceived,
      bytesReceived: p.bytesReceived,
      packetsSent: p.packetsSent,
      bytesSent: p.bytesSent,
      packetsLost: Math.max(0, p.audio.lost),
      jitterMs: Math.round(p.audio.jitterMs * 100) / 100,
      rttMs: p.rttMs === undefined ? undefined : Math.round(p.rttMs * 100) / 100,
      remoteFractionLost: p.remoteFractionLost,
      rtcpSent: p.rtcpSent,
      rtcpReceived: p.rtcpReceived,
      framesDropped: p.framesDropped,
      packetsDropped: d.not_ready + d.srtp + d.malformed + d.unknown_payload + d.unknown_kind,
      dataChannels: dataChannelStats(p.data, this.#channels),
      oaiEvents: this.#channels && this.#oaiEvents.stats,
      handler: this.#handler.readStats(),
    };
  }

  /** State for tests and operations (mediasoup-style dump()). No secrets. */
  dump(): object {
    const { selected, dtls, srtpProfile, drops, ice } = this.#peer.dump();
    return {
      id: this.id,
      state: this.#state,
      closeReason: this.#closeReason,
      closeDetail: this.#closeDetail,
      selected,
      dtls,
      srtpProfile,
      drops,
      ice,
      stats: this.stats(),
    };
  }

  #wake(): void {
    if (this.#driving || this.#woken) return;
    this.#woken = true;
    this.#opts.onWake?.();
  }

  /** What the peer reported during an input: audio for the handler, a new path, keys, a failure (RTCP shows in stats()). */
  #takePeerEvents(now: number): void {
    const peer = this.#peer;
    for (let e = peer.pollEvent(); e; e = peer.pollEvent()) {
      if (e.type === 'audio') {
        // The event has the InboundOpusFrame fields: handed over as is, one object per packet.
        this.#handler.onAudio(e);
      } else if (e.type === 'dtmf') {
        this.#handler.onDtmf(e);
      } else if (e.type === 'path') {
        this.#events.push(e);
        if (this.#state === 'created') this.#setState('connecting');
      } else if (e.type === 'confirmed') {
        this.#events.push(e);
      } else if (e.type === 'connected') {
        this.#connectedAt = now;
        this.#setState('connected');
      } else if (e.type === 'datachannel') {
        this.#channels?.onEvent(e.event);
      } else if (e.type === 'failed') {
        return this.close(CLOSE_ON_FAILURE[e.reason], now);
      }
    }
  }

  /** Applies what the handler asked for during an input: a hang-up, or frames to pace out. */
  #applyHandler(now: number): void {
    if (this.#state === 'closed') return;
    if (this.#pendingHangup !== undefined) {
      this.#closeDetail = this.#pendingHangup.detail;
      return this.close(this.#pendingHangup.reason, now);
    }
    if (this.#pendingFrames.length > 0) {
      this.#peer.queueAudio(this.#pendingFrames, now);
      this.#pendingFrames.length = 0;
    }
    for (const d of this.#pendingDtmf.splice(0)) this.#peer.queueDtmf(d.digits, now, d.durationMs);
    if (this.#marks.length > 0) this.#settleMarks();
    // Data after audio (src/core/peer/peer-data.ts).
    this.#channels?.apply(now);
  }

  /** ctx.sendDtmf: checked now, queued on the peer at the next drive (RFC 4733 packets need `now`). */
  #sendDtmf(digits: string, options: DtmfOptions | undefined): boolean {
    const durationMs = options?.durationMs;
    if (typeof digits !== 'string' || [...digits.toUpperCase()].some((d) => !DTMF_DIGITS.includes(d)))
      throw new HandlerError(HandlerErrorCode.BadOption, `sendDtmf takes the keys ${DTMF_DIGITS}, got ${JSON.stringify(digits)}`);
    if (durationMs !== undefined && !(durationMs >= DTMF_MIN_DURATION_MS && durationMs <= DTMF_MAX_DURATION_MS))
      throw new HandlerError(
        HandlerErrorCode.BadOption,
        `sendDtmf durationMs must be in ${DTMF_MIN_DURATION_MS}..${DTMF_MAX_DURATION_MS}, got ${durationMs}`,
      );
    if (this.#state === 'closed' || this.#opts.telephoneEventPayloadType === undefined) return false;
    const waiting = this.#peer.dtmfQueued + this.#pendingDtmf.reduce((n, d) => n + d.digits.length, 0);
    if (waiting + digits.length > DTMF_MAX_QUEUED) return false;
    this.#pendingDtmf.push({ digits, durationMs });
    this.#wake();
    return true;
  }

  /** Barge-in: what the handler queued goes, and so do its marks (played = false). */
  #clearAudio(): number {
    if (this.#state === 'closed') return 0;
    const dropped = this.#pendingFrames.length + this.#peer.clearAudio();
    this.#pendingFrames.length = 0;
    for (const m of this.#marks.splice(0)) this.#settle(m.done, false);
    return dropped;
  }

  /** Marks whose frames have all left the queue (sent; a cleared queue settled its marks already). */
  #settleMarks(): void {
    const taken = this.#peer.audioTaken;
    let n = 0;
    while (n < this.#marks.length && this.#marks[n].target <= taken) n++;
    // Runs on every drive while a mark waits (every packet of a call that is speaking): no splice, no array, until one is due.
    if (n === 0) return;
    for (const m of this.#marks.splice(0, n)) this.#settle(m.done, true);
  }

  #settle(done: (played: boolean) => void, played: boolean): void {
    try {
      done(played);
    } catch (err) {
      this.#opts.onHandlerError?.('mark', err);
    }
  }

  #setState(state: CallState): void {
    if (this.#state === state) return;
    this.#state = state;
    this.#events.push({ type: 'state', state });
  }
}

/** What GET and /metrics show of a call's data channels. */
function dataChannelStats(d: PeerDataStats | undefined, channels: CallChannels | undefined): DataChannelStats | undefined {
  if (d === undefined || channels === undefined) return undefined;
  const sctpDrops = Object.values(d.sctpDrops).reduce((a, b) => a + b, 0) + Object.values(d.channelDrops).reduce((a, b) => a + b, 0);
  return {
    sctpState: d.state,
    channels: channels.channelCount,
    channelsOpened: d.channelsOpened,
    channelsClosed: d.channelsClosed,
    messagesIn: d.messagesIn,
    messagesOut: d.messagesOut,
    bytesIn: d.bytesIn,
    bytesOut: d.bytesOut,
    sctpRetransmits: d.sctp.retransmits,
    sctpDrops,
    sendBufferFull: channels.drops.send_buffer_full,
    tooManyChannels: channels.drops.too_many_channels,
  };
}
