// DtlsEndpoint: one DTLS 1.2 association (RFC 6347), client or server, sans-IO (STYLE.md rule 2):
// handle(datagram, now) / handleTimeout(now) in; pollTransmit() / pollEvent() / pollTimeout() out.
// This file is the record-level machine — epochs, replay protection, alerts, flight
// (re)transmission, events, application data. The handshake itself lives in client.ts and
// server.ts behind the HandshakeHost interface. Not here: renegotiation (refused by ignoring
// it), session resumption, DTLS 1.3, Connection IDs, suites other than those of ./suites.ts.
// Just past 400 lines because epochs, replay windows, alerts and flight retransmission act on the
// same record state in one handle/poll cycle; the handshakes and the ciphers are already apart.
import { nodePeerKeys, parseFingerprint } from './certificate.ts';
import { ClientHandshake } from './client.ts';
import { nodeX25519 } from './ecdhe.ts';
import { AlertDescription, DTLS_DROPS, DtlsCode, DtlsError } from './errors.ts';
import type { DtlsDropReason } from './errors.ts';
import { SrtpProfile, srtpKeyingLength } from './extensions.ts';
import type { SrtpProfileName } from './extensions.ts';
import { packFlight, RetransmitTimer } from './flight.ts';
import type { FlightEntry } from './flight.ts';
import { HandshakeType, parseHandshakeFragments } from './handshake.ts';
import type { HandshakeFragment } from './handshake.ts';
import { aeadKeyBlock, exportKeyingMaterial, prf } from './prf.ts';
import type { Tls12Prf } from './prf.ts';
import { Reassembler } from './reassembly.ts';
import { AeadRecordCipher, ContentType, DTLS10, DTLS12, encodeRecord, MAX_PLAINTEXT, parseRecords, RECORD_HEADER } from './record.ts';
import type { DtlsRecord, RecordAeadFactory } from './record.ts';
import { ReplayWindow } from '../replay-window.ts';
import { ServerHandshake } from './server.ts';
import { keyKind, nodeSigner } from './signature.ts';
import { CIPHER_SUITES } from './suites.ts';
import type { CipherSuite } from './suites.ts';
import type { DtlsEvent, DtlsOptions, DtlsState, HandshakeHost, HandshakeRole, SessionSecrets } from './types.ts';

/** The whole handshake must finish within this long after it starts, or it fails. */
export const HANDSHAKE_BUDGET_MS = 30_000;
export const DEFAULT_MTU = 1200;
const MIN_MTU = 64;
const DEFAULT_PROFILES: SrtpProfileName[] = ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'];
/**
 * A peer resending its flight sends several datagrams at once (OpenSSL: one per message); we
 * answer the burst with one resend of ours, not one per datagram.
 */
const PEER_RESEND_HOLDOFF_MS = 100;
/** Authenticated application data that overtook the peer's Finished, held until we connect. */
const MAX_EARLY_RECORDS = 8;
/**
 * RFC 5705 §4 asks exporter labels not to collide with the PRF labels TLS itself uses; we refuse
 * them outright so no caller can derive a value the protocol also derives.
 */
const RESERVED_LABELS = new Set(['client finished', 'server finished', 'master secret', 'extended master secret', 'key expansion']);
const MAX_SEQ = 2 ** 48 - 1;
/** Every drop reason at zero: each endpoint's counters start as a copy. */
const NO_DROPS = Object.freeze(Object.fromEntries(DTLS_DROPS.reasons.map((r) => [r, 0])) as Record<DtlsDropReason, number>);
const ALERT_WARNING = 1;
const ALERT_FATAL = 2;

