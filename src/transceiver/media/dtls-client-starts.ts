// The transceiver's pool of DTLS client starts made ahead (issue #18): a call in which we are the
// DTLS client (the offer's a=setup:actpass or passive) takes one when the media endpoint prepares it
// (Session.prepare, after the answer), so what is left to do between the answer and the client's
// first check is the request back and the endpoint object, not the ClientHello and an X25519 key
// share (0.1–1 ms of the first check's wait before, docs/performance.md "setup6", "post"). A few
// starts at most (CLIENT_START_POOL_SIZE), each taken once (DtlsClientStart spends itself) and
// dropped unused once CLIENT_START_MAX_AGE_MS old: its random and ephemeral key are a handshake's
// own and are not kept around. Refilled one start per event-loop turn, when the endpoint asks
// (refill(): after a call's setup is over, never on a packet's path) and when the oldest start
// ages out (one timer, on the injected Clock). Not here: the start itself (src/core/dtls/client-start.ts),
// when to refill (media/endpoint.ts).
import { DtlsClientStart } from '../../core/dtls/index.ts';
import type { ClientStartOptions, DtlsClientStarts } from '../../core/dtls/index.ts';
import type { Clock, Timer } from '../../common/clock.ts';

/** Two: a call takes one, and the next call that comes before its refill another. */
export const CLIENT_START_POOL_SIZE = 2;
/** A start older than this is dropped, not used: its key share and random are fresh per call. */
export const CLIENT_START_MAX_AGE_MS = 10_000;

export interface DtlsClientStartPoolOptions extends ClientStartOptions {
  readonly clock: Clock;
  /** Default CLIENT_START_POOL_SIZE. */
  readonly size?: number;
  /** Default CLIENT_START_MAX_AGE_MS. */
  readonly maxAgeMs?: number;
}

export class DtlsClientStartPool implements DtlsClientStarts {
  readonly #o: ClientStartOptions;
  readonly #clock: Clock;
  readonly #size: number;
  readonly #maxAgeMs: number;
  /** Oldest first. */
  readonly #starts: DtlsClientStart[] = [];
  /** A refill turn is scheduled (setImmediate). */
  #refilling = false;
  /** Fires when the oldest start ages out. */
  #expiry: Timer | undefined;
  #closed = false;

  constructor(o: DtlsClientStartPoolOptions) {
    this.#o = { rng: o.rng, x25519: o.x25519, cipherSuites: o.cipherSuites, srtpProfiles: o.srtpProfiles };
    this.#clock = o.clock;
    this.#size = Math.max(0, Math.floor(o.size ?? CLIENT_START_POOL_SIZE));
    this.#maxAgeMs = o.maxAgeMs ?? CLIENT_START_MAX_AGE_MS;
  }

  /** Starts held now. */
  get size(): number {
    return this.#starts.length;
  }

  /** The oldest start not past its age, removed from the pool (used once); undefined when none. Does not refill (refill()). */
  take(now: number): DtlsClientStart | undefined {
    this.#dropAged(now);
    const start = this.#starts.shift();
    this.#armExpiry();
    return start;
  }

  /** Makes starts until the pool is full, one per event-loop turn from the next one on. No-op once closed, full or already refilling. */
  refill(): void {
    if (this.#closed || this.#refilling || this.#starts.length >= this.#size) return;
    this.#refilling = true;
    setImmediate(this.#refillTurn);
  }

  /** Drops every start and stops refilling. Idempotent. */
  close(): void {
    this.#closed = true;
    this.#expiry?.cancel();
    this.#expiry = undefined;
    for (const s of this.#starts.splice(0)) s.drop();
  }

  readonly #refillTurn = (): void => {
    this.#refilling = false;
    if (this.#closed) return;
    const now = this.#clock.now();
    this.#dropAged(now);
    if (this.#starts.length < this.#size) this.#starts.push(new DtlsClientStart(this.#o, now));
    this.#armExpiry();
    this.refill();
  };

  #dropAged(now: number): void {
    while (this.#starts.length > 0 && now - this.#starts[0].madeAt >= this.#maxAgeMs) this.#starts.shift()!.drop();
  }

  /** One timer, at the oldest start's age limit: it is dropped then and the pool refilled. */
  #armExpiry(): void {
    this.#expiry?.cancel();
    this.#expiry = undefined;
    const oldest = this.#starts[0];
    if (this.#closed || oldest === undefined) return;
    const at = oldest.madeAt + this.#maxAgeMs;
    this.#expiry = this.#clock.timeout(
      Math.max(0, at - this.#clock.now()),
      () => {
        this.#expiry = undefined;
        this.#dropAged(this.#clock.now());
        this.#armExpiry();
        this.refill();
      },
      { unref: true },
    );
  }
}
