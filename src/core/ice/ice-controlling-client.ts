// A small controlling ICE agent with one local and one remote candidate (RFC 8445 §7.2, §8.1;
// RFC 7675 consent), for the `parley call` client, load tests and end-to-end tests against
// IceLiteAgent. Sans-IO: start(now) / handle(packet, from, now) / handleTimeout(now) in;
// pollTransmit / pollEvent / pollTimeout out. It checks the pair, nominates it with
// USE-CANDIDATE (regular nomination, §8.1.1), then sends consent checks every 4-6 s. It answers
// the peer's own checks (§7.3: every agent must): a lite peer should send none (§2.5), but some
// do — Pion's ICE-lite checks back and starts DTLS only once its check succeeds.
// Not here: candidate gathering, multiple pairs, ICE restart, switching to the controlled role,
// or sockets — a port change is the I/O shell's business.
import { formatAddress, type TransportAddress } from '../address.ts';
import type { Rng } from '../rng.ts';
import { classify } from '../demux.ts';
import {
  decodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  StunDecodeError,
  StunClass,
  StunMethod,
  StunErrorCodes,
} from '../stun/index.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from './binding-request.ts';
import { checkBindingRequest, type BindingRequestCredentials } from './binding-request-check.ts';
import { bindingError, bindingSuccess } from './binding-response.ts';
import { ICE_CLIENT_RESULTS, IceError, IceErrorCode, type IceClientCounter } from './errors.ts';
import type { IceClientEvent, IceTransmit } from './ice-types.ts';

export interface IceControllingClientOptions {
  readonly localUfrag: string;
  readonly localPwd: string;
  readonly remoteUfrag: string;
  readonly remotePwd: string;
  /** The lite agent's candidate (the relay's public address, from the SDP answer). */
  readonly remote: TransportAddress;
  /** Tie-breaker, transaction ids, consent jitter. */
  readonly rng: Rng;
  /** RFC 8489 §6.2.1 initial RTO; 100 ms suits the short paths WebRTC checks run on. */
  readonly rtoMs?: number;
  /** RFC 8489 §6.2.1 Rc (transmissions per transaction), default 7. */
  readonly maxTransmissions?: number;
  /** RFC 7675 §5.1: 30 s. */
  readonly consentTimeoutMs?: number;
  /** RFC 7675 §5.1: base consent interval, jittered to 0.8-1.2×; default 5000. */
  readonly consentIntervalMs?: number;
  /** PRIORITY to send; default: our source as a peer-reflexive candidate (RFC 8445 §7.2.2). */
  readonly priority?: number;
}

type Purpose = 'check' | 'nominate' | 'consent';

export interface IceClientDump {
  readonly state: IceClientState;
  readonly remote: string;
  readonly mapped: string | undefined;
  readonly outstanding: ReadonlyArray<{ readonly purpose: Purpose; readonly transmissions: number; readonly nextAt: number }>;
  readonly lastResponseAt: number;
  readonly nextConsentAt: number;
  readonly stats: Readonly<Record<IceClientCounter, number>>;
}

export type IceClientState = 'idle' | 'checking' | 'nominating' | 'connected' | 'failed' | 'consent_lost' | 'closed';

interface Transaction {
  readonly purpose: Purpose;
  readonly data: Buffer;
  transmissions: number;
  rto: number;
  /** Next retransmission, or the give-up time after the last transmission. */
  nextAt: number;
}

/** RFC 8489 §6.2.1: after the last transmission, wait Rm × RTO before giving up. */
const RM = 16;

export class IceControllingClient {
  readonly #o: Required<Omit<IceControllingClientOptions, 'rng' | 'remote'>>;
  readonly #remote: TransportAddress;
  readonly #remoteKey: string;
  readonly #rng: Rng;
  readonly #tieBreaker: bigint;
  readonly #transactions = new Map<string, Transaction>();
  readonly #transmits: IceTransmit[] = [];
  readonly #events: IceClientEvent[] = [];
  readonly #counters = Object.fromEntries(ICE_CLIENT_RESULTS.reasons.map((c) => [c, 0])) as Record<IceClientCounter, number>;
  readonly #credentials: BindingRequestCredentials;
  #phase: IceClientState = 'idle';
  #mapped: TransportAddress | undefined;
  #lastResponseAt = 0;
  #nextConsentAt = 0;

