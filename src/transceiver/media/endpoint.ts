// The transceiver's UDP media endpoint: the I/O shell around every Session. It accepts
// datagrams only from relay networks (--relay-cidrs), strips the relay ⇄ transceiver header
// (src/contracts/relay-header.ts), routes the payload to a session — STUN by the server ufrag in
// USERNAME (RFC 8445 §7.2.2), everything else by the client address the header names, as
// pion's single-port mux does — and sends each session's output back through the relay the
// client last used, header first. It arms ONE timer for all sessions (STYLE.md rule 3), on the
// injected Clock, from a min-heap of their deadlines. The socket itself is behind media/media-socket.ts (`--media-io`:
// batched native I/O or Node's dgram). Not here: what a call is (calls/session.ts) or how calls are
// created (calls/call-registry.ts).
// Past 400 lines because the demultiplexing, the address-ownership rules (issue #19) and the
// one timer over all sessions share the routing maps; the socket and the sessions are elsewhere.
import type { TransportAddress } from '../../core/address.ts';
import { classify } from '../../core/demux.ts';
import { RELAY_HEADER_LENGTH, decodeRelayHeader, encodeRelayHeader, isRelayHeader } from '../../contracts/relay-header.ts';
import {
  BINDING_ERROR,
  BINDING_REQUEST,
  BINDING_SUCCESS,
  HEADER_LENGTH as STUN_HEADER_LENGTH,
  TRANSACTION_ID_LENGTH,
  peekUsername,
} from '../../core/stun/index.ts';
import type { Clock, Timer } from '../../common/clock.ts';
import type { Logger } from '../../common/log.ts';
import type { CidrSet } from '../../core/cidr.ts';
import type { CloseReason } from '../calls/call-types.ts';
import { drain } from '../../core/output.ts';
import type { Session, SessionEvent, SessionPath, SessionTransmit } from '../calls/session.ts';
import { TimerHeap } from '../../common/timer-heap.ts';
import { clientKeyOfAddress, clientKeyOfHeader } from '../../contracts/client-key.ts';
import type { ClientKey } from '../../contracts/client-key.ts';
import type { EndpointDropReason, TransceiverMetrics } from '../transceiver-metrics.ts';
import { DEFAULT_UDP_BUFFER_BYTES } from './media-socket.ts';
import type { MediaIo, MediaPeer, MediaSocket, MediaSocketOptions } from './media-socket.ts';
import { bindMediaSocket } from './media-socket-native.ts';

export { DEFAULT_UDP_BUFFER_BYTES };

/** At most one "media from outside --relay-cidrs" warning per this interval. */
const SOURCE_WARN_MS = 30_000;
/** RFC 8489 §5: the transaction id ends the header. */
const TID_START = STUN_HEADER_LENGTH - TRANSACTION_ID_LENGTH;
/** A session's ICE-lite agent sends at most MAX_CHECKS_BACK requests back; this bounds the map whatever it does. */
const MAX_REQUESTS_PER_SESSION = 8;

export interface MediaEndpointOptions {
  readonly bind: TransportAddress;
  readonly relayCidrs: CidrSet;
  readonly metrics: TransceiverMetrics;
  readonly log?: Logger;
  /** Monotonic time (the clock the sessions were created on) and the endpoint's one timer. */
  readonly clock: Clock;
  /** SO_RCVBUF / SO_SNDBUF of the media socket (--udp-buffer); default DEFAULT_UDP_BUFFER_BYTES. */
  readonly bufferBytes?: number;
  /** The socket implementation (--media-io); default dgram. */
  readonly io?: MediaIo;
  /** Batch window of the native socket in µs (--media-batch-us); default DEFAULT_MEDIA_BATCH_US. */
  readonly batchUs?: number;
}

/** Who wants to hear about the sessions the endpoint carries (the call registry; observe()). */
export interface SessionObserver {
  /** Told once per session when it closes (after its last datagrams are sent). */
  sessionClosed(session: Session, reason: CloseReason): void;
  /** Told when a session's state changes (metrics, logs). */
  sessionState(session: Session): void;
}

/** Session.prepare passes one #prepareLater runs at most: a session's idle work is two or three pieces, and a bug cannot spin. */
const MAX_PREPARE_PIECES = 4;

