// The call registry: turns an SDP offer into a running call (offer analysis → routing token →
// answer → Session on the media endpoint), enforces the session limit and drain, and serves the
// signaling API's questions (CallService). A closed call is kept for a while so GET can still
// say how it ended. Not here: HTTP (http/signaling.ts), packets (media/endpoint.ts, calls/session.ts).
// Just past 400 lines: admission, the answer and the session's construction share the offer's
// state for one createCall, and GET/DELETE read the same records.
import type { TransportAddress } from '../../core/address.ts';
import { formatAddress } from '../../core/address.ts';
import type { DtlsCertificate } from '../../core/dtls/index.ts';
import type { Rng } from '../../core/rng.ts';
import type { SrtpTransformFactory } from '../../core/srtp/index.ts';
import type { DtlsCrypto } from '../../core/dtls/index.ts';
import type { StunIntegrity } from '../../core/stun/index.ts';
import type { PeerDataOptions } from '../../core/peer/index.ts';
import { DEFAULT_LOCAL_MAX_MESSAGE_SIZE, SdpErrorCode, analyzeOffer, buildAnswer, dtlsRole } from '../../core/sdp/index.ts';
import { mint } from '../../core/token/index.ts';
import type { Keyring, TokenSealer } from '../../core/token/index.ts';
import type { LogFields, Logger } from '../../common/log.ts';
import type { CallIds } from './call-id.ts';
import { callQuality } from './call-quality.ts';
import type { CallQuality } from './call-quality.ts';
import type { Admission, CallInfo, CallService, CloseReason, CreateCallOptions, CreateCallResult, DataChannelStats } from './call-types.ts';
import type { SidebandHandle, SidebandSink } from './oai-events.ts';
import type { MediaEndpoint } from '../media/endpoint.ts';
import type { HandlerRegistry } from '../handlers/registry.ts';
import type { CandidatePlan } from '../relays/relay-locations.ts';
import { DEFAULT_CALL_SEND_BUFFER_BYTES, Session } from './session.ts';
import { offerSessionOptions } from './offer-session.ts';
import { mirrorDataChannels } from '../transceiver-metrics.ts';
import type { TransceiverMetrics } from '../transceiver-metrics.ts';

export interface CallRegistryOptions {
  readonly keyring: Keyring;
  /** Seals the tokens minted with the keyring's minting key (calls/native-token-sealer.ts); default the key's own (node:crypto). */
  readonly tokenSealer?: TokenSealer;
  /** Sealed into every token: where relays send this call's packets. */
  readonly mediaAddress: TransportAddress;
  /** Advertised as candidates, in preference order. */
  readonly relays: readonly TransportAddress[];
  /** ICE-TCP addresses advertised after them (RFC 6544 passive candidates), when there is no plan. */
  readonly relaysTcp?: readonly TransportAddress[];
  /** Per call instead of `relays`: the hinted or own location first, one backup (relays/relay-locations.ts). */
  readonly chooseRelays?: (regionHint: string | undefined) => CandidatePlan;
  readonly certificate: DtlsCertificate;
  readonly rng: Rng;
  /** Monotonic ms (sessions) and Unix ms (tokens, JSON times). */
  readonly clock: () => number;
  readonly wallClock: () => number;
  readonly endpoint: MediaEndpoint;
  readonly maxSessions: number;
  readonly maxCallMs: number;
  readonly defaultHandler: string;
  readonly handlers: HandlerRegistry;
  readonly metrics: TransceiverMetrics;
  readonly log?: Logger;
  readonly setupTimeoutMs?: number;
  /** How long a closed call stays visible to GET. */
  readonly keepClosedMs?: number;
  /** Routable call ids (--http-advertise, calls/call-id.ts); default random `rtc_` + 24 hex digits. */
  readonly callIds?: CallIds;
  /** SRTP cipher factory handed to every session (--srtp); default TypeScript. */
  readonly srtpTransform?: SrtpTransformFactory;
  /** The DTLS crypto handed to every peer (the native addon's); each part defaults to node:crypto's. */
  readonly dtlsCrypto?: DtlsCrypto;
  /** The HMAC-SHA1 of every call's ICE checks (the native addon's); default node:crypto's. */
  readonly stunIntegrity?: StunIntegrity;
  /** A call ended: its routing token (the server ufrag) opens no more relay flows (relays/token-revocations.ts). */
  readonly tokenEnded?: (ufrag: string) => void;
  /**
   * The relay location a relay public address belongs to (metrics label; bounded by the
   * configured names). Default: 'default' for every address.
   */
  readonly locationOf?: (relayPublic: string) => string;
  /** An async handler factory (one that dials its agent) must be ready within this, or the POST gets 502 (default 5 s). */
  readonly handlerSetupTimeoutMs?: number;
}