  constructor(opts: IceControllingClientOptions) {
    this.#o = {
      localUfrag: opts.localUfrag,
      localPwd: opts.localPwd,
      remoteUfrag: opts.remoteUfrag,
      remotePwd: opts.remotePwd,
      rtoMs: opts.rtoMs ?? 100,
      maxTransmissions: opts.maxTransmissions ?? 7,
      consentTimeoutMs: opts.consentTimeoutMs ?? 30_000,
      consentIntervalMs: opts.consentIntervalMs ?? 5000,
      priority: opts.priority ?? PEER_REFLEXIVE_PRIORITY,
    };
    if (this.#o.maxTransmissions < 1 || this.#o.rtoMs <= 0)
      throw new IceError(IceErrorCode.invalidOptions, 'need at least one transmission and a positive RTO');
    this.#remote = opts.remote;
    this.#remoteKey = formatAddress(opts.remote);
    this.#rng = opts.rng;
    // RFC 8445 §7.1.3 / §16.1: a 64-bit random tie-breaker, fixed for the session.
    this.#tieBreaker = this.#rng.bytes(8).readBigUInt64BE(0);
    // The peer's checks carry USERNAME "<our ufrag>:<their ufrag>", signed with our password.
    const username = `${opts.localUfrag}:${opts.remoteUfrag}`;
    this.#credentials = { localPwd: opts.localPwd, usernameMatches: (u) => u === username };
  }

  get tieBreaker(): bigint {
    return this.#tieBreaker;
  }

  get state(): IceClientState {
    return this.#phase;
  }

  /** Our address as the lite agent saw it (XOR-MAPPED-ADDRESS of the last success). */
  get mappedAddress(): TransportAddress | undefined {
    return this.#mapped;
  }

  /** When the last authenticated success arrived (connected: consent; 0 before). */
  get lastResponseAt(): number {
    return this.#lastResponseAt;
  }