interface Entry {
  readonly session: Session;
  /** Client addresses routed to this session (client-key.ts keys), removed on close. */
  readonly clients: Set<ClientKey>;
  /** Those of `clients` that proved they receive (SessionEvent 'confirmed'): no other call may take them. */
  readonly confirmed: Set<ClientKey>;
  /** Transaction ids (latin1) of this session's Binding requests back not yet answered (#answers). */
  readonly requests: Set<string>;
  /**
   * The path of the last datagram, and the relay header bytes and relay socket it was built
   * from: nearly every datagram of a call repeats them, so it is reused as is — no header
   * decoding, no address strings, no objects per packet (and the session sees the same path
   * object, which it compares by identity first).
   */
  lastPath: SessionPath | undefined;
  readonly lastHeader: Buffer;
  lastPeer: MediaPeer | undefined;
  /** This entry's event listener and transmit sink for drain(), made once per session rather than per datagram. */
  readonly onEvent: (e: SessionEvent) => void;
  readonly onTransmit: (t: SessionTransmit) => void;
  /** A pass of Session.prepare is scheduled (#prepareLater). */
  preparing: boolean;
}

/** Whether `msg` starts with the relay header `header` holds: per datagram, a byte loop is ~3× cheaper than Buffer#compare with offsets. */
function sameRelayHeader(msg: Buffer, header: Buffer): boolean {
  for (let i = 0; i < RELAY_HEADER_LENGTH; i++) if (msg[i] !== header[i]) return false;
  return true;
}

export class MediaEndpoint {
  readonly #o: MediaEndpointOptions;
  /** Set once by bind(), before any datagram can arrive. */
  #socket!: MediaSocket;
  readonly #observers = new Set<SessionObserver>();
  readonly #byUfrag = new Map<string, Entry>();
  readonly #byClient = new Map<ClientKey, Entry>();
  /**
   * The session each of our Binding requests back went from, by transaction id: its answer
   * carries no USERNAME, and the client address it comes from may be held by another call for
   * a moment (#onSessionEvent), so the answer is routed by the id it echoes.
   */
  readonly #answers = new Map<string, Entry>();
  readonly #entries = new Map<Session, Entry>();
  readonly #timers = new TimerHeap<Session>();
  /** Sessions woken (wake()) since the last pass; bounded by #entries (a set of them). */
  readonly #woken = new Set<Session>();
  #wokenScheduled = false;
  #timer: Timer | undefined;
  #timerAt = Infinity;
  #closed: Promise<void> | undefined;
  /** Return headers per path object: a session reuses its selected path for every packet. */
  readonly #headers = new WeakMap<SessionPath, Buffer>();
  /** Client key per path object, for the ownership check of every transmit (#transmit). */
  readonly #keys = new WeakMap<SessionPath, ClientKey>();
  address: TransportAddress;

  private constructor(o: MediaEndpointOptions) {
    this.#o = o;
    this.address = o.bind;
  }

  /** Binds the UDP socket. Rejects when the address cannot be bound. */
  static async bind(o: MediaEndpointOptions): Promise<MediaEndpoint> {
    const endpoint = new MediaEndpoint(o);
    await endpoint.#open();
    return endpoint;
  }