export class DtlsEndpoint {
  readonly #role: 'client' | 'server';
  readonly #mtu: number;
  readonly #prf: Tls12Prf;
  readonly #handshake: HandshakeRole;
  readonly #transmits: Buffer[] = [];
  readonly #events: DtlsEvent[] = [];
  readonly #reassembler = new Reassembler();
  /** RFC 6347 §4.1.2.6: a window of 64 records, as RFC 4303 §3.4.3 recommends; made at the first protected record. */
  #replay: ReplayWindow | undefined;
  readonly #timer = new RetransmitTimer();
  #state: DtlsState = 'new';
  #messageSeq = 0;
  #writeEpoch = 0;
  readonly #writeSeq = [0, 0];
  readonly #recordAead: RecordAeadFactory | undefined;
  #writeCipher: AeadRecordCipher | undefined;
  #readCipher: AeadRecordCipher | undefined;
  #flight: FlightEntry[] | undefined;
  #handshakeDeadline: number | undefined;
  // message_seq range [start, end) of the peer flight our current flight answers (RFC 6347 §4.2.4).
  #previousPeerFlight: [number, number] = [0, 0];
  #peerFlightStart = 0;
  #secrets: SessionSecrets | undefined;
  #lastPeerTriggeredResend = -Infinity;
  #early: Buffer[] = [];
  /** The first flight's datagrams prepare() built, sent by start(); undefined when not prepared. */
  #prepared: Buffer[] | undefined;
  readonly #drops = { ...NO_DROPS };
  readonly #onDrop: ((reason: DtlsDropReason) => void) | undefined;