  get stats(): Readonly<Record<IceClientCounter, number>> {
    return { ...this.#counters };
  }

  /** Sends the first check. Idempotent. */
  start(now: number): void {
    if (this.#phase !== 'idle') return;
    this.#phase = 'checking';
    this.#begin('check', now);
  }

  handle(packet: Buffer, from: TransportAddress, now: number): void {
    if (this.#phase === 'idle' || this.#isOver()) return;
    this.handleTimeout(now);
    if (this.#isOver()) return;
    if (packet.length === 0 || classify(packet[0]) !== 'stun') return this.#count('drop_malformed');
    const m = decodeStun(packet);
    if ((m instanceof StunDecodeError ? m.header?.class : m.class) === StunClass.Request) return this.#answer(packet, from);
    if (m instanceof StunDecodeError || m.method !== StunMethod.Binding) return this.#count('drop_malformed');
    if (m.class !== StunClass.SuccessResponse && m.class !== StunClass.ErrorResponse) return this.#count('drop_malformed');
    const key = m.transactionId.toString('hex');
    const tx = this.#transactions.get(key);
    if (!tx) return this.#count('drop_unknown_transaction');
    // RFC 8445 §7.2.5.2.1: the response must come from where the check went (symmetric).
    if (formatAddress(from) !== this.#remoteKey) return this.#count('drop_asymmetric');
    if (!verifyFingerprint(packet)) return this.#count('drop_fingerprint');
    // RFC 8489 §9.1.4: a response whose MESSAGE-INTEGRITY fails is discarded as if never
    // received (the transaction keeps retransmitting). A success must be signed; a 400/401
    // answering unauthenticated input legitimately is not (§9.1.3).
    const signed = m.integrityOffset >= 0;
    if ((m.class === StunClass.SuccessResponse && !signed) || (signed && !verifyMessageIntegrity(packet, this.#o.remotePwd))) {
      return this.#count('drop_integrity');
    }
    this.#transactions.delete(key);
    if (m.class === StunClass.ErrorResponse) {
      // Before connecting, a refused check fails the only pair (RFC 8445 §7.2.5). A 487 cannot be
      // resolved by switching role against a lite peer, which is always controlled (§6.1.1).
      // After connecting, consent simply runs out if refusals continue.
      if (this.#phase === 'checking' || this.#phase === 'nominating')
        this.#fail(IceErrorCode.checkRefused, `error ${m.errorCode?.code ?? 'without ERROR-CODE'}`);
      return;
    }
    this.#mapped = m.xorMappedAddress ?? this.#mapped;
    if (tx.purpose === 'check' && this.#phase === 'checking') {
      // §8.1.1 regular nomination: repeat the successful check with USE-CANDIDATE.
      this.#phase = 'nominating';
      this.#begin('nominate', now);
    } else if (tx.purpose === 'nominate' && this.#phase === 'nominating') {
      this.#phase = 'connected';
      this.#lastResponseAt = now;
      this.#nextConsentAt = now + this.#consentInterval();
      this.#events.push({ type: 'connected', mappedAddress: this.#mapped });
    } else if (this.#phase === 'connected') {
      // RFC 7675 §5.1: any authenticated success on the pair renews consent.
      this.#lastResponseAt = now;
    }
  }

  /** RFC 8445 §7.3: the peer's check is validated as any agent does, then answered. It changes no state of ours. */
  #answer(packet: Buffer, from: TransportAddress): void {
    const v = checkBindingRequest(packet, this.#credentials);
    if (v.kind === 'drop') return this.#count('drop_request');
    if (v.kind === 'reject') {
      this.#count('request_refused');
      return void this.#transmits.push({ to: from, data: v.response });
    }
    const m = v.message;
    // RFC 8445 §7.3.1.1: a peer that is controlling too. The rule has the agent with the
    // smaller tie-breaker switch to controlled; this agent runs controlling only, so it always
    // answers 487 (the peer, if it can, switches). A lite peer is controlled (§6.1.1): only a
    // misconfigured peer gets here.
    if (m.iceControlling !== undefined) {
      this.#count('stun_error_487');
      return void this.#transmits.push({ to: from, data: bindingError(m.transactionId, StunErrorCodes.RoleConflict, this.#o.localPwd) });
    }
    this.#count('answered');
    this.#transmits.push({ to: from, data: bindingSuccess(m.transactionId, from, this.#o.localPwd) });
  }

  handleTimeout(now: number): void {
    if (this.#phase === 'idle' || this.#isOver()) return;
    if (this.#phase === 'connected') {
      if (now >= this.#lastResponseAt + this.#o.consentTimeoutMs) {
        this.#phase = 'consent_lost';
        this.#transactions.clear();
        this.#events.push({ type: 'consent_lost' });
        return;
      }
      if (now >= this.#nextConsentAt) {
        this.#begin('consent', now);
        this.#nextConsentAt = now + this.#consentInterval();
      }
    }
    for (const [key, tx] of this.#transactions) {
      if (now < tx.nextAt) continue;
      if (tx.transmissions < this.#o.maxTransmissions) {
        this.#transmit(tx, now);
        this.#count('retransmits');
        continue;
      }
      this.#transactions.delete(key);
      if (tx.purpose !== 'consent' && this.#phase !== 'connected') return this.#fail(IceErrorCode.checkTimeout, 'timeout');
    }
  }

  pollTimeout(): number | undefined {
    if (this.#phase === 'idle' || this.#isOver()) return undefined;
    let t = Infinity;
    for (const tx of this.#transactions.values()) t = Math.min(t, tx.nextAt);
    if (this.#phase === 'connected') t = Math.min(t, this.#nextConsentAt, this.#lastResponseAt + this.#o.consentTimeoutMs);
    return t === Infinity ? undefined : t;
  }

  pollTransmit(): IceTransmit | undefined {
    return this.#transmits.shift();
  }

  pollEvent(): IceClientEvent | undefined {
    return this.#events.shift();
  }

  /** State for tests and operations; holds no secrets. */
  dump(): IceClientDump {
    return {
      state: this.#phase,
      remote: this.#remoteKey,
      mapped: this.#mapped && formatAddress(this.#mapped),
      outstanding: [...this.#transactions.values()].map((t) => ({ purpose: t.purpose, transmissions: t.transmissions, nextAt: t.nextAt })),
      lastResponseAt: this.#lastResponseAt,
      nextConsentAt: this.#nextConsentAt,
      stats: this.stats,
    };
  }

  /** Idempotent: stops all transactions and output. */
  close(): void {
    this.#phase = 'closed';
    this.#transactions.clear();
    this.#transmits.length = 0;
  }

  #isOver(): boolean {
    return this.#phase === 'failed' || this.#phase === 'consent_lost' || this.#phase === 'closed';
  }

  #begin(purpose: Purpose, now: number): void {
    const transactionId = this.#rng.bytes(12);
    const data = connectivityCheck({
      transactionId,
      localUfrag: this.#o.localUfrag,
      remoteUfrag: this.#o.remoteUfrag,
      remotePwd: this.#o.remotePwd,
      priority: this.#o.priority,
      role: { controlling: true, tieBreaker: this.#tieBreaker },
      // Consent checks keep USE-CANDIDATE: the lite agent moves its selection only on a
      // nomination (RFC 8445 §7.3.1.5), so after our NAT mapping changes the next consent
      // check is what moves it. Re-nominating the pair already selected changes nothing.
      useCandidate: purpose !== 'check',
    });
    const tx: Transaction = { purpose, data, transmissions: 0, rto: this.#o.rtoMs, nextAt: now };
    this.#transactions.set(transactionId.toString('hex'), tx);
    this.#transmit(tx, now);
  }

  /** RFC 8489 §6.2.1: RTO doubles per retransmission; after the Rc-th, wait Rm × initial RTO. */
  #transmit(tx: Transaction, now: number): void {
    this.#transmits.push({ to: this.#remote, data: tx.data });
    tx.transmissions++;
    if (tx.transmissions < this.#o.maxTransmissions) {
      tx.nextAt = now + tx.rto;
      tx.rto *= 2;
    } else {
      tx.nextAt = now + RM * this.#o.rtoMs;
    }
  }

  /** RFC 7675 §5.1: the base interval × a uniform factor in [0.8, 1.2]. */
  #consentInterval(): number {
    const u = this.#rng.bytes(4).readUInt32BE(0) / 0xffffffff;
    return Math.round(this.#o.consentIntervalMs * (0.8 + 0.4 * u));
  }

  #fail(code: IceErrorCode, reason: string): void {
    this.#phase = 'failed';
    this.#transactions.clear();
    this.#events.push({ type: 'failed', code, reason });
  }

  #count(c: IceClientCounter): void {
    this.#counters[c]++;
  }
}
