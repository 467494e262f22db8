// ICE-lite for one session, server side (RFC 8445 §2.5, §7.3; consent freshness RFC 7675).
// Sans-IO: handle(packet, from, now) / handleTimeout(now) in; pollTransmit / pollEvent /
// pollTimeout out. It answers the peer's Binding Requests, keeps every address that sent a
// valid check as a valid pair, selects the pair the controlling peer nominates, and declares
// consent lost when checks stop. Its one request of its own — a Binding request back to each
// new address, so the peer nominates at once and the address proves it receives (isConfirmed)
// — is explained at #checkBack. Toward an address that has not proved it yet, it sends no more
// bytes than it received from it (./unconfirmed-budget.ts).
// Not here: sockets, the relay header, DTLS/SRTP, or any timer of its own (the shell arms one).
import { formatAddress, type TransportAddress } from '../address.ts';
import type { Rng } from '../rng.ts';
import {
  decodeMessageType,
  decodeStun,
  StunClass,
  StunDecodeError,
  StunErrorCodes,
  StunMethod,
  verifyFingerprint,
  verifyMessageIntegrity,
  type StunIntegrity,
} from '../stun/index.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from './binding-request.ts';
import { checkBindingRequest, type BindingRequestCredentials } from './binding-request-check.ts';
import { bindingError, bindingSuccess, bindingSuccessLength } from './binding-response.ts';
import { ICE_LITE_RESULTS, IceError, IceErrorCode, type IceCheckDropReason, type IceLiteCounter } from './errors.ts';
import type { IceLiteDump, IceLiteEvent, IceTransmit } from './ice-types.ts';
import { MAX_BUDGET_ADDRESSES, UnconfirmedBudget } from './unconfirmed-budget.ts';

export interface IceLiteAgentOptions {
  readonly localUfrag: string;
  readonly localPwd: string;
  /** When known (from the SDP offer), the sender part of USERNAME must equal it. */
  readonly remoteUfrag?: string;
  /** Signs our Binding requests back to the peer (#checkBack); without it none are sent. */
  readonly remotePwd?: string;
  /** Transaction ids and the tie-breaker of our requests back; without it none are sent. */
  readonly rng?: Rng;
  /** RFC 7675 §5.1: 30 s. */
  readonly consentTimeoutMs?: number;
  /** Told of every packet's result (the `stats` counters as they happen), for process metrics. */
  readonly onCheck?: (result: IceLiteCounter) => void;
  /** The HMAC-SHA1 of every MESSAGE-INTEGRITY it verifies and signs; default node:crypto's. */
  readonly integrity?: StunIntegrity;
}

const DROP_COUNTER: Record<IceCheckDropReason, IceLiteCounter> = {
  malformed: 'drop_malformed',
  indication: 'indication',
  response: 'drop_response',
  fingerprint: 'drop_fingerprint',
  method: 'drop_method',
};
const REJECT_COUNTER = { 400: 'stun_error_400', 401: 'stun_error_401', 420: 'stun_error_420' } as const satisfies Record<
  number,
  IceLiteCounter
>;

/** A session has a handful of remote addresses; the cap bounds what one credential holder can make us keep. */
const MAX_VALID_PAIRS = 16;
/**
 * At most this many Binding requests back per agent (one per new address, another to an
 * unconfirmed selected address when the last went unanswered): a peer that sends
 * valid checks from many addresses cannot make us send more than this, so the requests never
 * amplify (only an authenticated peer gets any, and each answers one of its own checks).
 */
export const MAX_CHECKS_BACK = 4;
/** A request back unanswered this long may be lost: the selected address's next valid check brings another. */
const CHECK_BACK_ANSWER_MS = 500;
/** STUN header: the transaction id is bytes 8..20 (RFC 8489 §5). */
const TID_START = 8;
const TID_END = 20;

/** Our answer to a check from an unconfirmed address, waiting for the address to confirm or pay; signed when it goes, or ahead by prepare(). */
interface HeldAnswer {
  readonly to: TransportAddress;
  readonly transactionId: Uint8Array;
  data: Buffer | undefined;
}

