// One WebRTC audio peer, sans-IO (STYLE.md rules 1-2), the same for both ends of a Parley call:
// ICE (lite for the transceiver, controlling for the client) → DTLS (either role, RFC 5763 §5)
// → SRTP (keys from the DTLS exporter, RFC 5764 §4.2; both profiles; an injectable transform)
// → RTP (one paced Opus sender) and RTCP (one report session), and when SDP negotiated them,
// data channels (SCTP over the DTLS, ./peer-data.ts), over one 5-tuple demultiplexed by first
// byte (RFC 7983 / RFC 9443). Inputs: handle(datagram, path, now), handleTimeout(now),
// queueAudio(frames, now); outputs: pollTransmit / pollEvent / pollTimeout (src/core/output.ts).
// A "path" P is whatever its owner needs to reach the far end (PeerPaths).
// Not here: what a call is to its owner — the transceiver's media handler and setup/duration
// deadlines (src/transceiver/calls/session.ts), the client's offer/answer, candidate failover and
// meters (src/client/client-call.ts) — and no clock, socket or timer.
// Past 400 lines because the demultiplexing and the ICE → DTLS → SRTP hand-overs are one state
// machine; its parts (sender, RTCP session, data channels, paths) already live in their own files.
import { formatAddress } from '../address.ts';
import type { TransportAddress } from '../address.ts';
import { classify, isRtcp } from '../demux.ts';
import { DtlsEndpoint } from '../dtls/index.ts';
import { IceLiteAgent } from '../ice/ice-lite-agent.ts';
import type { DataChannelEvent } from '../datachannel/index.ts';
import type { SansIo } from '../output.ts';
import { FRAME_MS, dtmfDigit, parseRtcpCompound, parseRtp, parseTelephoneEvent } from '../rtp/index.ts';
import { SrtpError, SrtpSession } from '../srtp/index.ts';
import type { SrtpDropReason, SrtpProfileName } from '../srtp/index.ts';
import { PEER_DROPS } from './errors.ts';
import type { PeerDrop } from './errors.ts';
import type {
  AudioPeerOptions,
  ControllingIceAgent,
  PeerDump,
  PeerEvent,
  PeerFailure,
  PeerPaths,
  PeerState,
  PeerStats,
  PeerTransmit,
} from './peer-types.ts';
import { PeerData } from './peer-data.ts';
import { RtcpSession } from './rtcp-session.ts';
import { RtpSender } from './rtp-sender.ts';

/**
 * How early a queued frame may leave before its 20 ms slot when it is queued (queueAudio): an
 * echo's input arrives with a few ms of jitter around the 20 ms slots, and without this about
 * half its frames would each cost a timer wake-up instead of leaving from the receive path.
 */
export const EARLY_SEND_MS = 5;

export class AudioPeer<P> implements SansIo<PeerTransmit<P>, PeerEvent<P>> {
  readonly #o: AudioPeerOptions<P>;
  readonly #paths: PeerPaths<P>;
  /** The lite agent (transceiver), or undefined when the owner's controlling agent is in #ice. */
  readonly #lite: IceLiteAgent | undefined;
  readonly #ice: IceLiteAgent | ControllingIceAgent;
  readonly #sender: RtpSender;
  readonly #rtcp: RtcpSession;
  readonly #transmits: PeerTransmit<P>[] = [];
  readonly #events: PeerEvent<P>[] = [];
  readonly #drops = Object.fromEntries(PEER_DROPS.map((d) => [d, 0])) as Record<PeerDrop, number>;
  readonly #data: PeerData | undefined;
  #dtls: DtlsEndpoint | undefined;
  /** Whether #dtls started (a prepared one, prepare(), exists before it may speak). */
  #dtlsStarted = false;
  #srtp: SrtpSession | undefined;
  #selected: P | undefined;
  /** Whether #selected's address proved it receives (always true for a controlling peer): the per-packet shortcut past IceLiteAgent.mayReach. */
  #selectedConfirmed = false;
  /** The source of the DTLS datagram being handled (#onDtls), for #helloNeedsCookie. */
  #dtlsFrom: P | undefined;
  #state: PeerState = 'new';
  #packetsReceived = 0;
  #bytesReceived = 0;
  #bytesSent = 0;
  /** The RTP timestamp of the last key press reported (RFC 4733 §2.5.2.2: one event, one timestamp). */
  #lastDtmfTimestamp: number | undefined;

