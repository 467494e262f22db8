// Our real client call against our real transceiver call, on the one seeded netem and a manual
// clock (STYLE.md rule 9: nothing sleeps, every drive loop is bounded). A ClientCall sits on
// CLIENT_HOST behind a NAT; the transceiver's Session is reached at RELAY_PUBLIC, the relay
// candidate of a real SDP answer (src/core/sdp) to the client's real offer. What the relay and
// the media endpoint do to a datagram is done here and no more: the relay header becomes a
// SessionPath (client address as the network delivered it, relay public address, relay socket),
// STUN goes to the call by its ufrag, DTLS and SRTP only from a client address the session has
// announced with a 'path' event (as endpoint.ts routes), and replies leave from RELAY_PUBLIC to
// the path's client address.
// Every datagram is tapped on the way, so tests can account for packets exactly: which RTP
// sequence numbers each side put on the wire, which the network delivered while the receiver
// held SRTP keys, and what the media handler was given.
import type { TransportAddress } from '../../src/core/address.ts';
import { formatAddress } from '../../src/core/address.ts';
import { classifyPacket, isRtcp } from '../../src/core/demux.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { drain } from '../../src/core/output.ts';
import { seededRng } from '../../src/core/rng.ts';
import { parseRtp } from '../../src/core/rtp/index.ts';
import type { RtpHeader } from '../../src/core/rtp/index.ts';
import { analyzeOffer, buildAnswer, dtlsRole } from '../../src/core/sdp/index.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import type { ClientCallEvent, ClientCallOptions } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import type {
  HandlerChannel,
  InboundOpusFrame,
  MediaHandlerContext,
  MediaHandlerFactory,
} from '../../src/transceiver/handlers/media-handler.ts';
import { CALL_SCTP_LIMITS } from '../../src/transceiver/calls/call-registry.ts';
import { Session } from '../../src/transceiver/calls/session.ts';
import type { SessionEvent, SessionOptions, SessionPath } from '../../src/transceiver/calls/session.ts';
import { Netem } from '../support/netem.ts';
import type { LinkProfile } from '../support/netem.ts';
import { progress } from '../support/progress.ts';
import type { Driven } from '../support/progress.ts';

/** The client's own socket, inside its NAT (the host candidate it offers). */
export const CLIENT_HOST: TransportAddress = { address: '192.168.1.20', port: 40000, family: 'IPv4' };
/** The client's address as the relay sees it. */
export const CLIENT_PUBLIC: TransportAddress = { address: '198.51.100.20', port: 50000, family: 'IPv4' };
/** The answer's one candidate. */
export const RELAY_PUBLIC: TransportAddress = { address: '203.0.113.7', port: 3478, family: 'IPv4' };
export const RELAY_SOCKET: TransportAddress = { address: '10.0.0.2', port: 40000, family: 'IPv4' };
export const SESSION_SSRC = 0x5eed0001;
export const SESSION_CNAME = 'parley-test';
export const T0 = 1_000_000;

const SERVER_CERT = generateCertificate(seededRng('call-pair-server-cert'));
const CLIENT_CERT = generateCertificate(seededRng('call-pair-client-cert'));

/** Distinct 20 ms "Opus" payloads (the transceiver never decodes them): each echo names its frame. */
export function numberedFrames(n: number, tag = 'f'): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`${tag}${String(i).padStart(5, '0')}`));
}

export interface CallPairOptions {
  readonly seed: string;
  /** The transceiver session's DTLS role (default client: the answer says a=setup:active). */
  readonly sessionRole?: 'client' | 'server';
  readonly profile?: LinkProfile;
  /** The client's frames (default none: the client only listens). */
  readonly frames?: readonly Buffer[];
  readonly frameCount?: number;
  /** The media handler (default the echo handler); either way every frame given to it is recorded. */
  readonly handler?: MediaHandlerFactory;
  readonly session?: Partial<SessionOptions>;
  readonly client?: Partial<ClientCallOptions>;
  /** Edits the answer before the client reads it (e.g. a dead primary candidate first). */
  readonly editAnswer?: (sdp: string) => string;
  /** The client offers a data channel and the session takes it with the transceiver's limits (as call-registry.ts). */
  readonly dataChannels?: boolean;
}

/** A datagram the tap saw: when, and the RTP header (SRTP leaves it in the clear, RFC 3711 §3.1). */
export interface TappedRtp {
  readonly at: number;
  readonly header: RtpHeader;
}