  async #open(): Promise<void> {
    const o = this.#o;
    const m = o.metrics;
    const so: MediaSocketOptions = {
      bind: o.bind,
      // Relays forward many calls' packets in bursts; the default ~200 KB buffer holds only about
      // 200 small datagrams (each costs ~1 KB of kernel memory). The kernel caps this at rmem_max.
      bufferBytes: o.bufferBytes ?? DEFAULT_UDP_BUFFER_BYTES,
      log: o.log,
      onDatagram: (msg, from) => this.#onMessage(msg, from),
      onTooLarge: (n) => m.drops.too_large.inc(n),
      onSendError: (n) => m.sendErrors.inc(n),
    };
    this.#socket = await bindMediaSocket(o.io ?? 'dgram', so, { batchUs: o.batchUs, urgentOffset: RELAY_HEADER_LENGTH });
    this.address = this.#socket.address;
  }

  /** Adds an observer of session state and close; returns a function that removes it. */
  observe(observer: SessionObserver): () => void {
    this.#observers.add(observer);
    return () => this.#observers.delete(observer);
  }

  /** Which socket implementation carries the media (--media-io). */
  get io(): MediaIo {
    return this.#socket.io;
  }

  get sessionCount(): number {
    return this.#entries.size;
  }

  /** Starts routing to a new session (by its server ufrag) and schedules its deadlines. */
  add(session: Session): void {
    const entry: Entry = {
      session,
      clients: new Set(),
      confirmed: new Set(),
      requests: new Set(),
      lastPath: undefined,
      lastHeader: Buffer.alloc(RELAY_HEADER_LENGTH),
      lastPeer: undefined,
      onEvent: (e) => this.#onSessionEvent(entry, e),
      onTransmit: (t) => this.#transmit(entry, t),
      preparing: false,
    };
    this.#entries.set(session, entry);
    this.#byUfrag.set(session.localUfrag, entry);
    this.#service(entry);
    // Issue #18: the session's idle work (Session.prepare: the DTLS client's ClientHello) runs
    // after this turn — after the caller answered the offer — not when the client's checks come.
    this.#prepareLater(entry);
  }

  /**
   * Session.prepare after this turn (once however often asked in it), not for a session gone by
   * then; again a turn later while it has work left (one piece per turn: datagrams that arrive
   * meanwhile, the client's first check above all, wait for one piece at most).
   */
  #prepareLater(entry: Entry, pieces = MAX_PREPARE_PIECES): void {
    if (entry.preparing) return;
    entry.preparing = true;
    setImmediate(() => {
      entry.preparing = false;
      if (this.#entries.get(entry.session) !== entry) return;
      this.#guard(entry, () => entry.session.prepare(this.#o.clock.now()));
      this.#service(entry);
      if (pieces > 1 && entry.session.preparable) this.#prepareLater(entry, pieces - 1);
    });
  }

  /**
   * Drives a session whose handler queued audio or hung up outside a packet or timer: deferred
   * (the handler may be inside its own callback; drive from a clean stack) to the end of this
   * event-loop turn's I/O, where every session woken in the turn is driven in one pass. An agent's
   * or model's WebSocket messages for many calls arrive as separate socket reads of one turn;
   * driving each at once (a microtask per read) sent each call's frame in a send system call of
   * its own, where one pass sends them all in one batch.
   */
  wake(session: Session): void {
    if (!this.#entries.has(session)) return;
    this.#woken.add(session);
    if (this.#wokenScheduled) return;
    this.#wokenScheduled = true;
    setImmediate(this.#driveWoken);
  }

  readonly #driveWoken = (): void => {
    this.#wokenScheduled = false;
    // A session woken while these are driven waits for the next pass (its own setImmediate).
    const sessions = [...this.#woken];
    this.#woken.clear();
    const now = this.#o.clock.now();
    for (const session of sessions) {
      const entry = this.#entries.get(session);
      if (!entry) continue;
      this.#guard(entry, () => session.handleTimeout(now));
      this.#service(entry);
    }
  };

  /** Ends a call now (hang-up, drain). */
  closeSession(session: Session, reason: CloseReason): void {
    const entry = this.#entries.get(session);
    if (!entry) return;
    this.#guard(entry, () => session.close(reason, this.#o.clock.now()));
    this.#service(entry);
  }

  /** Closes the socket and the timer. Sessions are not closed here: the owner ends them first. Idempotent. */
  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.#timer?.cancel();
      this.#timer = undefined;
      await this.#socket.close();
    })();
    return this.#closed;
  }

  #drop(reason: EndpointDropReason): void {
    this.#o.metrics.drops[reason].inc();
  }

  /** When the last source_not_allowed warning was logged (at most one per SOURCE_WARN_MS). */
  #sourceWarnedAt = -Infinity;
  #sourceDrops = 0;

  /**
   * Issue #20: media from outside --relay-cidrs is usually a relay the setting does not cover,
   * so it is a warning naming the setting and the source, not only a counter.
   */
  #dropNotAllowed(source: string): void {
    this.#drop('source_not_allowed');
    this.#sourceDrops++;
    const now = this.#o.clock.now();
    if (now - this.#sourceWarnedAt < SOURCE_WARN_MS) return;
    this.#sourceWarnedAt = now;
    this.#o.log?.warn(
      `misconfiguration? media from ${source}, outside --relay-cidrs / PARLEY_RELAY_CIDRS (${this.#o.relayCidrs.toString()}), is dropped`,
      {
        reason: 'source_not_allowed',
        setting: '--relay-cidrs / PARLEY_RELAY_CIDRS',
        value: source,
        drops: this.#sourceDrops,
      },
    );
    this.#sourceDrops = 0;
  }

  #onMessage(msg: Buffer, from: MediaPeer): void {
    const m = this.#o.metrics;
    m.packetsIn.inc();
    m.bytesIn.inc(msg.length);
    // --relay-cidrs, decided once per sender (the socket keeps one peer object per address).
    const allowed = (from.allowed ??= this.#o.relayCidrs.has(from.socket.address));
    if (!allowed) return this.#dropNotAllowed(from.socket.address);
    if (!isRelayHeader(msg) || msg.length === RELAY_HEADER_LENGTH) return this.#drop('bad_header');
    const kind = classify(msg[RELAY_HEADER_LENGTH]);
    let entry: Entry | undefined;
    if (kind === 'stun') {
      // RFC 8445 §7.2.2: USERNAME = "<our ufrag>:<their ufrag>"; our ufrag names the call even
      // from a client address we have never seen (the first check, or after NAT rebinding).
      const username = peekUsername(msg.subarray(RELAY_HEADER_LENGTH));
      const colon = username === undefined ? -1 : username.indexOf(':');
      if (colon > 0) entry = this.#byUfrag.get(username!.slice(0, colon));
      else entry = this.#answerTo(msg) ?? this.#byClient.get(clientKeyOfHeader(msg));
    } else if (kind === 'dtls' || kind === 'rtp') {
      entry = this.#byClient.get(clientKeyOfHeader(msg));
    } else {
      return this.#drop('not_stun_or_media');
    }
    if (!entry) return this.#drop('no_session');
    let path = entry.lastPath;
    if (path === undefined || from !== entry.lastPeer || !sameRelayHeader(msg, entry.lastHeader)) {
      const header = decodeRelayHeader(msg);
      if (!header) return this.#drop('bad_header');
      path = { client: header.client, transport: header.transport, relayPublic: header.public, relaySocket: from.socket };
      entry.lastPath = path;
      msg.copy(entry.lastHeader, 0, 0, RELAY_HEADER_LENGTH);
      entry.lastPeer = from;
    }
    const session = entry.session;
    // The socket's buffer is valid only during this call (MediaSocketOptions.onDatagram). SRTP
    // and SRTCP are decrypted into buffers of their own; STUN and DTLS, a few per call and
    // second at most, may be kept by the ICE agent or a DTLS flight, so they get a copy.
    const datagram = kind === 'rtp' ? msg.subarray(RELAY_HEADER_LENGTH) : Buffer.from(msg.subarray(RELAY_HEADER_LENGTH));
    try {
      session.handle(datagram, path, this.#o.clock.now());
    } catch (err) {
      this.#failed(entry, err);
    }
    this.#service(entry);
    // Issue #18: what a check left to build (the held answer, the next request back) is built
    // after this turn, while the request back that went travels, not when its answer comes.
    if (kind === 'stun' && session.preparable) this.#prepareLater(entry);
  }

  /** The session whose request back a Binding response (RFC 8489 §5 class bits) answers, consumed; else undefined. */
  #answerTo(msg: Buffer): Entry | undefined {
    if (this.#answers.size === 0 || msg.length < RELAY_HEADER_LENGTH + STUN_HEADER_LENGTH) return undefined;
    const type = msg.readUInt16BE(RELAY_HEADER_LENGTH);
    if (type !== BINDING_SUCCESS && type !== BINDING_ERROR) return undefined;
    const tid = msg.toString('latin1', RELAY_HEADER_LENGTH + TID_START, RELAY_HEADER_LENGTH + STUN_HEADER_LENGTH);
    const entry = this.#answers.get(tid);
    if (entry === undefined) return undefined;
    this.#answers.delete(tid);
    entry.requests.delete(tid);
    return entry;
  }

  /**
   * Sessions never throw by design; if one does (a bug), only that call ends — a throw from a
   * socket callback would take every call of the process down with it.
   */
  #guard(entry: Entry, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#failed(entry, err);
    }
  }

  #failed(entry: Entry, err: unknown): void {
    this.#o.log?.error('session failed', { call: entry.session.id, err });
    try {
      entry.session.close('internal_error', this.#o.clock.now());
    } catch {
      // Closing a broken session can fail too; it is dropped from routing by #service below.
      this.#remove(entry);
      for (const ob of this.#observers) ob.sessionClosed(entry.session, 'internal_error');
    }
  }

  /** Sends what the session queued, applies its events, and reschedules it. */
  #service(entry: Entry): void {
    const s = entry.session;
    const next = drain(s, entry.onTransmit, entry.onEvent);
    if (this.#entries.has(s)) this.#timers.set(s, next);
    this.#arm();
  }

  /**
   * Issue #19 (hijack): a client address is routed to one live call, and only that call sends it
   * DTLS or media. STUN (answers and requests back, which the ICE-lite agent keeps within what
   * the address sent, and which are how a call reclaims and confirms an address) goes from any
   * call; the rules for who holds an address are at #onSessionEvent.
   */
  #transmit(entry: Entry, t: SessionTransmit): void {
    let key = this.#keys.get(t.path);
    if (key === undefined) {
      key = clientKeyOfAddress(t.path.client, t.path.transport);
      if (key !== undefined) this.#keys.set(t.path, key);
    }
    const owner = key === undefined ? undefined : this.#byClient.get(key);
    const data = t.data;
    if (owner !== undefined && owner !== entry && classify(data[0]) !== 'stun') return this.#drop('address_of_other_call');
    // Our Binding requests back (the only STUN requests a session sends): their answers come back by id (#answerTo).
    if (data.length >= STUN_HEADER_LENGTH && data.readUInt16BE(0) === BINDING_REQUEST && entry.requests.size < MAX_REQUESTS_PER_SESSION) {
      const tid = data.toString('latin1', TID_START, STUN_HEADER_LENGTH);
      entry.requests.add(tid);
      this.#answers.set(tid, entry);
    }
    this.#send(t.path, data);
  }

  /**
   * Issue #19 (hijack, reclaim): a call's valid check from a client address routes that address
   * to the call, unless another live call has confirmed it (proved it receives there: SessionEvent
   * 'confirmed'); a confirmed address stays with its call until that call ends. A check from a
   * forged address (an attacker's own call, the victim's address) can never be confirmed, so it
   * holds the address only until the rightful owner's next valid check takes it back, and that
   * owner's confirmation then keeps it.
   */
  #claim(entry: Entry, key: ClientKey, confirmed: boolean): void {
    const owner = this.#byClient.get(key);
    if (owner !== undefined && owner !== entry) {
      if (owner.confirmed.has(key)) {
        this.#o.metrics.addressClaims.refused.inc();
        this.#o.log?.warn('a call selected a client address another live call has confirmed; it stays with its owner', {
          call: entry.session.id,
          owner: owner.session.id,
        });
        return;
      }
      this.#o.metrics.addressClaims.reclaimed.inc();
      this.#o.log?.warn('a call took back a client address another call had selected but never confirmed', {
        call: entry.session.id,
        from: owner.session.id,
      });
    }
    this.#byClient.set(key, entry);
    entry.clients.add(key);
    if (confirmed) entry.confirmed.add(key);
  }

  #onSessionEvent(entry: Entry, e: SessionEvent): void {
    if (e.type === 'path' || e.type === 'confirmed') {
      const key = clientKeyOfAddress(e.path.client, e.path.transport);
      if (key !== undefined) this.#claim(entry, key, e.type === 'confirmed');
    } else if (e.type === 'state') {
      // Issue #18: a state change is a setup step (the first check, the last DTLS flight); what
      // the session queued for it leaves before the observers' logs and metrics, not after them
      // at the end of the batch.
      this.#socket.flush();
      for (const ob of this.#observers) ob.sessionState(entry.session);
    } else if (e.type === 'closed') {
      this.#remove(entry);
      for (const ob of this.#observers) ob.sessionClosed(entry.session, e.reason);
    }
  }

  #remove(entry: Entry): void {
    this.#entries.delete(entry.session);
    this.#timers.delete(entry.session);
    this.#woken.delete(entry.session);
    if (this.#byUfrag.get(entry.session.localUfrag) === entry) this.#byUfrag.delete(entry.session.localUfrag);
    for (const key of entry.clients) if (this.#byClient.get(key) === entry) this.#byClient.delete(key);
    for (const tid of entry.requests) this.#answers.delete(tid);
  }

  #send(path: SessionPath, data: Buffer): void {
    if (this.#closed) return;
    // The header tells the relay which client to send to, from which of its public addresses.
    let header = this.#headers.get(path);
    if (!header) {
      header = encodeRelayHeader(path.client, path.relayPublic, path.transport);
      this.#headers.set(path, header);
    }
    this.#o.metrics.packetsOut.inc();
    this.#o.metrics.bytesOut.inc(header.length + data.length);
    this.#socket.send(header, data, path.relaySocket);
  }

  /** Keeps exactly one timer, set to the earliest session deadline. */
  #arm(): void {
    if (this.#closed) return;
    const at = this.#timers.earliest();
    if (at === undefined) {
      this.#timer?.cancel();
      this.#timer = undefined;
      this.#timerAt = Infinity;
      return;
    }
    // A timer already armed at or before `at` stays (firing early costs one empty pass); with
    // hundreds of calls the earliest deadline moves on every packet, and re-arming each time
    // cost a clearTimeout + setTimeout per packet.
    if (this.#timer && this.#timerAt <= at) return;
    this.#timer?.cancel();
    this.#timerAt = at;
    this.#timer = this.#o.clock.timeout(Math.max(0, Math.ceil(at - this.#o.clock.now())), this.#onTimer);
  }

  readonly #onTimer = (): void => {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#o.clock.now();
    for (const s of this.#timers.takeExpired(now)) {
      const entry = this.#entries.get(s);
      if (!entry) continue;
      this.#guard(entry, () => s.handleTimeout(now));
      this.#service(entry);
    }
    this.#arm();
  };
}
