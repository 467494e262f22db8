// One WebRTC audio call from the client side, sans-IO like the core (STYLE.md rules 1-2): the
// audio peer (src/core/peer, in the controlling ICE role) + the offer and answer + candidate
// failover (./core-ice.ts) + meters (echo RTT, STUN RTT). It builds the offer, takes the answer,
// then hands every datagram to the peer, which sends the pre-encoded Opus frames (./frame-cycle.ts)
// one per 20 ms. Time is a parameter; randomness comes from an Rng. One object per call and no
// timers of its own, so `parley load` can drive hundreds from one timer (./call-driver.ts). The
// transport (UDP or ICE-TCP) only decides which candidates are offered and taken.
// Not here: sockets, HTTP signaling (./signaling.ts), Opus encoding/decoding, recording.
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import { classifyPacket } from '../core/demux.ts';
import type { SansIo } from '../core/output.ts';
import { ADDRESS_PATHS, AudioPeer } from '../core/peer/index.ts';
import type { PeerAudio, PeerData, PeerDataOptions, PeerEvent, PeerFailure, PeerTransmit } from '../core/peer/index.ts';
import { DEFAULT_LOCAL_MAX_MESSAGE_SIZE } from '../core/sdp/index.ts';
import type { Rng } from '../core/rng.ts';
import { FRAME_MS } from '../core/rtp/index.ts';
import type { CallAgents } from './agents.ts';
import type { CallTransportName } from './call-transport.ts';
import { ClientError, ClientErrorCode } from './errors.ts';
import { FrameCycle } from './frame-cycle.ts';
import { buildOffer, parseAnswer } from './sdp.ts';
import { EchoRttMeter } from './echo-rtt.ts';
import { StunRttMeter } from './stun-rtt.ts';
import type { ClientCallEvent, ClientCallState, ClientCallStats } from './client-call-types.ts';

export type { ClientCallEvent, ClientCallState, ClientCallStats } from './client-call-types.ts';

export interface ClientCallOptions {
  readonly rng: Rng;
  readonly agents: CallAgents;
  /** The local socket's address, advertised as our one host candidate. */
  readonly localAddress: TransportAddress;
  /** The transport of that candidate and of the answer's candidates we try (default udp; CallBinding.transport). */
  readonly transport?: CallTransportName;
  /** Pre-encoded 20 ms Opus frames, shared between calls; sent in order, cycling. */
  readonly frames?: readonly Buffer[];
  /** How many frames to send in all (default: frames.length); 0 sends nothing. */
  readonly frameCount?: number;
  /** Queue an 'audio' event per received packet (the CLI records them; load tests do not). */
  readonly deliverAudio?: boolean;
  /** From acceptAnswer to DTLS connected; default 10 s. */
  readonly connectTimeoutMs?: number;
  /** Mean RTCP report interval; default 1 s (short so a short call gets an RTCP RTT). */
  readonly rtcpIntervalMs?: number;
  /** Told of every echo round trip measured (a returned payload matched to the frame sent; ./echo-rtt.ts). */
  readonly onEchoRtt?: (ms: number) => void;
  /** Offer a data channel section; the association runs once the answer takes it (see `data`). */
  readonly dataChannels?: ClientDataOptions;
}

/** The data-channel options a client chooses; the SCTP port and the far end's max-message-size come from the answer. */
export type ClientDataOptions = Omit<PeerDataOptions, 'port' | 'remotePort' | 'remoteMaxMessageSize'>;

/** Sending more than this late skips frames instead of bursting to catch up. */
const MAX_LATE_MS = 500;
const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

function iceChars(rng: Rng, n: number): string {
  // RFC 8839 §5.4 ice-char from base64 (A-Za-z0-9+/): 6 bits per character.
  return rng
    .bytes(Math.ceil((n * 3) / 4))
    .toString('base64')
    .slice(0, n);
}

export type ClientTransmit = PeerTransmit<TransportAddress>;