  constructor(opts: DtlsOptions) {
    const invalid = (why: string): DtlsError => new DtlsError(DtlsCode.invalidOptions, why);
    if (opts.role !== 'client' && opts.role !== 'server') throw invalid(`role must be 'client' or 'server'`);
    const cert = opts.certificate;
    const kind = Buffer.isBuffer(cert?.der) && cert.privateKey?.type === 'private' ? keyKind(cert.privateKey) : undefined;
    if (kind === undefined) throw invalid('certificate must be an ECDSA or RSA DtlsCertificate (see generateCertificate)');
    if (typeof opts.rng?.bytes !== 'function') throw invalid('rng is required');
    const remote = parseFingerprint(opts.remoteFingerprint ?? '');
    if (remote === undefined) throw invalid('remoteFingerprint must be a SHA-1/256/384/512 fingerprint like AB:CD:…');
    const mtu = opts.mtu ?? DEFAULT_MTU;
    if (!Number.isInteger(mtu) || mtu < MIN_MTU || mtu > 65507) throw invalid(`mtu must be an integer in ${MIN_MTU}..65507`);
    const profiles = opts.srtpProfiles ?? DEFAULT_PROFILES;
    if (profiles.length === 0 || !profiles.every((p) => p in SrtpProfile)) throw invalid('srtpProfiles must name known SRTP profiles');
    const suites = opts.cipherSuites === undefined ? CIPHER_SUITES : opts.cipherSuites.map((n) => CIPHER_SUITES.find((s) => s.name === n));
    if (suites.length === 0 || suites.some((s) => s === undefined)) throw invalid('cipherSuites must name suites of ours');
    this.#role = opts.role;
    this.#onDrop = opts.onDrop;
    this.#recordAead = opts.recordAead;
    this.#prf = opts.prf ?? prf;
    this.#mtu = mtu;
    const host = this.#makeHost({
      certificate: opts.certificate,
      certificateKind: kind,
      remoteFingerprint: remote,
      rng: opts.rng,
      x25519: opts.x25519 ?? nodeX25519,
      prf: this.#prf,
      peerKeys: opts.peerKeys ?? nodePeerKeys,
      signer: opts.signer ?? nodeSigner,
      srtpProfiles: profiles.map((p) => SrtpProfile[p]),
      cookie: typeof opts.cookie === 'function' ? opts.cookie : () => opts.cookie === true,
      cipherSuites: suites as CipherSuite[],
    });
    this.#handshake = opts.role === 'client' ? new ClientHandshake(host) : new ServerHandshake(host);
  }

  get state(): DtlsState {
    return this.#state;
  }

  /** Received records dropped so far, by reason (for metrics; never an error). */
  get drops(): Readonly<Record<DtlsDropReason, number>> {
    return this.#drops;
  }

  /**
   * Client: builds the ClientHello flight now and holds it — nothing is sent, no timer is set, the
   * state stays 'new' — so that start() only has to send it; and makes its X25519 key share, which
   * answering the server's flight then need not. For an owner with idle time before it
   * may speak (the ICE-lite side waits for the peer to prove its address, issue #19): the flight is
   * ready when that happens (issue #18). Server: a no-op (it waits for a ClientHello). Idempotent.
   */
  prepare(now: number): void {
    if (this.#state !== 'new' || this.#role !== 'client' || this.#prepared !== undefined) return;
    this.#prepared = [];
    this.#guard(() => {
      this.#handshake.start(now);
      this.#handshake.prepareAhead?.();
    });
  }

  /** Client: sends the ClientHello (the one prepare() built, if it ran). Server: only marks the endpoint ready (it waits for one). */
  start(now: number): void {
    if (this.#state !== 'new') return;
    this.#state = 'handshaking';
    const prepared = this.#prepared;
    if (prepared === undefined) return this.#guard(() => this.#handshake.start(now));
    this.#prepared = undefined;
    this.#handshakeDeadline = now + HANDSHAKE_BUDGET_MS;
    this.#transmits.push(...prepared);
    this.#timer.restart(now);
  }

  /** One UDP datagram from the peer; it may hold several records. Never throws. */
  handle(datagram: Buffer, now: number): void {
    if (this.#state === 'new' && this.#role === 'server') this.#state = 'handshaking';
    if (this.#state !== 'handshaking' && this.#state !== 'connected') return;
    const records = parseRecords(datagram);
    let consumed = 0;
    for (const rec of records) {
      consumed += RECORD_HEADER + rec.fragment.length;
      if (this.#state !== 'handshaking' && this.#state !== 'connected') return;
      this.#guard(() => this.#handleRecord(rec, now));
    }
    if (consumed < datagram.length) this.#dropped('truncated');
  }

  handleTimeout(now: number): void {
    if (this.#state !== 'handshaking') return;
    if (this.#handshakeDeadline !== undefined && now >= this.#handshakeDeadline) {
      this.#fail(new DtlsError(DtlsCode.handshakeTimeout, `handshake did not complete within ${HANDSHAKE_BUDGET_MS} ms`));
      return;
    }
    const deadline = this.#timer.deadline;
    if (deadline !== undefined && now >= deadline && this.#flight !== undefined) {
      this.#transmitFlight();
      this.#timer.backOff(now);
    }
  }

  /**
   * Sends the current flight again now if it still awaits an answer, keeping its timer's
   * interval (as a resend the peer triggers does, RFC 6347 §4.2.4). For an owner that learns
   * the path just opened — ICE nominated it (RFC 8445 §7.3.1.5) — so a flight sent before was
   * likely dropped by a peer not yet listening; no need to wait out the timer. Else a no-op.
   */
  retransmitNow(now: number): void {
    if (this.#state !== 'handshaking' || this.#flight === undefined || this.#timer.deadline === undefined) return;
    this.#transmitFlight();
    this.#timer.rearm(now);
  }

  pollTransmit(): Buffer | undefined {
    return this.#transmits.shift();
  }

  pollEvent(): DtlsEvent | undefined {
    return this.#events.shift();
  }

  pollTimeout(): number | undefined {
    if (this.#state !== 'handshaking') return undefined;
    const a = this.#timer.deadline;
    const b = this.#handshakeDeadline;
    if (a === undefined) return b;
    if (b === undefined) return a;
    return Math.min(a, b);
  }

  /** Sends one application_data record (one datagram). Only once connected. */
  send(data: Buffer): void {
    if (this.#state !== 'connected') throw new DtlsError(DtlsCode.notConnected, `cannot send in state ${this.#state}`);
    if (data.length > MAX_PLAINTEXT)
      throw new DtlsError(DtlsCode.messageTooLarge, `application data of ${data.length} bytes exceeds ${MAX_PLAINTEXT}`);
    this.#transmits.push(this.#writeRecord(ContentType.applicationData, this.#writeEpoch, data));
  }

  /** Sends close_notify (RFC 5246 §7.2.1) and ends the association. Idempotent. */
  close(_now?: number): void {
    if (this.#state === 'closed' || this.#state === 'failed') return;
    if (this.#state !== 'new') this.#sendAlert(ALERT_WARNING, AlertDescription.closeNotify);
    this.#end('closed');
    this.#events.push({ type: 'closed' });
  }

  /** RFC 5705 keying material export (no context), from the extended master secret. */
  exportKeyingMaterial(label: string, length: number): Buffer {
    const s = this.#secrets;
    if (this.#state !== 'connected' || s === undefined)
      throw new DtlsError(DtlsCode.notConnected, 'keying material exists only once connected');
    if (RESERVED_LABELS.has(label)) throw new DtlsError(DtlsCode.invalidOptions, `exporter label '${label}' is reserved by TLS`);
    if (!Number.isInteger(length) || length < 1 || length > 65535)
      throw new DtlsError(DtlsCode.invalidOptions, 'export length must be 1..65535');
    return exportKeyingMaterial(this.#prf, s.masterSecret, s.clientRandom, s.serverRandom, label, length, s.suite.prfHash);
  }

  #makeHost(
    fixed: Pick<
      HandshakeHost,
      | 'certificate'
      | 'certificateKind'
      | 'remoteFingerprint'
      | 'rng'
      | 'x25519'
      | 'prf'
      | 'peerKeys'
      | 'signer'
      | 'srtpProfiles'
      | 'cookie'
      | 'cipherSuites'
    >,
  ): HandshakeHost {
    return {
      ...fixed,
      nextMessageSeq: () => this.#messageSeq++,
      setMessageSeq: (seq) => {
        this.#messageSeq = seq;
      },
      sendFlight: (entries, now, awaitReply) => this.#sendFlight(entries, now, awaitReply),
      sendHelloVerifyRequest: (entry, recordSeq) => {
        // Keep our own epoch-0 sequence numbers increasing past the echoed one.
        this.#writeSeq[0] = Math.max(this.#writeSeq[0], recordSeq);
        this.#transmits.push(...packFlight([entry], this.#mtu, (t, e, p) => this.#writeRecord(t, e, p, DTLS10)));
      },
      installKeys: (secrets) => this.#installKeys(secrets),
      connected: (profile, secrets) => this.#connected(profile, secrets),
    };
  }

  /** Runs `fn`; a DtlsError (or anything else) thrown in it fails the association. */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.#fail(err);
    }
  }

  #handleRecord(rec: DtlsRecord, now: number): void {
    const plaintext = this.#unprotect(rec);
    if (plaintext === undefined) return;
    switch (rec.type) {
      case ContentType.handshake:
        return this.#handleHandshakeRecord(plaintext, rec.epoch, rec.seq, now);
      case ContentType.alert:
        return this.#handleAlert(plaintext, rec.epoch);
      // Epoch 1 plaintext is the record cipher's output, a buffer of its own (not a view into the
      // datagram): handed on without a copy.
      case ContentType.applicationData:
        if (rec.epoch >= 1 && this.#state === 'connected') this.#events.push({ type: 'data', data: plaintext });
        // Reordered ahead of the peer's Finished: it authenticated under epoch 1 keys, but is only
        // delivered once that Finished verifies (and dropped if it never does).
        else if (rec.epoch >= 1 && this.#early.length < MAX_EARLY_RECORDS) this.#early.push(plaintext);
        else this.#dropped('data_before_connected');
        return;
      case ContentType.changeCipherSpec:
        // No action: epoch 1 keys are installed from the transcript, and a Finished is only
        // accepted when it came wholly in epoch 1 (checked by the handshake).
        return;
      default:
        this.#dropped('unknown_content_type');
        return;
    }
  }

  /** Counts a dropped record and tells the observer (RFC 6347 §4.1.2.7: never an error). */
  #dropped(reason: DtlsDropReason): void {
    this.#drops[reason]++;
    this.#onDrop?.(reason);
  }

  /** The record's plaintext, or undefined (counted) if it must be dropped. */
  #unprotect(rec: DtlsRecord): Buffer | undefined {
    const drop = (reason: DtlsDropReason): undefined => {
      this.#dropped(reason);
      return undefined;
    };
    if (rec.epoch === 0) {
      if (rec.version !== DTLS12 && rec.version !== DTLS10) return drop('bad_version');
      if (rec.fragment.length > MAX_PLAINTEXT) return drop('oversized');
      return rec.fragment;
    }
    // RFC 6347 §4.1: records of epochs we have no keys for are discarded.
    if (rec.epoch !== 1 || this.#readCipher === undefined) return drop('no_keys_for_epoch');
    if (rec.version !== DTLS12) return drop('bad_version');
    // RFC 6347 §4.1.2.6: check the window before decrypting, update it only after.
    const replay = (this.#replay ??= new ReplayWindow(64));
    if (replay.check(rec.seq) !== 'ok') return drop('replay');
    const plaintext = this.#readCipher.open(rec);
    if (plaintext === undefined) return drop('bad_record_mac');
    replay.commit(rec.seq);
    return plaintext;
  }

  #handleHandshakeRecord(plaintext: Buffer, epoch: number, recordSeq: number, now: number): void {
    let fragments: HandshakeFragment[];
    try {
      fragments = parseHandshakeFragments(plaintext);
    } catch {
      this.#dropped('malformed_handshake'); // RFC 6347 §4.1.2.7: dropped, not fatal.
      return;
    }
    for (const frag of fragments) {
      if (this.#handshake.awaitingFirstHello) {
        if (frag.msgType !== HandshakeType.clientHello || epoch !== 0) continue;
        if (frag.messageSeq !== this.#reassembler.nextSeq) this.#reassembler.restartAt(frag.messageSeq);
      }
      const result = this.#reassembler.add(frag, epoch, recordSeq);
      if (result === 'old') this.#onPeerRetransmission(frag.messageSeq, now);
      for (let msg = this.#reassembler.next(); msg !== undefined; msg = this.#reassembler.next()) {
        this.#handshake.onMessage(msg, now);
        if (this.#state !== 'handshaking' && this.#state !== 'connected') return;
      }
    }
  }

  /**
   * RFC 6347 §4.2.4: a message of the peer's previous flight means our answer to it was lost, so
   * we resend our current flight (once per burst, see PEER_RESEND_HOLDOFF_MS). Older messages — a
   * ClientHello after the handshake, say — are ignored: they never reset anything.
   */
  #onPeerRetransmission(seq: number, now: number): void {
    const [start, end] = this.#previousPeerFlight;
    if (seq < start || seq >= end || this.#flight === undefined) return;
    if (now - this.#lastPeerTriggeredResend < PEER_RESEND_HOLDOFF_MS) return;
    this.#lastPeerTriggeredResend = now;
    this.#transmitFlight();
    if (this.#timer.deadline !== undefined) this.#timer.rearm(now);
  }

  #handleAlert(plaintext: Buffer, epoch: number): void {
    if (plaintext.length < 2) return;
    // Once connected, an unprotected alert could come from anyone on the path: ignore it.
    if (epoch === 0 && this.#state === 'connected') {
      this.#dropped('unprotected_alert');
      return;
    }
    const level = plaintext[0];
    const description = plaintext[1];
    if (description === AlertDescription.closeNotify) {
      this.#sendAlert(ALERT_WARNING, AlertDescription.closeNotify);
      this.#end('closed');
      this.#events.push({ type: 'closed' });
    } else if (level === ALERT_FATAL) {
      this.#end('failed');
      this.#events.push({ type: 'failed', reason: { code: DtlsCode.peerAlert, message: `peer sent fatal alert ${description}` } });
    }
  }

  #sendFlight(entries: FlightEntry[], now: number, awaitReply: boolean): void {
    this.#previousPeerFlight = [this.#peerFlightStart, this.#reassembler.nextSeq];
    this.#peerFlightStart = this.#reassembler.nextSeq;
    this.#flight = entries;
    if (this.#state === 'new' && this.#prepared !== undefined) {
      // prepare(): the ClientHello waits for start(), which sends these and sets the timers.
      this.#prepared = packFlight(entries, this.#mtu, (t, e, p) => this.#writeRecord(t, e, p));
      return;
    }
    this.#handshakeDeadline ??= now + HANDSHAKE_BUDGET_MS;
    this.#transmitFlight();
    if (entries.some((e) => e.epoch > 0)) this.#writeEpoch = 1;
    if (awaitReply) this.#timer.restart(now);
    else this.#timer.stop();
  }

  #transmitFlight(): void {
    if (this.#flight === undefined) return;
    this.#transmits.push(...packFlight(this.#flight, this.#mtu, (t, e, p) => this.#writeRecord(t, e, p)));
  }

  #writeRecord(type: number, epoch: number, payload: Buffer, version = DTLS12): Buffer {
    const seq = this.#writeSeq[epoch]++;
    // RFC 6347 §4.1: sequence numbers must not wrap; we have no rekeying, so we stop.
    if (seq >= MAX_SEQ) throw new DtlsError(DtlsCode.internalError, 'record sequence numbers exhausted', AlertDescription.internalError);
    if (epoch === 0) return encodeRecord(type, version, 0, seq, payload);
    return this.#writeCipher!.seal(type, DTLS12, epoch, seq, payload);
  }

  #installKeys(secrets: SessionSecrets): void {
    const k = aeadKeyBlock(this.#prf, secrets.suite, secrets.masterSecret, secrets.clientRandom, secrets.serverRandom);
    const client = new AeadRecordCipher(secrets.suite, k.clientKey, k.clientIv, this.#recordAead);
    const server = new AeadRecordCipher(secrets.suite, k.serverKey, k.serverIv, this.#recordAead);
    this.#writeCipher = this.#role === 'client' ? client : server;
    this.#readCipher = this.#role === 'client' ? server : client;
  }

  #connected(profile: SrtpProfileName, secrets: SessionSecrets): void {
    if (this.#state !== 'handshaking') return;
    this.#secrets = secrets;
    this.#state = 'connected';
    this.#timer.stop();
    this.#handshakeDeadline = undefined;
    // The client's last flight needs no resending once the server's Finished arrived; the
    // server keeps its own, to resend when the client resends its Finished (RFC 6347 §4.2.4).
    if (this.#role === 'client') this.#flight = undefined;
    const keyingMaterial = this.exportKeyingMaterial('EXTRACTOR-dtls_srtp', srtpKeyingLength(profile));
    this.#events.push({ type: 'connected', srtpProfile: profile, keyingMaterial, cipherSuite: secrets.suite.name });
    for (const data of this.#early) this.#events.push({ type: 'data', data });
    this.#early = [];
  }

  #sendAlert(level: number, description: number): void {
    try {
      this.#transmits.push(this.#writeRecord(ContentType.alert, this.#writeEpoch, Buffer.from([level, description])));
    } catch {
      // Sequence numbers exhausted: there is no record left to say goodbye with.
    }
  }

  #fail(err: unknown): void {
    if (this.#state === 'failed' || this.#state === 'closed') return;
    const e =
      err instanceof DtlsError
        ? err
        : new DtlsError(DtlsCode.internalError, `internal error: ${String(err)}`, AlertDescription.internalError);
    if (e.alert !== undefined && this.#state !== 'new') this.#sendAlert(ALERT_FATAL, e.alert);
    this.#end('failed');
    this.#events.push({ type: 'failed', reason: { code: e.code, message: e.message } });
  }

  #end(state: 'failed' | 'closed'): void {
    this.#state = state;
    this.#timer.stop();
    this.#handshakeDeadline = undefined;
    this.#flight = undefined;
    this.#early = [];
  }
}