export const DEFAULT_HANDLER_SETUP_TIMEOUT_MS = 5000;

interface CallRecord {
  /** Dropped when the call closes: a closed call is only its final CallInfo (below). */
  session: Session | undefined;
  readonly handler: string;
  /** Set when the call closes: what GET answers for the rest of its keepClosedMs. */
  final: CallInfo | undefined;
  /** The "call created" line's fields until it is written, when the call's setup is over (#logSetup). */
  created: LogFields | undefined;
  /** The "call connected" line's fields, from the connect until it is written (#logSetup). */
  connected?: LogFields;
  /** Writes both lines SETUP_LOG_DELAY_MS after the connect, unless the call closes first. */
  setupLogTimer?: ReturnType<typeof setTimeout>;
}

const MAX_CLOSED_KEPT = 10_000;

/**
 * How long after the connect a call's "call created" and "call connected" lines wait (issue #18).
 * Our `connected` is when the peer's last flight arrives, but the peer still has its own side to
 * finish then (aiortc reports connected ~10 ms after its last flight, a browser's page a few ms):
 * a line written at that moment wakes the process that reads our stderr (the container runtime's,
 * `parley dev`'s parent) on the same cores, and the peer's connect waited behind it
 * (docs/performance.md, "peers"). A fifth of a second is far past every traced peer's finish and
 * still reads as the connect in a log; the lines carry the connect's own time (connectedAt).
 */
export const SETUP_LOG_DELAY_MS = 200;

export class CallRegistry implements CallService {
  readonly #o: CallRegistryOptions;
  readonly #calls = new Map<string, CallRecord>();
  /** Closed calls in the order they closed (Map keeps insertion order), for expiry. */
  readonly #closed = new Map<string, number>();
  #active = 0;
  #draining = false;
  /** Data-channel totals of the calls that closed (/metrics adds the live ones'). */
  readonly #dcClosed = { messagesIn: 0, messagesOut: 0, bytesIn: 0, bytesOut: 0, channelsOpened: 0, channelsClosed: 0, sctpRetransmits: 0 };
  /** Resolved by the close that leaves no call running (drain waits on it). */
  #idleWaiters: (() => void)[] = [];