export class ClientCall implements SansIo<ClientTransmit, ClientCallEvent> {
  readonly offer: string;
  readonly #o: ClientCallOptions;
  readonly #ufrag: string;
  readonly #pwd: string;
  readonly #ssrc: number;
  readonly #cname: string;
  readonly #stunRtt = new StunRttMeter();
  readonly #echoRtt: EchoRttMeter | undefined;
  readonly #frames: FrameCycle | undefined;
  readonly #events: ClientCallEvent[] = [];
  #peer: AudioPeer<TransportAddress> | undefined;
  #state: ClientCallState = 'new';
  #dtlsRole: 'client' | 'server' | undefined;
  #deadline: number | undefined;
  /** The time of the input being handled: STUN requests are timed from when they are queued. */
  #now = 0;
  #answeredAt: number | undefined;
  #iceConnectedAt: number | undefined;
  #connectedAt: number | undefined;
  #sendingDone = false;
  #error: ClientError | undefined;
  #octetsReceived = 0;
  #lastReceiveAt: number | undefined;
  #firstReceiveAt: number | undefined;

  constructor(o: ClientCallOptions) {
    this.#o = o;
    this.#ufrag = iceChars(o.rng, 8);
    this.#pwd = iceChars(o.rng, 24);
    const frames = o.frames && o.frames.length > 0 ? o.frames : undefined;
    this.#echoRtt = frames ? new EchoRttMeter(frames) : undefined;
    this.#frames = frames ? new FrameCycle(frames, o.frameCount ?? frames.length, this.#echoRtt) : undefined;
    // RFC 3550 §8.1: a random SSRC.
    this.#ssrc = o.rng.bytes(4).readUInt32BE(0);
    this.#cname = iceChars(o.rng, 16);
    this.offer = buildOffer({
      iceUfrag: this.#ufrag,
      icePwd: this.#pwd,
      fingerprint: { algorithm: 'sha-256', value: o.agents.certificate.fingerprint },
      candidate: o.localAddress,
      transport: o.transport,
      ssrc: this.#ssrc,
      cname: this.#cname,
      sessionId: BigInt.asUintN(62, o.rng.bytes(8).readBigUInt64BE(0)).toString(),
      dataChannel: o.dataChannels ? { maxMessageSize: o.dataChannels.sctp?.maxMessageSize ?? DEFAULT_LOCAL_MAX_MESSAGE_SIZE } : undefined,
    });
  }

  get state(): ClientCallState {
    return this.#state;
  }

  /** The data channels, once the answer took our data section: open, send and close through it, then drain the call. */
  get data(): PeerData | undefined {
    return this.#peer?.data;
  }

  /** Why the call failed, once state is 'failed'. */
  get error(): ClientError | undefined {
    return this.#error;
  }