  constructor(o: AudioPeerOptions<P>) {
    this.#o = o;
    this.#paths = o.paths;
    const ice = o.ice;
    if (ice.role === 'lite') {
      this.#lite = new IceLiteAgent({
        localUfrag: ice.localUfrag,
        localPwd: ice.localPwd,
        remoteUfrag: ice.remoteUfrag,
        remotePwd: ice.remotePwd,
        consentTimeoutMs: ice.consentTimeoutMs,
        integrity: ice.integrity,
        onCheck: o.onIceCheck,
        rng: o.rng,
      });
      this.#ice = this.#lite;
    } else {
      this.#ice = ice.agent;
    }
    this.#sender = new RtpSender({ ssrc: o.ssrc, payloadType: o.payloadType, rng: o.rng, source: o.source, maxLagMs: o.maxLagMs });
    this.#rtcp = new RtcpSession({
      ssrc: o.ssrc,
      cname: o.cname,
      rng: o.rng,
      intervalMs: o.rtcpIntervalMs,
      firstReportMs: o.firstReportMs,
      wallClockOffsetMs: o.wallClockOffsetMs,
    });
    if (o.dataChannels) {
      const link = {
        role: o.dtlsRole,
        rng: o.rng,
        transmit: (p: Buffer) => this.#sendSctp(p),
        event: (event: DataChannelEvent) => this.#events.push({ type: 'datachannel', event }),
      };
      this.#data = new PeerData(link, o.dataChannels);
    }
  }

  get state(): PeerState {
    return this.#state;
  }
  /** The path media goes to (ICE's selection, or where the far end's DTLS came from first). */
  get selectedPath(): P | undefined {
    return this.#selected;
  }
  get srtpProfile(): SrtpProfileName | undefined {
    return this.#srtp?.profile;
  }
  /** The data channels, when SDP negotiated them: their methods queue output, so drain the peer after. */
  get data(): PeerData | undefined {
    return this.#data;
  }

  /** Takes what the ICE agent queued when its owner started it (a controlling agent's first check). */
  start(now: number): void {
    if (this.#live()) this.#drainIce(now);
  }

  /**
   * Idle work between the answer and the first check (issue #18): the ICE-lite agent builds its
   * first request back (IceLiteAgent.prepare); as DTLS client, the ClientHello is built now, held
   * until ICE lets DTLS start (#startDtlsIfConfirmed), which then only sends it. Sends nothing.
   * The DTLS part is a no-op as DTLS server or once DTLS exists; all of it when not live.
   */
  prepare(now: number): void {
    if (!this.#live()) return;
    // One piece per call, the one needed first first: the owner runs the next one a turn later
    // (preparable), so a check that arrives meanwhile waits for one piece at most.
    if (this.#lite?.preparable) return this.#lite.prepare();
    if (this.#dtls || this.#o.dtlsRole !== 'client') return;
    this.#dtls = this.#newDtls(now);
    this.#dtls?.prepare(now);
  }

  /** Whether prepare() has idle work left: the ICE-lite agent's (the next request back, a held answer to sign), or the DTLS client's ClientHello. */
  get preparable(): boolean {
    return this.#live() && ((this.#lite?.preparable ?? false) || (this.#dtls === undefined && this.#o.dtlsRole === 'client'));
  }

  /** One datagram from the far end. Never throws; what it cannot use is dropped and counted. */
  handle(datagram: Buffer, from: P, now: number): void {
    if (!this.#live() || datagram.length === 0) return;
    const kind = classify(datagram[0]);
    // Issue #19: until the selected address is confirmed, the peer's DTLS and SRTP pay for what may go back.
    if (this.#lite && !this.#selectedConfirmed && kind !== 'stun') {
      this.#lite.received(this.#paths.address(from), datagram.length, now);
      this.#drainIce(now);
      if (!this.#live()) return;
    }
    if (kind === 'rtp') this.#onSrtp(datagram, from, now);
    else if (kind === 'stun') this.#onStun(datagram, from, now);
    else if (kind === 'dtls') this.#onDtls(datagram, from, now);
    else this.#drop('unknown_kind');
  }

  /** Call when `now` ≥ pollTimeout(). Idempotent. */
  handleTimeout(now: number): void {
    if (!this.#live()) return;
    this.#ice.handleTimeout(now);
    this.#drainIce(now);
    const dtls = this.#dtls;
    const dtlsDue = dtls?.pollTimeout();
    if (dtls && dtlsDue !== undefined && now >= dtlsDue && this.#live()) {
      dtls.handleTimeout(now);
      this.#drainDtls(now);
    }
    this.#sendDue(now);
    // Data after audio: what was due for RTP is queued ahead of any SCTP burst.
    const data = this.#data;
    const dataDue = data?.pollTimeout();
    if (data && dataDue !== undefined && now >= dataDue && this.#live()) data.handleTimeout(now);
  }

  pollTransmit(): PeerTransmit<P> | undefined {
    return this.#transmits.shift();
  }

  pollEvent(): PeerEvent<P> | undefined {
    return this.#events.shift();
  }

  /** The earliest deadline (same clock as `now`), or undefined once failed or closed. */
  pollTimeout(): number | undefined {
    if (!this.#live()) return undefined;
    // Asked after every datagram: no array, no closure.
    let t = Infinity;
    let d = this.#ice.pollTimeout();
    if (d !== undefined && d < t) t = d;
    d = this.#dtls?.pollTimeout();
    if (d !== undefined && d < t) t = d;
    if (this.#srtp) {
      // Frames queued before SRTP keys wait for them (they leave at connect), not on a timer.
      d = this.#sender.due();
      if (d !== undefined && d < t) t = d;
      d = this.#rtcp.due();
      if (d !== undefined && d < t) t = d;
      d = this.#data?.pollTimeout();
      if (d !== undefined && d < t) t = d;
    }
    return t === Infinity ? undefined : t;
  }

  /** Frames queued (queueAudio) and not yet sent. */
  get audioQueued(): number {
    return this.#sender.queued;
  }
  /** Frames that left the queue since the start: sent, dropped when full, or cleared (marks count on it). */
  get audioTaken(): number {
    return this.#sender.taken;
  }
  /** Frames sent since the start (each is 20 ms of audio the far end plays). */
  get audioSent(): number {
    return this.#sender.packetsSent;
  }

  /**
   * Sends the keys as RFC 4733 telephone-events in the next 20 ms slots (they replace audio while
   * they play), each `durationMs` long (RtpSender.queueDtmf). False without a negotiated payload
   * type, once closed, or past the queue's bound.
   */
  queueDtmf(digits: string, now: number, durationMs?: number): boolean {
    const pt = this.#o.telephoneEventPayloadType;
    if (pt === undefined || !this.#live()) return false;
    if (!this.#sender.queueDtmf(digits, pt, now, durationMs)) return false;
    this.#sendDue(now);
    return true;
  }

  /** Key presses queued (queueDtmf) and not yet fully sent. */
  get dtmfQueued(): number {
    return this.#sender.dtmfQueued;
  }

  /** Drops every queued frame (barge-in); returns how many. */
  clearAudio(): number {
    return this.#sender.clear();
  }

  /**
   * Queues Opus frames to be sent one per 20 ms (the queue holds 60 s; the oldest is dropped and
   * counted when full); one already due, or due within EARLY_SEND_MS, goes now.
   */
  queueAudio(frames: readonly Buffer[], now: number): void {
    if (!this.#live()) return;
    for (const f of frames) this.#sender.enqueue(f, now);
    // A frame queued on its own (a 1× input: an echo, an agent speaking as it is produced) may
    // leave up to a whole frame before its slot, so it is never held whatever the phase of its
    // arrivals against the stream's grid, and two that arrive together (one was late) leave
    // together instead of one queued behind the other for the rest of the call. Held to
    // EARLY_SEND_MS, an echo's frames each waited out the worst lateness its input had shown so
    // far. Frames queued together (a burst) keep their 20 ms pacing.
    this.#sendDue(now, frames.length === 1 ? FRAME_MS : EARLY_SEND_MS);
  }

  /**
   * The owner's local address changed (a new socket): a controlling agent checks and nominates
   * at once, since a lite far end moves its selected pair only on a nominating check (RFC 8445
   * §7.3.1.5). No-op for a lite peer, which follows the far end instead.
   */
  rebound(now: number): void {
    if (this.#lite || !this.#live()) return;
    (this.#ice as ControllingIceAgent).checkNow(now);
    this.#drainIce(now);
  }

  /**
   * Ends the peer (idempotent, also after it failed): an RTCP BYE carrying `byeReason` when one
   * is given and SRTP is up (RFC 3550 §6.6), then DTLS close_notify (RFC 5246 §7.2.1), which
   * tells a browser at once instead of after its consent timeout.
   */
  close(now: number, byeReason?: string): void {
    if (this.#state === 'closed') return;
    const path = this.#selected;
    if (byeReason !== undefined && this.#srtp && path !== undefined) this.#sendRtcp(this.#rtcp.bye(now, this.#sender, byeReason), path);
    this.#rtcp.stop();
    this.#sender.stop();
    // SCTP ABORT (RFC 9260 §9.1) before close_notify: the far end's channels close at once.
    this.#data?.end(now, true);
    const dtls = this.#dtls;
    if (dtls) {
      dtls.close(now);
      if (path !== undefined) for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) this.#send(path, d);
    }
    this.#ice.close();
    this.#state = 'closed';
  }

  stats(): PeerStats {
    return {
      packetsReceived: this.#packetsReceived,
      bytesReceived: this.#bytesReceived,
      audio: this.#rtcp.recv.snapshot(),
      packetsSent: this.#sender.packetsSent,
      octetsSent: this.#sender.octetsSent,
      bytesSent: this.#bytesSent,
      framesDropped: this.#sender.dropped,
      rttMs: this.#rtcp.rttMs,
      remoteFractionLost: this.#rtcp.remoteFractionLost,
      rtcpSent: this.#rtcp.sent,
      rtcpReceived: this.#rtcp.received,
      drops: { ...this.#drops },
      data: this.#data?.stats(),
    };
  }

  dump(): PeerDump {
    const selected = this.#selected;
    return {
      state: this.#state,
      selected: selected === undefined ? undefined : formatAddress(this.#paths.address(selected)),
      dtls: this.#dtls?.state,
      srtpProfile: this.#srtp?.profile,
      drops: { ...this.#drops },
      ice: this.#lite?.dump(),
    };
  }

  #live(): boolean {
    return this.#state !== 'closed' && this.#state !== 'failed';
  }

  /** Counts a dropped datagram; SRTP drops carry their reason (RFC 3711 auth, replay…) to the owner. */
  #drop(kind: Exclude<PeerDrop, 'srtp'>): void {
    this.#drops[kind]++;
    this.#o.onDrop?.(kind);
  }

  #dropSrtp(reason: SrtpDropReason): void {
    this.#drops.srtp++;
    this.#o.onDrop?.(`srtp_${reason}`);
  }

  #fail(reason: PeerFailure, detail: string, now: number): void {
    if (!this.#live()) return;
    this.#state = 'failed';
    this.#sender.stop();
    this.#rtcp.stop();
    this.#data?.end(now, false);
    this.#events.push({ type: 'failed', reason, detail });
  }

  #onStun(datagram: Buffer, from: P, now: number): void {
    this.#paths.remember(from);
    const address = this.#paths.address(from);
    if (this.#lite) {
      // A valid check proves the sender holds the credentials: the path may follow it.
      if (this.#lite.handle(datagram, address, now)) this.#follow(from);
    } else {
      this.#ice.handle(datagram, address, now);
    }
    this.#drainIce(now);
  }

  /** After an authenticated datagram: the owner's paths may move the selection (a relay that moved). */
  #follow(from: P): void {
    const previous = this.#selected;
    const next = this.#paths.follow(previous, from);
    if (next === undefined) return;
    this.#selected = next;
    this.#updateConfirmed();
    this.#events.push({ type: 'path', path: next, previous });
  }

  #drainIce(now: number): void {
    const ice = this.#ice;
    for (let t = ice.pollTransmit(); t; t = ice.pollTransmit()) {
      const path = this.#paths.lookup(t.to);
      if (path !== undefined) this.#transmits.push({ path, data: t.data });
    }
    for (let e = ice.pollEvent(); e; e = ice.pollEvent()) {
      if (e.type === 'consent_lost') return this.#fail('consent_lost', 'consent checks stopped (RFC 7675)', now);
      if (e.type === 'failed') return this.#fail('ice_failed', e.reason, now);
      if (e.type === 'nominated') {
        this.#resendDtls(now);
        continue;
      }
      if (e.type === 'confirmed') {
        const path = this.#paths.lookup(e.address);
        if (path !== undefined) this.#events.push({ type: 'confirmed', path });
        this.#updateConfirmed();
        // A flight the budget held (the DTLS server's, larger than what came from the address) goes now.
        this.#resendDtls(now);
        this.#startDtlsIfConfirmed(now);
        if (!this.#live()) return;
        continue;
      }
      // RFC 8445 §7.3.1.5: the nominated pair (lite: the first valid check provisionally, then
      // each nomination; controlling: each pair that connects) is where media goes.
      this.#select(e.type === 'selected' ? e.address : e.type === 'selected-changed' ? e.to : e.remote, now);
      if (!this.#live()) return;
      if (e.type === 'selected-changed') this.#resendDtls(now);
    }
  }

  /** A nomination: the far end now listens on the pair, so an unanswered flight goes again at once. */
  #resendDtls(now: number): void {
    if (!this.#dtls) return;
    this.#dtls.retransmitNow(now);
    this.#drainDtls(now);
  }

  #select(address: TransportAddress, now: number): void {
    const path = this.#paths.lookup(address);
    if (path === undefined) return;
    const previous = this.#selected;
    this.#selected = path;
    this.#updateConfirmed();
    this.#events.push({ type: 'path', path, previous });
    this.#startDtlsIfConfirmed(now);
  }

  /**
   * Issue #19 (reflection): as DTLS client on the lite side, our ClientHello flight (~600 bytes
   * for a ~150-byte check) waits until the selected address has answered the lite agent's request
   * back, so a check from a forged source address sends no DTLS toward it. The peer answers that
   * request within one round trip. As DTLS server we send nothing before a ClientHello; one
   * from the selected address once it is confirmed gets our flight at once (#helloNeedsCookie),
   * any other only a HelloVerifyRequest until the cookie comes back (RFC 6347 §4.2.1) — the
   * cookie proves nothing about the selected address, which a later nomination may have moved —
   * and every flight, like all we send, goes to an unconfirmed address only as far as its budget
   * pays (#send); the rest goes when the address is confirmed.
   */
  #startDtlsIfConfirmed(now: number): void {
    const lite = this.#lite;
    const selected = this.#selected;
    if (selected === undefined) return;
    if (lite && this.#o.dtlsRole === 'client' && lite.confirms && !lite.isConfirmed(this.#paths.address(selected))) return;
    this.#startDtls(now);
  }

  /** RFC 5763 §5: DTLS runs over the selected pair; the active side (DTLS client) speaks first. False when it could not start. */
  #startDtls(now: number): boolean {
    if (this.#dtlsStarted) return true;
    if (this.#state === 'new') this.#state = 'connecting';
    const dtls = this.#dtls ?? this.#newDtls(now);
    if (!dtls) return false;
    this.#dtls = dtls;
    this.#dtlsStarted = true;
    dtls.start(now);
    this.#drainDtls(now);
    return true;
  }

  /** Our DTLS endpoint, not started; undefined (and the peer failed) when the options are refused. */
  #newDtls(now: number): DtlsEndpoint | undefined {
    try {
      return new DtlsEndpoint({
        role: this.#o.dtlsRole,
        certificate: this.#o.certificate,
        remoteFingerprint: this.#o.remoteFingerprint,
        rng: this.#o.rng,
        onDrop: this.#o.onDtlsDrop,
        ...this.#o.dtlsCrypto,
        // The lite side (the transceiver) as DTLS server: a stateless cookie round trip before
        // any flight larger than the ClientHello goes to an address that may be forged.
        cookie: this.#lite !== undefined && this.#o.dtlsRole === 'server' ? () => this.#helloNeedsCookie() : false,
      });
    } catch (err) {
      this.#fail('dtls_failed', (err as Error).message, now);
      return undefined;
    }
  }

  #onDtls(datagram: Buffer, from: P, now: number): void {
    if (!this.#dtlsStarted) {
      // The controlling side, as DTLS server: the far end selected the pair when it answered our
      // check and sent its ClientHello at once, which may overtake the answer. Take it, and
      // answer where it came from. A lite peer only speaks DTLS on a pair ICE selected.
      if (this.#lite || this.#o.dtlsRole !== 'server') return this.#drop('not_ready');
      if (this.#selected === undefined) {
        this.#selected = from;
        this.#updateConfirmed();
      }
      if (!this.#startDtls(now)) return;
    }
    this.#dtlsFrom = from;
    this.#dtls!.handle(datagram, now);
    this.#dtlsFrom = undefined;
    this.#drainDtls(now);
  }

  /**
   * Asked by our DTLS server at a ClientHello without a valid cookie (lite side only): whether it
   * must fetch one first. Not when it came from the selected address and that address answered
   * the lite agent's request back (#selectedConfirmed): the cookie (RFC 6347 §4.2.1) would prove
   * again, one round trip later, what ICE already proved — that the client receives there, the
   * only place our flight goes. Issue #18: this saves a round trip on every call.
   */
  #helloNeedsCookie(): boolean {
    const from = this.#dtlsFrom;
    const selected = this.#selected;
    if (!this.#selectedConfirmed || from === undefined || selected === undefined) return true;
    return from !== selected && formatAddress(this.#paths.address(from)) !== formatAddress(this.#paths.address(selected));
  }

  #drainDtls(now: number): void {
    const dtls = this.#dtls;
    if (!dtls) return;
    // Handshake flights first: our last one (the server's Finished) must leave before the first
    // RTP, or the far end, not yet keyed, drops it.
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) {
      if (this.#selected !== undefined) this.#send(this.#selected, d);
    }
    for (let e = dtls.pollEvent(); e; e = dtls.pollEvent()) {
      if (e.type === 'connected') {
        if (this.#state !== 'connecting') continue;
        // RFC 5764 §4.2: SRTP keys come from the DTLS exporter; the DTLS role picks which half is ours.
        this.#srtp = SrtpSession.fromDtls(e.srtpProfile, e.keyingMaterial, this.#o.dtlsRole, { createTransform: this.#o.srtpTransform });
        this.#state = 'connected';
        // The far end finished a handshake whose flights went to the selected path: it receives there.
        if (this.#lite && this.#selected !== undefined) {
          this.#lite.confirm(this.#paths.address(this.#selected));
          this.#selectedConfirmed = true;
          this.#events.push({ type: 'confirmed', path: this.#selected });
        }
        this.#events.push({ type: 'connected', srtpProfile: e.srtpProfile });
        this.#rtcp.start(now);
        this.#sender.start(now);
        this.#sendDue(now);
        this.#data?.start(now);
      } else if (e.type === 'failed') {
        return this.#fail('dtls_failed', `${e.reason.message} [${e.reason.code}]`, now);
      } else if (e.type === 'closed') {
        return this.#fail('dtls_closed', 'the far end sent close_notify', now);
      } else if (this.#state === 'connected') {
        // RFC 8261 §3: application data is SCTP; without a negotiated association it is ignored.
        this.#data?.handle(e.data, now);
      }
    }
  }

  #onSrtp(datagram: Buffer, from: P, now: number): void {
    const srtp = this.#srtp;
    if (!srtp) return this.#drop('not_ready');
    if (isRtcp(datagram)) {
      const clear = srtp.unprotectRtcp(datagram);
      if (clear instanceof SrtpError) return this.#dropSrtp(clear.reason);
      this.#follow(from);
      const packets = parseRtcpCompound(clear);
      if (!Array.isArray(packets)) return this.#drop('malformed');
      this.#rtcp.onRtcp(packets, now);
      this.#events.push({ type: 'rtcp', packets });
      return;
    }
    const clear = srtp.unprotectRtp(datagram);
    if (clear instanceof SrtpError) return this.#dropSrtp(clear.reason);
    this.#follow(from);
    const rtp = parseRtp(clear);
    if (!('header' in rtp)) return this.#drop('malformed');
    this.#packetsReceived++;
    this.#bytesReceived += datagram.length;
    const h = rtp.header;
    if (h.payloadType === this.#o.telephoneEventPayloadType && h.payloadType !== undefined)
      return this.#onTelephoneEvent(rtp.payload, h.timestamp, now);
    // Only the negotiated Opus stream is audio; anything else is counted.
    if (h.payloadType !== this.#o.payloadType) return this.#drop('unknown_payload');
    this.#rtcp.onRtp(h.ssrc, h.sequenceNumber, h.timestamp, now);
    this.#events.push({ type: 'audio', payload: rtp.payload, rtpTimestamp: h.timestamp, sequence: h.sequenceNumber, receivedAt: now });
  }

  /** RFC 4733: a key press is reported once, at its first packet (its end may be lost); the rest of its packets are absorbed. */
  #onTelephoneEvent(payload: Buffer, timestamp: number, now: number): void {
    const e = parseTelephoneEvent(payload);
    const digit = e && dtmfDigit(e.event);
    if (digit === undefined) return this.#drop('malformed');
    if (timestamp === this.#lastDtmfTimestamp) return;
    this.#lastDtmfTimestamp = timestamp;
    this.#events.push({ type: 'dtmf', digit, rtpTimestamp: timestamp, receivedAt: now });
  }

  /** Sends every paced frame (up to `earlyMs` early) and the RTCP report that are due. */
  #sendDue(now: number, earlyMs = 0): void {
    const srtp = this.#srtp;
    const path = this.#selected;
    if (!srtp || path === undefined || this.#state !== 'connected') return;
    for (let due = this.#sender.due(); due !== undefined && due <= now + earlyMs; due = this.#sender.due()) {
      const rtp = this.#sender.tick(now, earlyMs);
      if (!rtp) continue;
      const data = srtp.protectRtp(rtp);
      this.#bytesSent += data.length;
      this.#send(path, data);
    }
    const rtcpDue = this.#rtcp.due();
    if (rtcpDue !== undefined && rtcpDue <= now) this.#sendRtcp(this.#rtcp.report(now, this.#sender), path);
  }

  /** One SCTP packet as one DTLS record (RFC 8261 §3) to the selected path. */
  #sendSctp(packet: Buffer): void {
    const dtls = this.#dtls;
    const path = this.#selected;
    if (!dtls || dtls.state !== 'connected' || path === undefined) return;
    dtls.send(packet);
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) this.#send(path, d);
  }

  #sendRtcp(clear: Buffer, path: P): void {
    if (!this.#srtp) return;
    this.#send(path, this.#srtp.protectRtcp(clear));
  }

  /**
   * Queues one DTLS, RTP, RTCP or SCTP datagram for `path`. Issue #19 (reflection): a lite peer
   * sends toward an address that has not proved it receives only what the bytes from it pay for
   * (IceLiteAgent.mayReach), so a nomination from a forged address — before or after the call
   * connected — gets the victim no more than the attacker sent; the rest is dropped and counted
   * (DTLS sends a held flight again once the address is confirmed).
   */
  #send(path: P, data: Buffer): void {
    const lite = this.#lite;
    if (lite && !(path === this.#selected && this.#selectedConfirmed) && !lite.mayReach(this.#paths.address(path), data.length)) {
      return this.#drop('unconfirmed_address');
    }
    this.#transmits.push({ path, data });
  }

  /** Recomputes #selectedConfirmed after the selection or the agent's confirmations changed. */
  #updateConfirmed(): void {
    const lite = this.#lite;
    const selected = this.#selected;
    this.#selectedConfirmed = !lite || !lite.confirms || (selected !== undefined && lite.isConfirmed(this.#paths.address(selected)));
  }
}