interface ValidPair {
  readonly remote: TransportAddress;
  lastCheckAt: number;
}

export class IceLiteAgent {
  readonly #localUfrag: string;
  readonly #localPwd: string;
  #remoteUfrag: string | undefined;
  #remotePwd: string | undefined;
  readonly #consentTimeoutMs: number;
  readonly #credentials: BindingRequestCredentials;
  readonly #transmits: IceTransmit[] = [];
  readonly #events: IceLiteEvent[] = [];
  readonly #valid = new Map<string, ValidPair>();
  #selected: TransportAddress | undefined;
  /** Whether the selection was nominated (USE-CANDIDATE) or is the provisional first valid pair. */
  #nominated = false;
  #lastConsentAt = 0;
  #consentLost = false;
  #closed = false;
  readonly #counters = Object.fromEntries(ICE_LITE_RESULTS.reasons.map((c) => [c, 0])) as Record<IceLiteCounter, number>;
  readonly #onCheck: ((result: IceLiteCounter) => void) | undefined;
  readonly #rng: Rng | undefined;
  readonly #integrity: StunIntegrity | undefined;
  #tieBreaker: bigint | undefined;
  /** Addresses our requests back went to, and how many requests went in all (≤ MAX_CHECKS_BACK). */
  readonly #checkedBack = new Set<string>();
  #sentBack = 0;
  /** Transaction ids (hex) of our requests back not yet answered (≤ MAX_CHECKS_BACK), to the address each went to. */
  readonly #pendingBack = new Map<string, { readonly to: string; readonly at: number }>();
  /** Addresses that answered a request back: they proved they receive what we send (issue #19). */
  readonly #confirmed = new Set<string>();
  /** What may still go to each address not yet confirmed: no more than came from it. */
  readonly #budget = new UnconfirmedBudget();
  /** USERNAME of the last valid check: a request back that waited for its budget is signed with its ufrags. */
  #lastUsername: string | undefined;
  /** Answers to checks from unconfirmed addresses that went after our request back (handle). */
  readonly #heldAnswers = new Map<string, HeldAnswer>();
  /** The next request back, built ahead by prepare() for the offer's credentials; used once, by a check naming them. */
  #prepared: { readonly ufrag: string; readonly pwd: string; readonly transactionId: Buffer; readonly request: Buffer } | undefined;

  constructor(opts: IceLiteAgentOptions) {
    if (!opts.localUfrag || !opts.localPwd) throw new IceError(IceErrorCode.invalidOptions, 'ICE-lite needs a local ufrag and password');
    this.#localUfrag = opts.localUfrag;
    this.#localPwd = opts.localPwd;
    this.#remoteUfrag = opts.remoteUfrag;
    this.#remotePwd = opts.remotePwd;
    this.#consentTimeoutMs = opts.consentTimeoutMs ?? 30_000;
    this.#onCheck = opts.onCheck;
    this.#rng = opts.rng;
    this.#integrity = opts.integrity;
    this.#credentials = { localPwd: opts.localPwd, usernameMatches: (u) => this.#usernameMatches(u), integrity: opts.integrity };
  }