  /** Takes the SDP answer and starts ICE. Throws ClientError(BadAnswer) for an unusable answer. */
  acceptAnswer(sdp: string, now: number): void {
    if (this.#state !== 'new') throw new Error(`acceptAnswer in state ${this.#state}`);
    const a = parseAnswer(sdp, this.#o.transport);
    this.#now = now;
    this.#answeredAt = now;
    this.#deadline = now + (this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS);
    // RFC 5763 §5: the answerer's a=setup:active makes it the DTLS client, so we are the server
    // and only wait for its ClientHello; passive makes us the client, started once ICE connects.
    this.#dtlsRole = a.setup === 'active' ? 'server' : 'client';
    const agent = this.#o.agents.createIce({
      localUfrag: this.#ufrag,
      localPwd: this.#pwd,
      remoteUfrag: a.iceUfrag,
      remotePwd: a.icePwd,
      remoteCandidates: a.candidates,
      now,
    });
    this.#peer = new AudioPeer<TransportAddress>({
      rng: this.#o.rng,
      ice: { role: 'controlling', agent },
      paths: ADDRESS_PATHS,
      dtlsRole: this.#dtlsRole,
      certificate: this.#o.agents.certificate,
      srtpTransform: this.#o.agents.srtpTransform,
      remoteFingerprint: a.fingerprint.value,
      ssrc: this.#ssrc,
      cname: this.#cname,
      payloadType: a.opusPayloadType,
      telephoneEventPayloadType: a.telephoneEventPayloadType,
      source: this.#frames,
      maxLagMs: MAX_LATE_MS,
      // The first report one frame after connecting, so a short call still gets an RTCP RTT.
      rtcpIntervalMs: this.#o.rtcpIntervalMs ?? 1000,
      firstReportMs: FRAME_MS,
      dataChannels:
        this.#o.dataChannels && a.data
          ? { ...this.#o.dataChannels, remotePort: a.data.sctpPort, remoteMaxMessageSize: a.data.maxMessageSize }
          : undefined,
    });
    this.#state = 'connecting';
    this.#peer.start(now);
    this.#takePeerEvents(now);
  }

  /** One datagram from the socket. */
  handle(data: Buffer, from: TransportAddress, now: number): void {
    const peer = this.#peer;
    if (!peer || !this.#live()) return;
    this.#now = now;
    if (classifyPacket(data) === 'stun') this.#stunRtt.onReceive(data, now);
    peer.handle(data, from, now);
    this.#takePeerEvents(now);
  }

  handleTimeout(now: number): void {
    const peer = this.#peer;
    if (!peer || !this.#live()) return;
    this.#now = now;
    peer.handleTimeout(now);
    this.#takePeerEvents(now);
    if (this.#state === 'connecting' && this.#deadline !== undefined && now >= this.#deadline) {
      const ms = this.#o.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
      this.#fail(
        this.#iceConnectedAt !== undefined
          ? new ClientError(ClientErrorCode.ConnectTimeout, `ICE connected but DTLS did not complete within ${ms} ms`)
          : new ClientError(ClientErrorCode.IceFailed, `no STUN check was answered within ${ms} ms`),
      );
    }
  }

  pollTransmit(): ClientTransmit | undefined {
    const t = this.#peer?.pollTransmit();
    if (t) this.#stunRtt.onSend(t.data, this.#now);
    return t;
  }

  pollEvent(): ClientCallEvent | undefined {
    return this.#events.shift();
  }

  /** The earliest time handleTimeout must run, or undefined when nothing is pending. */
  pollTimeout(): number | undefined {
    if (!this.#live()) return undefined;
    const t = this.#peer?.pollTimeout();
    const d = this.#deadline;
    return t === undefined || (d !== undefined && d < t) ? d : t;
  }

  /** Sends key presses as RFC 4733 telephone-events (they replace audio while they play). False when the answer has no telephone-event. */
  sendDtmf(digits: string, now: number): boolean {
    if (!this.#live() || !this.#peer) return false;
    this.#now = now;
    return this.#peer.queueDtmf(digits, now);
  }

  /** The I/O shell moved to a new local port: nominate from it at once (AudioPeer.rebound). */
  rebound(now: number): void {
    if (!this.#live()) return;
    this.#now = now;
    this.#peer?.rebound(now);
    this.#takePeerEvents(now);
  }

  /** Ends the call: close_notify to the peer; idempotent. Signaling hang-up is the caller's. */
  close(now: number): void {
    if (!this.#live() && this.#state !== 'new') return;
    this.#now = now;
    this.#peer?.close(now);
    this.#state = 'closed';
    this.#deadline = undefined;
  }

  stats(): ClientCallStats {
    const ms = (a: number | undefined, b: number | undefined): number | undefined =>
      a === undefined || b === undefined ? undefined : b - a;
    const p = this.#peer?.stats();
    const rx = p?.audio ?? { received: 0, expected: 0, lost: 0, jitterMs: 0 };
    const lost = Math.max(0, rx.lost);
    const rtcpRtt = p?.rttMs;
    const remote = this.#peer?.selectedPath;
    return {
      state: this.#state,
      error: this.#error ? { code: this.#error.code, message: this.#error.message } : undefined,
      dtlsRole: this.#dtlsRole,
      srtpProfile: this.#peer?.srtpProfile,
      remoteAddress: remote ? formatAddress(remote) : undefined,
      iceMs: ms(this.#answeredAt, this.#iceConnectedAt),
      dtlsMs: ms(this.#iceConnectedAt, this.#connectedAt),
      connectedAt: this.#connectedAt,
      packetsSent: p?.packetsSent ?? 0,
      framesSkipped: this.#frames?.skipped ?? 0,
      bytesSent: p?.octetsSent ?? 0,
      packetsReceived: rx.received,
      bytesReceived: this.#octetsReceived,
      packetsExpected: rx.expected,
      packetsLost: lost,
      lossFraction: rx.expected > 0 ? lost / rx.expected : 0,
      jitterMs: rx.jitterMs,
      srtpDropped: p ? p.drops.srtp + p.drops.malformed : 0,
      firstReceiveAt: this.#firstReceiveAt,
      lastReceiveAt: this.#lastReceiveAt,
      rttMs: rtcpRtt ?? this.#stunRtt.smoothed,
      rttSource: rtcpRtt !== undefined ? 'rtcp' : this.#stunRtt.smoothed !== undefined ? 'stun' : undefined,
      stunRttMs: this.#stunRtt.smoothed,
      echoRttMs: this.#echoRtt && this.#echoRtt.samples > 0 ? this.#echoRtt.sumMs / this.#echoRtt.samples : undefined,
      rtcpRttMs: rtcpRtt,
    };
  }

  #live(): boolean {
    return this.#state === 'connecting' || this.#state === 'connected';
  }

  #takePeerEvents(now: number): void {
    const peer = this.#peer;
    if (!peer) return;
    for (let e: PeerEvent<TransportAddress> | undefined = peer.pollEvent(); e; e = peer.pollEvent()) {
      if (e.type === 'audio') this.#onAudio(e, now);
      else if (e.type === 'path') {
        // The first pair ICE connects; a later one is a failover to a backup candidate.
        if (this.#iceConnectedAt !== undefined) continue;
        this.#iceConnectedAt = now;
        this.#events.push({ type: 'ice-connected', remote: e.path });
      } else if (e.type === 'connected') {
        this.#state = 'connected';
        this.#connectedAt = now;
        this.#deadline = undefined;
        this.#events.push({ type: 'connected', srtpProfile: e.srtpProfile });
      } else if (e.type === 'rtcp' || e.type === 'datachannel') {
        this.#events.push(e);
      } else if (e.type === 'dtmf') {
        this.#events.push({ type: 'dtmf', digit: e.digit, timestamp: e.rtpTimestamp, receivedAt: now });
      } else if (e.type === 'failed') {
        return this.#fail(failure(e.reason, e.detail));
      }
      // 'confirmed' is the lite side's; a controlling peer emits none.
    }
    if (this.#state === 'connected' && !this.#sendingDone && this.#frames?.done) {
      this.#sendingDone = true;
      this.#events.push({ type: 'sending-done' });
    }
  }

  #onAudio(e: PeerAudio, now: number): void {
    this.#firstReceiveAt ??= now;
    this.#lastReceiveAt = now;
    this.#octetsReceived += e.payload.length;
    const echo = this.#echoRtt?.onReceive(e.payload, now);
    if (echo !== undefined) this.#o.onEchoRtt?.(echo);
    if (this.#o.deliverAudio)
      this.#events.push({ type: 'audio', payload: e.payload, sequence: e.sequence, timestamp: e.rtpTimestamp, receivedAt: now });
  }

  #fail(error: ClientError): void {
    if (!this.#live()) return;
    this.#state = 'failed';
    this.#error = error;
    this.#deadline = undefined;
    this.#events.push({ type: 'failed', error });
  }
}

/** The peer's own failures as client errors. */
function failure(reason: PeerFailure, detail: string): ClientError {
  switch (reason) {
    case 'consent_lost':
      return new ClientError(ClientErrorCode.ConsentLost, 'consent checks stopped being answered (RFC 7675)');
    case 'ice_failed':
      return new ClientError(ClientErrorCode.IceFailed, `ICE failed: ${detail}`);
    case 'dtls_failed':
      return new ClientError(ClientErrorCode.DtlsFailed, `DTLS failed: ${detail}`);
    case 'dtls_closed':
      return new ClientError(ClientErrorCode.RemoteClosed, 'the server closed the DTLS association');
  }
}