  constructor(o: CallRegistryOptions) {
    this.#o = o;
    o.endpoint.observe({ sessionClosed: (s, reason) => this.#onSessionClosed(s, reason), sessionState: (s) => this.#onSessionState(s) });
    o.metrics.onCollect(() => {
      const t = { ...this.#dcClosed };
      for (const rec of this.#calls.values()) {
        const d = rec.session?.stats().dataChannels;
        if (d !== undefined) addDataTotals(t, d);
      }
      mirrorDataChannels(o.metrics.dataChannels, t);
    });
  }

  get activeCount(): number {
    return this.#active;
  }

  admission(): Admission {
    if (this.#draining) return 'draining';
    return this.#active >= this.#o.maxSessions ? 'full' : 'open';
  }

  /** Refuse new calls from now on (readiness goes false; offers get 503). */
  startDraining(): void {
    this.#draining = true;
  }

  get draining(): boolean {
    return this.#draining;
  }

  /** Resolves once no call is running (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  async createCall(offerText: string, options: CreateCallOptions): Promise<CreateCallResult> {
    const result = await this.#create(offerText, options);
    if (result.ok) this.#o.metrics.callsCreated.inc();
    else this.#o.metrics.callsRejected.labels(result.refusal).inc();
    return result;
  }

  async #create(offerText: string, options: CreateCallOptions): Promise<CreateCallResult> {
    const handlerName = options.handler ?? this.#o.defaultHandler;
    const factory = this.#o.handlers.get(handlerName);
    if (!factory) return { ok: false, refusal: 'unknown_handler', message: `no media handler named ${JSON.stringify(handlerName)}` };
    const analysed = analyzeOffer(offerText);
    if (!analysed.ok) {
      const e = analysed.error;
      const readable = e.code !== SdpErrorCode.unparsable && e.code !== SdpErrorCode.incomplete && e.code !== SdpErrorCode.tooLarge;
      return { ok: false, refusal: readable ? 'sdp_not_acceptable' : 'bad_sdp', message: e.message };
    }
    const offer = analysed.offer;
    const o = this.#o;
    const now = o.clock();
    // The token's issue time is wall-clock: relays on other hosts check its age (DESIGN.md).
    const token = mint(o.mediaAddress, o.keyring, o.wallClock(), o.rng, o.tokenSealer);
    const id = o.callIds?.next(o.wallClock()) ?? `rtc_${o.rng.bytes(12).toString('hex')}`;
    // RFC 3550 §8.1: a random SSRC; 0 is avoided because some stacks treat it as "unset".
    const ssrc = o.rng.bytes(4).readUInt32BE(0) || 1;
    const cname = o.rng.bytes(12).toString('base64');
    const plan = o.chooseRelays?.(options.regionHint);
    const answer = buildAnswer({
      offer,
      iceUfrag: token.ufrag,
      icePwd: token.pwd,
      fingerprint: { algorithm: 'sha-256', value: o.certificate.fingerprint },
      candidates: plan?.addresses ?? o.relays,
      backupFrom: plan?.backupFrom,
      tcpCandidates: plan?.tcpAddresses ?? o.relaysTcp,
      ssrc,
      cname,
      sessionId: String(o.rng.bytes(6).readUIntBE(0, 6)),
      streamId: 'parley',
      dataChannels: { maxMessageSize: CALL_SCTP_LIMITS.maxMessageSize },
    });
    // A factory registered as synchronous cannot refuse the call: the answer leaves now, before
    // the session is built (its peer, events and handler: 0.1–0.25 ms on cold caches after an
    // idle second; issue #18; docs/performance.md, "The offer POST after an idle second").
    // Nothing can arrive for the session before the next event-loop turn, and it is built and
    // added in this one.
    const early = o.handlers.synchronous(handlerName);
    let acceptedThrew: { readonly error: unknown } | undefined;
    if (early) {
      try {
        options.accepted?.(id, answer);
      } catch (error) {
        acceptedThrew = { error };
      }
    }
    const m = o.metrics;
    const dataChannels: PeerDataOptions | undefined = offer.data && {
      remotePort: offer.data.sctpPort,
      remoteMaxMessageSize: offer.data.maxMessageSize,
      sctp: CALL_SCTP_LIMITS,
      onSctpDrop: (reason) => m.sctpDrops[reason].inc(),
      onChannelDrop: (reason) => m.sctpDrops[reason].inc(),
    };
    const session = new Session({
      id,
      now,
      rng: o.rng,
      ...offerSessionOptions(offer, token, o.certificate),
      ssrc,
      cname,
      handlerFactory: factory,
      request: options.request,
      onEventDrop: (reason) => o.metrics.oaiEventDrops.labels(reason).inc(),
      onHandlerError: (method, err) => {
        o.metrics.handlerErrors.labels(handlerName, method).inc();
        o.log?.warn('media handler error', { call: id, handler: handlerName, method, err });
      },
      onWake: () => o.endpoint.wake(session),
      onDrop: (reason) => o.metrics.sessionDrops.labels(reason).inc(),
      onIceCheck: (result) => o.metrics.iceChecks[result].inc(),
      onDtlsDrop: (reason) => o.metrics.dtlsDrops[reason].inc(),
      wallClockOffsetMs: o.wallClock() - now,
      setupTimeoutMs: o.setupTimeoutMs,
      maxDurationMs: o.maxCallMs,
      srtpTransform: o.srtpTransform,
      dtlsCrypto: o.dtlsCrypto,
      stunIntegrity: o.stunIntegrity,
      dataChannels,
      onChannelDrop: (reason) => m.sctpDrops[reason].inc(),
    });
    // The slot is taken while the handler dials its agent, so dialling counts against the limit.
    const record: CallRecord = { session, handler: handlerName, final: undefined, created: undefined };
    this.#calls.set(id, record);
    this.#active++;
    o.metrics.sessions.set(this.#active);
    // A synchronous factory (echo, tone, an in-process agent) is ready already: no deadline timer
    // and no promise hop between the answer and the response (issue #18). One registered as
    // synchronous that returned a promise all the same is waited for after the answer (below).
    const failure = session.handlerAsync && !early ? await this.#handlerSettled(session) : undefined;
    if (!early && (failure !== undefined || this.#draining)) {
      const message = failure ?? 'the transceiver started draining while the agent was dialled';
      session.close('agent_error', o.clock());
      this.#calls.delete(id);
      this.#release();
      o.log?.warn('call refused: agent unavailable', { call: id, handler: handlerName, reason: message });
      return { ok: false, refusal: 'agent_unavailable', message: `handler ${handlerName}: ${message}` };
    }
    // The caller sends the answer here; the session starts after it (endpoint.add, its first
    // drive, the log record): ~60–80 µs on cold caches no longer on the answer's path (issue #18).
    // Nothing can arrive for the session before the next event-loop turn, and it is added in this one.
    try {
      if (!early) options.accepted?.(id, answer);
    } finally {
      o.endpoint.add(session);
      // Frames or a hang-up the handler gave while it was dialled are applied now.
      o.endpoint.wake(session);
      // Issue #18: the line is written when the call's setup is over (#logCreated): a JSON
      // serialisation and a write to stderr (which wakes whatever reads it) cost 0.1–1.7 ms on a
      // busy box, and written after the answer they delayed the client's first check behind them.
      if (o.log !== undefined)
        record.created = {
          call: id,
          createdAt: new Date(o.wallClock()).toISOString(),
          handler: handlerName,
          keyId: token.keyId,
          dtlsRole: dtlsRole(offer.setup),
          ...(plan && { relayLocation: plan.primary, backupLocation: plan.backup, noneLive: plan.noneLive || undefined }),
        };
    }
    if (early && session.handlerAsync) void this.#endIfHandlerFails(session, handlerName);
    if (acceptedThrew !== undefined) throw acceptedThrew.error;
    return { ok: true, id, answer };
  }

  /** The endpoint reports a closed session here. */
  #onSessionClosed(session: Session, reason: CloseReason): void {
    const rec = this.#calls.get(session.id);
    if (!rec || this.#closed.has(session.id)) return;
    // Keep what GET shows, not the session: its DTLS, SRTP and ICE state would otherwise stay
    // in memory for keepClosedMs (5 min), a multiple of the live calls' memory under churn.
    rec.final = this.#info(session.id, rec, session);
    const dc = rec.final.stats.dataChannels;
    if (dc !== undefined) addDataTotals(this.#dcClosed, dc);
    rec.session = undefined;
    this.#logSetup(rec);
    this.#o.metrics.callsClosed.labels(reason).inc();
    this.#closed.set(session.id, this.#o.clock());
    this.#expireClosed();
    this.#o.tokenEnded?.(session.localUfrag);
    const q = rec.final.quality;
    if (session.connectedAt !== undefined) this.#observeQuality(rec.final, q);
    this.#o.log?.info('call closed', {
      call: session.id,
      reason,
      detail: session.closeDetail,
      handler: rec.handler,
      location: this.#location(rec.final.relay),
      mos: q.mos,
      quality: q,
      stats: rec.final.stats,
    });
    this.#release();
  }

  /**
   * The call's "call created" line, then its "call connected" line if it connected, each once:
   * SETUP_LOG_DELAY_MS after the connect, or when the call closes if that is sooner (before its
   * "call closed").
   */
  #logSetup(rec: CallRecord): void {
    clearTimeout(rec.setupLogTimer);
    rec.setupLogTimer = undefined;
    if (rec.created !== undefined) this.#o.log?.info('call created', rec.created);
    rec.created = undefined;
    if (rec.connected !== undefined) this.#o.log?.info('call connected', rec.connected);
    rec.connected = undefined;
  }

  /** A call's slot is free again (it closed, or its handler never got ready). */
  #release(): void {
    this.#active--;
    this.#o.metrics.sessions.set(this.#active);
    if (this.#active === 0) for (const resolve of this.#idleWaiters.splice(0)) resolve();
  }

  /** Waits for the session's handler factory (bounded by the setup deadline); the reason it failed, or undefined. */
  async #handlerSettled(session: Session): Promise<string | undefined> {
    const limitMs = this.#o.handlerSetupTimeoutMs ?? DEFAULT_HANDLER_SETUP_TIMEOUT_MS;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<string>((resolve) => {
      timer = setTimeout(() => resolve(`the agent was not ready within ${limitMs} ms`), limitMs);
    });
    try {
      return await Promise.race([
        session.handlerReady.then(
          () => undefined,
          (err: unknown) => (err instanceof Error ? err.message : String(err)),
        ),
        deadline,
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** A call answered already whose handler is still coming: its failure ends the call, as a refusal cannot. */
  async #endIfHandlerFails(session: Session, handlerName: string): Promise<void> {
    const failure = await this.#handlerSettled(session);
    if (failure === undefined || session.state === 'closed') return;
    this.#o.log?.warn('call ended: agent unavailable', { call: session.id, handler: handlerName, reason: failure });
    this.#o.endpoint.closeSession(session, 'agent_error');
  }

  #location(relay: string | undefined): string {
    if (relay === undefined) return 'none';
    return this.#o.locationOf?.(relay) ?? 'default';
  }

  /** The per-call histograms of an ended call that connected (issue #20 item 3). */
  #observeQuality(info: CallInfo, q: CallQuality): void {
    const m = this.#o.metrics;
    const labels = [this.#location(info.relay), info.handler] as const;
    if (q.rttMs !== undefined) m.callRttSeconds.labels(...labels).observe(q.rttMs / 1000);
    if (q.mos === undefined) return; // no audio arrived: jitter and loss mean nothing
    m.callJitterSeconds.labels(...labels).observe(q.jitterMs / 1000);
    m.callLossRatio.labels(...labels).observe(q.lossRatio);
    m.callMos.labels(...labels).observe(q.mos);
  }

  /** The endpoint reports state changes here (setup time histogram). */
  #onSessionState(session: Session): void {
    if (session.state === 'connected' && session.connectedAt !== undefined) {
      const setupMs = session.connectedAt - session.createdAt;
      const path = session.selectedPath;
      const rec = this.#calls.get(session.id);
      const handler = rec?.handler ?? 'unknown';
      this.#o.metrics.setupSeconds.labels(this.#location(path && formatAddress(path.relayPublic)), handler).observe(setupMs / 1000);
      const fields: LogFields = {
        call: session.id,
        setupMs: Math.round(setupMs),
        connectedAt: new Date(this.#o.wallClock()).toISOString(),
        client: path && formatAddress(path.client),
        relay: path && formatAddress(path.relayPublic),
      };
      if (rec === undefined) {
        this.#o.log?.info('call connected', fields);
        return;
      }
      rec.connected = fields;
      rec.setupLogTimer = setTimeout(() => this.#logSetup(rec), SETUP_LOG_DELAY_MS);
      rec.setupLogTimer.unref();
    }
  }

  getCall(id: string): CallInfo | undefined {
    this.#expireClosed();
    const rec = this.#calls.get(id);
    if (!rec) return undefined;
    return rec.final ?? (rec.session && this.#info(id, rec, rec.session));
  }

  #info(id: string, rec: CallRecord, s: Session): CallInfo {
    const offset = this.#o.wallClock() - this.#o.clock();
    const iso = (t: number | undefined): string | undefined => (t === undefined ? undefined : new Date(t + offset).toISOString());
    const path = s.selectedPath;
    const stats = s.stats();
    return {
      id,
      state: s.state,
      closeReason: s.closeReason,
      closeDetail: s.closeDetail,
      handler: rec.handler,
      createdAt: iso(s.createdAt)!,
      connectedAt: iso(s.connectedAt),
      closedAt: iso(s.closedAt),
      client: path && formatAddress(path.client),
      relay: path && formatAddress(path.relayPublic),
      stats,
      quality: callQuality(stats, s.connectedAt === undefined ? undefined : s.connectedAt - s.createdAt),
    };
  }

  attachSideband(id: string, sink: SidebandSink): SidebandHandle | undefined {
    return this.#calls.get(id)?.session?.attachSideband(sink);
  }

  endCall(id: string, reason: CloseReason): boolean {
    const rec = this.#calls.get(id);
    if (!rec) return false;
    if (rec.session) this.#o.endpoint.closeSession(rec.session, reason);
    return true;
  }

  /** Ends every call that is still running (drain deadline, shutdown). */
  endAll(reason: CloseReason): void {
    for (const rec of this.#calls.values())
      if (rec.session && rec.session.state !== 'closed') this.#o.endpoint.closeSession(rec.session, reason);
  }

  #expireClosed(): void {
    const keep = this.#o.keepClosedMs ?? 5 * 60_000;
    const now = this.#o.clock();
    for (const [id, at] of this.#closed) {
      if (now - at < keep && this.#closed.size <= MAX_CLOSED_KEPT) break;
      this.#closed.delete(id);
      this.#calls.delete(id);
    }
  }
}

/**
 * Every call's SCTP limits (docs/datachannels.md): 256 streams each way (so at most 256 stream
 * ids, and MAX_CHANNELS_PER_CALL channels), messages up to 256 KiB (our a=max-message-size),
 * 1 MiB reassembly and 1 MiB send buffer; all calls share the process budget (256 MiB).
 */
export const CALL_SCTP_LIMITS = {
  maxInboundStreams: 256,
  outboundStreams: 256,
  maxMessageSize: DEFAULT_LOCAL_MAX_MESSAGE_SIZE,
  maxReassemblyBytes: 1024 * 1024,
  maxSendBufferBytes: DEFAULT_CALL_SEND_BUFFER_BYTES,
} as const;

type DataTotals = {
  messagesIn: number;
  messagesOut: number;
  bytesIn: number;
  bytesOut: number;
  channelsOpened: number;
  channelsClosed: number;
  sctpRetransmits: number;
};

function addDataTotals(t: DataTotals, d: DataChannelStats): void {
  t.messagesIn += d.messagesIn;
  t.messagesOut += d.messagesOut;
  t.bytesIn += d.bytesIn;
  t.bytesOut += d.bytesOut;
  t.channelsOpened += d.channelsOpened;
  t.channelsClosed += d.channelsClosed;
  t.sctpRetransmits += d.sctpRetransmits;
}