  /**
   * Idle work (issue #18), between the answer and the first check and again between the first
   * check and its request's answer: builds the next request back (#checkBack) for the offer's
   * credentials — transaction id, tie-breaker, MESSAGE-INTEGRITY, FINGERPRINT — the first, then
   * the nudge #nudgeNomination sends (#wantsRequestBack), and signs the answers held for
   * unconfirmed addresses; so the first check's reply path only verifies the check and queues
   * the request, and the confirm only queues what was built. Sends nothing and
   * changes no rule: a request goes when #checkBack would send one, to a check whose USERNAME
   * names the same remote ufrag (signed with the same password); any other gets one built then.
   * Idempotent; a no-op when closed (requests: without the remote credentials or an rng, too).
   */
  prepare(): void {
    if (this.#closed) return;
    for (const held of this.#heldAnswers.values())
      held.data ??= bindingSuccess(held.transactionId, held.to, this.#localPwd, this.#integrity);
    const ufrag = this.#remoteUfrag;
    const pwd = this.#remotePwd;
    if (this.#prepared !== undefined || !this.#rng || ufrag === undefined || pwd === undefined || !this.#wantsRequestBack) return;
    this.#prepared = { ufrag, pwd, ...this.#buildRequest(this.#rng, ufrag, pwd) };
  }

  /** Whether prepare() has work: an unsigned held answer, or the next request back while one may still go to an unnominated selection. */
  get preparable(): boolean {
    if (this.#closed) return false;
    for (const held of this.#heldAnswers.values()) if (held.data === undefined) return true;
    return (
      this.#prepared === undefined &&
      this.#rng !== undefined &&
      this.#remoteUfrag !== undefined &&
      this.#remotePwd !== undefined &&
      this.#wantsRequestBack
    );
  }

  /**
   * The requests back a setup sends at once: the first (before any went), and the nudge while the
   * selected address is neither nominated nor confirmed (its answer confirms it and sends the nudge
   * when the peer has not nominated). Later ones (new addresses, lost requests) are built when due.
   */
  get #wantsRequestBack(): boolean {
    if (this.#consentLost) return false;
    if (this.#sentBack === 0) return true;
    const selected = this.#selected;
    return this.#sentBack === 1 && !this.#nominated && selected !== undefined && !this.#confirmed.has(formatAddress(selected));
  }

  /** Late remote credentials (e.g. the offer arrives after the first check). */
  setRemoteCredentials(ufrag: string, pwd?: string): void {
    this.#remoteUfrag = ufrag;
    this.#remotePwd = pwd;
  }

  /** The selected remote address: the nominated one, or before any nomination the first valid one. */
  get selected(): TransportAddress | undefined {
    return this.#selected;
  }

  /**
   * Whether `address` answered one of our requests back: it proved it receives what we send.
   * Issue #19 (reflection): a valid check proves only that its sender holds the credentials —
   * its source address may be forged — so nothing larger than our answers goes there before this.
   */
  isConfirmed(address: TransportAddress): boolean {
    return this.#confirmed.has(formatAddress(address));
  }

  /**
   * Issue #19: whether `bytes` of DTLS, RTP, RTCP or SCTP may go to `to` now — always once it is
   * confirmed (or when this agent cannot confirm at all); before that, only as far as what came
   * from it pays (and then it is charged). A nomination from a forged address thus gets the
   * victim no more than the attacker sent, whatever the session would send there.
   */
  mayReach(to: TransportAddress, bytes: number): boolean {
    if (!this.confirms) return true;
    const key = formatAddress(to);
    return this.#confirmed.has(key) || this.#budget.spend(key, bytes);
  }

  /**
   * `bytes` of the peer's DTLS or SRTP arrived from `from`. Like STUN, they pay for what may go
   * back before `from` is confirmed (media from an address that just changed — a NAT rebinding —
   * pays for media back at once), and a request back the budget held goes as soon as it is paid
   * for, instead of with the next check (seconds later, once checks are consent checks).
   */
  received(from: TransportAddress, bytes: number, now: number): void {
    if (this.#closed || !this.confirms) return;
    const key = formatAddress(from);
    if (this.#confirmed.has(key)) return;
    this.#budget.credit(key, bytes);
    this.#releaseAnswer(key);
    const selected = this.#selected;
    const username = this.#lastUsername;
    if (selected === undefined || username === undefined || formatAddress(selected) !== key || this.#awaitingAnswerFrom(key, now)) return;
    this.#checkBack(selected, key, username, now);
  }

  /**
   * `address` proved it receives by other means (the peer finished a DTLS handshake whose flights
   * went there): no budget limits it from now on. No event: the owner knows.
   */
  confirm(address: TransportAddress): void {
    const key = formatAddress(address);
    this.#confirmed.add(key);
    this.#budget.forget(key);
    this.#releaseAnswer(key);
  }

  /** Whether this agent can confirm addresses at all (it has the remote password and an rng to sign and number requests). */
  get confirms(): boolean {
    return this.#rng !== undefined && this.#remotePwd !== undefined;
  }

  get consentLost(): boolean {
    return this.#consentLost;
  }

  /** Counters by result (ICE_LITE_RESULTS); a snapshot. */
  get stats(): Readonly<Record<IceLiteCounter, number>> {
    return { ...this.#counters };
  }

  /**
   * One packet from `from` (the client's real address, from the relay header). STUN only.
   * Returns true when it was a valid check, answered with a Binding Success: proof that `from`
   * holds the credentials, which a caller may act on (a path to follow) without diffing counters.
   */
  handle(packet: Buffer, from: TransportAddress, now: number): boolean {
    if (this.#closed) return false;
    // Expire first: a check arriving after the deadline must not revive lost consent.
    this.handleTimeout(now);
    const key = formatAddress(from);
    // Issue #19: whatever arrives from an unconfirmed address pays for what may go back to it.
    if (!this.#confirmed.has(key)) this.#budget.credit(key, packet.length);
    const v = checkBindingRequest(packet, this.#credentials);
    if (v.kind === 'drop') {
      this.#count(v.reason === 'response' ? this.#onResponse(packet, from, key, now) : DROP_COUNTER[v.reason]);
      return false;
    }
    if (v.kind === 'reject') {
      this.#count(REJECT_COUNTER[v.code]);
      this.#send(from, key, v.response);
      return false;
    }
    const m = v.message;
    const tid = m.transactionId;
    // RFC 8445 §7.3.1.1: we are controlled (a lite agent always is against a full peer, §6.1.1)
    // and so is a peer sending ICE-CONTROLLED. The rule lets the controlled side with the
    // larger tie-breaker become controlling, but a lite agent cannot run checks as a
    // controlling agent, so the answer is always 487 and the full peer switches (§7.2.5.1).
    if (m.iceControlled !== undefined) {
      this.#count('stun_error_487');
      this.#send(from, key, bindingError(tid, StunErrorCodes.RoleConflict, this.#localPwd, undefined, this.#integrity));
      return false;
    }

    this.#count('answered');
    this.#lastUsername = m.username;
    this.#onValidCheck(from, m.useCandidate, now);
    if (this.#confirmed.has(key)) {
      this.#send(from, key, bindingSuccess(tid, from, this.#localPwd, this.#integrity));
      return true;
    }
    // An address not yet confirmed gets a request back — every new address, nominating check or
    // not, and the selected one again while it is unconfirmed and the last went unanswered: its
    // answer proves the address receives, which DTLS waits for (isConfirmed). The request goes
    // FIRST: one check pays for it (≤ 1×) but not for it and our answer together, and a peer
    // that nominates on its first check (Firefox toward a lite agent) sends nothing more until
    // its consent check seconds later. Our answer then goes when the address is confirmed, one
    // round trip on, or as soon as bytes from it pay (a retransmitted check). A check that
    // cannot pay for the request gets its answer at once, and the request goes with a later one.
    if (!this.#awaitingAnswerFrom(key, now)) {
      const selected = this.#selected !== undefined && formatAddress(this.#selected) === key;
      if (!this.#checkedBack.has(key) || selected) this.#checkBack(from, key, m.username!, now);
    }
    this.#releaseAnswer(key);
    // Issue #18: an answer that must wait is signed only when it goes (or in idle time, prepare()),
    // so the request back queued above leaves without waiting for its MESSAGE-INTEGRITY.
    if (this.#budget.spend(key, bindingSuccessLength(from)))
      this.#transmits.push({ to: from, data: bindingSuccess(tid, from, this.#localPwd, this.#integrity) });
    else {
      this.#count('held_by_budget');
      this.#holdAnswer(key, { to: from, transactionId: tid, data: undefined });
    }
    return true;
  }

  /** An answer the budget could not pay: it goes when `key` is confirmed or pays (one per address, the newest; MAX_BUDGET_ADDRESSES addresses). */
  #holdAnswer(key: string, held: HeldAnswer): void {
    if (this.#heldAnswers.size >= MAX_BUDGET_ADDRESSES) this.#heldAnswers.delete(this.#heldAnswers.keys().next().value!);
    this.#heldAnswers.set(key, held);
  }

  /** The held answer to `key`, if it may go now (confirmed, or its budget pays). */
  #releaseAnswer(key: string): void {
    const held = this.#heldAnswers.get(key);
    if (held === undefined) return;
    if (this.#confirmed.has(key) || this.#budget.spend(key, held.data?.length ?? bindingSuccessLength(held.to))) {
      this.#heldAnswers.delete(key);
      this.#transmits.push({
        to: held.to,
        data: held.data ?? bindingSuccess(held.transactionId, held.to, this.#localPwd, this.#integrity),
      });
    }
  }

  /** Processes expiry at `now`. Idempotent; call whenever now ≥ pollTimeout(). */
  handleTimeout(now: number): void {
    if (this.#closed || this.#consentLost || !this.#selected) return;
    if (now >= this.#lastConsentAt + this.#consentTimeoutMs) {
      this.#consentLost = true;
      this.#events.push({ type: 'consent_lost' });
    }
  }

  /** Absolute time (same clock as `now`) of the next deadline, or undefined when none. */
  pollTimeout(): number | undefined {
    if (this.#closed || this.#consentLost || !this.#selected) return undefined;
    return this.#lastConsentAt + this.#consentTimeoutMs;
  }

  pollTransmit(): IceTransmit | undefined {
    return this.#transmits.shift();
  }

  pollEvent(): IceLiteEvent | undefined {
    return this.#events.shift();
  }

  /** State for tests and operations (mediasoup-style dump). No secrets. */
  dump(): IceLiteDump {
    return {
      localUfrag: this.#localUfrag,
      remoteUfrag: this.#remoteUfrag,
      hasRemotePwd: this.#remotePwd !== undefined,
      selected: this.#selected && formatAddress(this.#selected),
      nominated: this.#nominated,
      validPairs: [...this.#valid.values()].map((p) => ({ remote: formatAddress(p.remote), lastCheckAt: p.lastCheckAt })),
      checksBack: this.#sentBack,
      lastConsentAt: this.#lastConsentAt,
      consentLost: this.#consentLost,
      closed: this.#closed,
      stats: this.stats,
    };
  }

  /** Idempotent. Drops queued output; later input is ignored. */
  close(): void {
    this.#closed = true;
    this.#transmits.length = 0;
    this.#heldAnswers.clear();
    this.#prepared = undefined;
  }

  /** RFC 8445 §7.2.2: USERNAME is "<our ufrag>:<their ufrag>". */
  #usernameMatches(username: string): boolean {
    const colon = username.indexOf(':');
    if (colon < 0 || username.slice(0, colon) !== this.#localUfrag) return false;
    const theirs = username.slice(colon + 1);
    if (theirs.length === 0) return false;
    return this.#remoteUfrag === undefined || theirs === this.#remoteUfrag;
  }

  #onValidCheck(from: TransportAddress, useCandidate: boolean, now: number): void {
    const key = formatAddress(from);
    const pair = this.#valid.get(key);
    if (pair) pair.lastCheckAt = now;
    else {
      if (this.#valid.size >= MAX_VALID_PAIRS) this.#evictOldestUnselected();
      this.#valid.set(key, { remote: from, lastCheckAt: now });
    }
    if (this.#consentLost) return; // RFC 7675 §5.1: lost consent is not regained by later checks.
    // RFC 8445 §7.3.1.5: a controlled agent selects the pair on which it receives a valid
    // nominating check; a different nominated address replaces the selection (NAT rebinding,
    // relay failover). Before any nomination, the first valid check selects its pair
    // provisionally (as mediasoup does): a lite agent's peer has already proved the path works,
    // so DTLS can start one round trip sooner instead of waiting for the nominating check —
    // Chromium sends that only with its next check, up to seconds later. A nomination of
    // another address then moves the selection.
    const prev = this.#selected;
    if (!prev) {
      this.#selected = from;
      this.#nominated = useCandidate;
      this.#events.push({ type: 'selected', address: from });
    } else if (useCandidate) {
      if (formatAddress(prev) !== key) {
        this.#selected = from;
        this.#events.push({ type: 'selected-changed', from: prev, to: from });
      } else if (!this.#nominated) {
        // The provisional selection is now the peer's choice too: its DTLS starts listening.
        this.#events.push({ type: 'nominated', address: from });
      }
      this.#nominated = true;
    }
    // RFC 7675 §5.1: consent is refreshed by each valid check on the selected pair.
    if (this.#selected && formatAddress(this.#selected) === key) this.#lastConsentAt = now;
  }

  /**
   * One Binding request back to `to`, after the answer to its first valid check. RFC 8445 §2.5
   * says a lite agent sends no checks; we deviate as Pion's lite agent does, because a
   * controlling agent that nominates on a triggered check (RFC 8445 §7.3.1.4 — Pion) then
   * sends its nominating check at once instead of on its next pacing tick (~200 ms later).
   * A full peer answers it like any check; its role attributes agree with ours (we are
   * controlled), so it causes no role conflict. Only addresses that proved the credentials get
   * one (again only to the unconfirmed selected address), MAX_CHECKS_BACK per agent. Its answer
   * confirms the address (#isAnswerToUs; docs/stun-ice.md); a lite agent's valid pairs still come
   * from the peer's checks, not from ours.
   */
  #checkBack(to: TransportAddress, key: string, username: string, now: number): void {
    const rng = this.#rng;
    const pwd = this.#remotePwd;
    if (!rng || pwd === undefined || this.#consentLost || this.#sentBack >= MAX_CHECKS_BACK) return;
    // RFC 8445 §7.2.2: USERNAME "<their ufrag>:<our ufrag>" — theirs as their check named it.
    const theirUfrag = username.slice(username.indexOf(':') + 1);
    const p = this.#prepared;
    const usePrepared = p !== undefined && p.ufrag === theirUfrag && p.pwd === pwd;
    const { transactionId, request } = usePrepared ? p : this.#buildRequest(rng, theirUfrag, pwd);
    // Our answer and this request are larger together than the check that paid for them: on
    // the first check only the answer fits, and the request goes with the peer's next check.
    if (!this.#send(to, key, request)) return;
    if (usePrepared) this.#prepared = undefined;
    this.#checkedBack.add(key);
    this.#sentBack++;
    this.#pendingBack.set(transactionId.toString('hex'), { to: key, at: now });
  }

  /** A request back signed for `theirUfrag` / `pwd`, with a fresh transaction id (and our tie-breaker, made once). */
  #buildRequest(rng: Rng, theirUfrag: string, pwd: string): { transactionId: Buffer; request: Buffer } {
    this.#tieBreaker ??= rng.bytes(8).readBigUInt64BE(0);
    const transactionId = rng.bytes(12);
    const request = connectivityCheck({
      transactionId,
      localUfrag: this.#localUfrag,
      remoteUfrag: theirUfrag,
      remotePwd: pwd,
      priority: PEER_REFLEXIVE_PRIORITY,
      role: { controlling: false, tieBreaker: this.#tieBreaker },
      integrity: this.#integrity,
    });
    return { transactionId, request };
  }

  /**
   * A Binding response (success or error): an answer to one of our requests back, which it
   * consumes, or a drop. A Binding success from the address the request went to confirms that
   * address: only a receiver there saw the request's 96-bit random transaction id (RFC 8489
   * §6.3.3 makes the id the match), and only the peer holds the password its MESSAGE-INTEGRITY
   * must verify with (RFC 8445 §7.2.5.2: the answer is signed with the password the request
   * was). RFC 8489 §9.1.4: an answer whose FINGERPRINT or MESSAGE-INTEGRITY fails is discarded
   * as if never received — the request stays pending, so a forged answer cannot spend it.
   */
  #onResponse(packet: Buffer, from: TransportAddress, key: string, now: number): IceLiteCounter {
    if (this.#pendingBack.size === 0 || decodeMessageType(packet.readUInt16BE(0)).method !== StunMethod.Binding) return 'drop_response';
    const tid = packet.toString('hex', TID_START, TID_END);
    const pending = this.#pendingBack.get(tid);
    if (pending === undefined || this.#remotePwd === undefined) return 'drop_response';
    const m = decodeStun(packet);
    if (m instanceof StunDecodeError || !verifyFingerprint(packet)) return 'drop_answer_integrity';
    const signed = m.integrityOffset >= 0;
    const success = m.class === StunClass.SuccessResponse;
    // A success must be signed; an error (400/401 to input the peer could not authenticate) need not be (§9.1.3).
    if ((success && !signed) || (signed && !verifyMessageIntegrity(packet, this.#remotePwd, this.#integrity)))
      return 'drop_answer_integrity';
    this.#pendingBack.delete(tid);
    if (success && pending.to === key && !this.#confirmed.has(key)) {
      this.#confirmed.add(key);
      this.#budget.forget(key);
      this.#releaseAnswer(key);
      this.#events.push({ type: 'confirmed', address: from });
      this.#nudgeNomination(from, key, now);
    }
    return 'response_to_our_check';
  }

  /**
   * Right after the held answer to the peer's check, one more request back, while the selected
   * pair is not nominated yet. Our first request went before that answer (issue #19), so it
   * reached the peer while its check was still unanswered: a controlling agent that nominates on
   * a triggered check only once its own check has succeeded (Pion: controllingSelector.
   * HandleBindingRequest wants the pair in state succeeded) answers it and nominates on its next
   * pacing tick, ~200 ms later. This request arrives after the answer (same path, sent in order),
   * so such a peer nominates at once — what Pion's own lite agent gets by answering first. The
   * address is confirmed, so no budget applies; a peer that already nominated (Firefox, Chromium
   * on their first check) gets none. Counted in MAX_CHECKS_BACK like every request back.
   */
  #nudgeNomination(to: TransportAddress, key: string, now: number): void {
    const username = this.#lastUsername;
    if (this.#nominated || username === undefined || this.#selected === undefined || formatAddress(this.#selected) !== key) return;
    this.#checkBack(to, key, username, now);
  }

  /** A request back to `key` that may still be answered (younger than CHECK_BACK_ANSWER_MS). */
  #awaitingAnswerFrom(key: string, now: number): boolean {
    for (const p of this.#pendingBack.values()) if (p.to === key && now - p.at < CHECK_BACK_ANSWER_MS) return true;
    return false;
  }

  #evictOldestUnselected(): void {
    const selectedKey = this.#selected && formatAddress(this.#selected);
    let oldest: string | undefined;
    let oldestAt = Infinity;
    for (const [k, p] of this.#valid) {
      if (k !== selectedKey && p.lastCheckAt < oldestAt) {
        oldest = k;
        oldestAt = p.lastCheckAt;
      }
    }
    if (oldest !== undefined) this.#valid.delete(oldest);
  }

  /** Queues `data` for `to` (whose formatAddress is `key`), unless `to` is unconfirmed and its budget cannot pay; false then. */
  #send(to: TransportAddress, key: string, data: Buffer): boolean {
    if (!this.#confirmed.has(key) && !this.#budget.spend(key, data.length)) {
      this.#count('held_by_budget');
      return false;
    }
    this.#transmits.push({ to, data });
    return true;
  }

  #count(c: IceLiteCounter): void {
    this.#counters[c]++;
    this.#onCheck?.(c);
  }
}