export class CallPair {
  readonly clock = new ManualClock(T0);
  readonly net: Netem;
  readonly client: ClientCall;
  readonly session: Session;
  readonly clientEvents: ClientCallEvent[] = [];
  readonly sessionEvents: SessionEvent[] = [];
  /** What the media handler was given, in order. */
  readonly handled: InboundOpusFrame[] = [];
  /** The caller's channels the handler was given, and the handler's context (to open its own). */
  readonly handlerChannels: HandlerChannel[] = [];
  handlerContext: MediaHandlerContext | undefined;
  /** RTP the client put on the wire, and the client RTP the network delivered to the session while it held keys. */
  readonly clientRtpSent: TappedRtp[] = [];
  readonly clientRtpDelivered: TappedRtp[] = [];
  /** The same from the session to the client. */
  readonly sessionRtpSent: TappedRtp[] = [];
  readonly sessionRtpDelivered: TappedRtp[] = [];
  /**
   * Distinct SRTCP datagrams delivered while the receiver held keys, per direction: a copy the
   * network duplicated is the same bytes and dies in SRTCP replay protection (RFC 3711 §3.3.2).
   */
  readonly #clientRtcpDelivered = new Set<string>();
  readonly #sessionRtcpDelivered = new Set<string>();
  get clientRtcpDelivered(): number {
    return this.#clientRtcpDelivered.size;
  }
  get sessionRtcpDelivered(): number {
    return this.#sessionRtcpDelivered.size;
  }
  /** Every datagram the client sent, in order, as sent (for tests that replay or mutate one). */
  readonly clientSent: Buffer[] = [];
  /** Client datagrams the endpoint could not route (DTLS/SRTP from an address no 'path' event named). */
  unrouted = 0;
  /** The relay socket paths carry; a test changes it to move the relay. */
  relaySocket: TransportAddress = RELAY_SOCKET;
  wakes = 0;
  readonly #routes = new Set<string>();
  #woken = false;
  #lastPath: SessionPath | undefined;

  constructor(o: CallPairOptions) {
    this.net = new Netem({ seed: hashSeed(o.seed), profile: o.profile ?? { latencyMs: 10 } });
    this.net.nat(CLIENT_HOST, CLIENT_PUBLIC);
    const now = this.clock.now();
    this.client = new ClientCall({
      rng: seededRng(`${o.seed}-client`),
      agents: createCoreAgents(seededRng(`${o.seed}-agents`), CLIENT_CERT),
      localAddress: CLIENT_HOST,
      frames: o.frames,
      frameCount: o.frameCount,
      deliverAudio: true,
      dataChannels: o.dataChannels ? {} : undefined,
      ...o.client,
    });
    const analysed = analyzeOffer(this.client.offer);
    if (!analysed.ok) throw analysed.error;
    // a=setup:active in the offer makes the answerer passive, the DTLS server (RFC 5763 §5).
    const offer = o.sessionRole === 'server' ? { ...analysed.offer, setup: 'active' as const } : analysed.offer;
    // A routing token's length (64 chars), as every transceiver ufrag is: checks are the size real
    // ones are, which is what the ICE-lite agent may answer toward an unconfirmed address with (issue #19).
    const ufrag = 'AQFserverufragserverufrag'.padEnd(64, 'x');
    const pwd = 'serverpasswordserverpass';
    const handler = o.handler ?? createEchoHandler;
    const rng = seededRng(`${o.seed}-session`);
    this.session = new Session({
      id: 'rtc_pair',
      now,
      rng,
      localUfrag: ufrag,
      localPwd: pwd,
      remoteUfrag: offer.iceUfrag,
      remotePwd: offer.icePwd,
      dtlsRole: dtlsRole(offer.setup),
      certificate: SERVER_CERT,
      remoteFingerprint: offer.fingerprint.value,
      ssrc: SESSION_SSRC,
      cname: SESSION_CNAME,
      opusPayloadType: offer.audio.opusPayloadType,
      telephoneEventPayloadType: offer.audio.telephoneEventPayloadType,
      handlerFactory: (ctx) => {
        this.handlerContext = ctx;
        const inner = handler(ctx);
        if (inner instanceof Promise) throw new Error('CallPair drives sync handler factories only');
        return {
          onChannel: (ch) => {
            this.handlerChannels.push(ch);
            inner.onChannel?.(ch);
          },
          onAudio: (frame) => {
            this.handled.push({ ...frame, payload: Buffer.from(frame.payload) });
            inner.onAudio(frame);
          },
          onDtmf: (event) => inner.onDtmf?.(event),
          close: () => inner.close(),
          ...(inner.stats && { stats: () => inner.stats!() }),
          ...('pull' in inner && typeof inner.pull === 'function' && { pull: () => (inner.pull as () => Buffer | undefined)() }),
        };
      },
      onWake: () => {
        this.wakes++;
        this.#woken = true;
      },
      wallClockOffsetMs: 1_700_000_000_000,
      maxDurationMs: 3_600_000,
      dataChannels: offer.data && {
        remotePort: offer.data.sctpPort,
        remoteMaxMessageSize: offer.data.maxMessageSize,
        sctp: CALL_SCTP_LIMITS,
      },
      ...o.session,
    });
    let answer = buildAnswer({
      offer,
      iceUfrag: ufrag,
      icePwd: pwd,
      fingerprint: { algorithm: 'sha-256', value: SERVER_CERT.fingerprint },
      candidates: [RELAY_PUBLIC],
      ssrc: SESSION_SSRC,
      cname: SESSION_CNAME,
      sessionId: '1',
      streamId: 'parley',
      dataChannels: { maxMessageSize: CALL_SCTP_LIMITS.maxMessageSize },
    });
    if (o.editAnswer) answer = o.editAnswer(answer);
    this.net.attach(CLIENT_HOST, (d, at) => this.#toClient(d.data, d.from, at));
    this.net.attach(RELAY_PUBLIC, (d, at) => this.#toSession(d.data, d.from, at));
    this.client.acceptAnswer(answer, now);
    this.flushClient();
    this.flushSession();
  }

  /** Runs the pair until `t` on the manual clock (bounded; fails naming the bound it hit). */
  runUntil(t: number): void {
    const stop: Driven = { nextDeadline: () => t, advance: () => {} };
    progress({
      clock: this.clock,
      parts: [this.#clientPart, this.#sessionPart, this.net, stop],
      until: () => this.clock.now() >= t,
      maxMs: t - this.clock.now() + 1,
      what: `call pair until t=${t}`,
    });
  }

  /** Runs until `check` holds, for at most `maxMs`. */
  runUntilTrue(check: () => boolean, maxMs: number, what: string): void {
    progress({ clock: this.clock, parts: [this.#clientPart, this.#sessionPart, this.net], until: check, maxMs, what });
  }

  get now(): number {
    return this.clock.now();
  }

  /** Sends what the client queued and takes its events. */
  flushClient(): void {
    const now = this.clock.now();
    drain(
      this.client,
      (t) => {
        this.clientSent.push(t.data);
        if (isRtp(t.data)) this.clientRtpSent.push({ at: now, header: header(t.data) });
        this.net.send({ from: CLIENT_HOST, to: t.path, data: t.data }, now);
      },
      (e) => this.clientEvents.push(e),
    );
  }

  /** Sends what the session queued (from the relay's public address) and takes its events. */
  flushSession(): void {
    const now = this.clock.now();
    drain(
      this.session,
      (t) => {
        if (isRtp(t.data)) this.sessionRtpSent.push({ at: now, header: header(t.data) });
        this.net.send({ from: RELAY_PUBLIC, to: t.path.client, data: t.data }, now);
      },
      (e) => {
        this.sessionEvents.push(e);
        if (e.type === 'path') this.#routes.add(formatAddress(e.path.client));
      },
    );
  }

  /** Session events of one type, e.g. pathEvents(). */
  pathEvents(): Array<Extract<SessionEvent, { type: 'path' }>> {
    return this.sessionEvents.filter((e): e is Extract<SessionEvent, { type: 'path' }> => e.type === 'path');
  }

  clientAudio(): Array<Extract<ClientCallEvent, { type: 'audio' }>> {
    return this.clientEvents.filter((e): e is Extract<ClientCallEvent, { type: 'audio' }> => e.type === 'audio');
  }

  /** The path a datagram from `client` arrives by; one object while nothing changes, as the endpoint reuses its own. */
  pathFrom(client: TransportAddress): SessionPath {
    const last = this.#lastPath;
    if (last && last.relaySocket === this.relaySocket && last.client.address === client.address && last.client.port === client.port)
      return last;
    this.#lastPath = { client, transport: 'udp', relayPublic: RELAY_PUBLIC, relaySocket: this.relaySocket };
    return this.#lastPath;
  }

  readonly #clientPart: Driven = {
    nextDeadline: () => this.client.pollTimeout(),
    advance: (now) => {
      this.client.handleTimeout(now);
      this.flushClient();
    },
  };

  readonly #sessionPart: Driven = {
    // A handler that queued audio or hung up outside an input asks to be driven now (onWake).
    nextDeadline: () => (this.#woken ? this.clock.now() : this.session.pollTimeout()),
    advance: (now) => {
      this.#woken = false;
      this.session.handleTimeout(now);
      this.flushSession();
    },
  };

  #toClient(data: Buffer, from: TransportAddress, now: number): void {
    const keyed = this.client.state === 'connected';
    if (isRtp(data) && keyed) this.sessionRtpDelivered.push({ at: now, header: header(data) });
    if (isRtcp(data) && keyed) this.#clientRtcpDelivered.add(data.toString('latin1'));
    this.client.handle(data, from, now);
    this.flushClient();
  }

  #toSession(data: Buffer, from: TransportAddress, now: number): void {
    const kind = classifyPacket(data);
    // endpoint.ts: STUN finds the call by its ufrag; the rest only by a client address it announced.
    if (kind !== 'stun' && !this.#routes.has(formatAddress(from))) {
      this.unrouted++;
      return;
    }
    const keyed = this.session.state === 'connected';
    if (isRtp(data) && keyed) this.clientRtpDelivered.push({ at: now, header: header(data) });
    if (isRtcp(data) && keyed) this.#sessionRtcpDelivered.add(data.toString('latin1'));
    this.session.handle(data, this.pathFrom(from), now);
    this.flushSession();
  }
}

function isRtp(data: Buffer): boolean {
  return classifyPacket(data) === 'rtp' && !isRtcp(data);
}

function header(srtp: Buffer): RtpHeader {
  const p = parseRtp(srtp);
  if (!('header' in p)) throw new Error('the tap saw an RTP datagram it cannot parse');
  return p.header;
}

function hashSeed(seed: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < seed.length; i++) h = Math.imul(h ^ seed.charCodeAt(i), 0x01000193);
  return h >>> 0;
}
