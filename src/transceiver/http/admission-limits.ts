// Who may open how many calls (issue #19 attack 2: one client holding unused offers took 999 of
// 1 000 call slots in 1.9 s). Each offer is charged to its client — the source IP (an IPv6
// client by its /64, which one subscriber usually holds whole) and, when API keys are in use,
// the key — and refused with 429 + Retry-After when that client is over any of three limits:
//   offer rate      token bucket per client (offersPerSecond, burst offerBurst);
//   pending calls   calls of the client that have not connected yet (ICE + DTLS): these are
//                   what an attacker who only posts offers holds, each until the setup deadline;
//   calls           all live calls of the client, connected or not.
// The call registry tells it when a call connects or closes (callConnected / callClosed). State
// is bounded: a client's entry is dropped when it holds no call and its bucket is full again,
// and at most MAX_CLIENTS entries exist (then new clients are refused: `clients_full`).
// Not here: HTTP (the signaling server asks admit() before reading the body) or the process-wide
// --max-sessions (503, the registry's).
import { reasonCatalog } from '../../core/errors.ts';
import { ipToBytes, isIpv4 } from '../../core/address.ts';

export const ADMISSION_REFUSALS = reasonCatalog('admission', {
  offer_rate: 'the client posted offers faster than --offers-per-second (burst --offer-burst)',
  pending_calls: 'the client has --max-pending-per-client calls that have not connected yet',
  calls: 'the client has --max-calls-per-client live calls',
  clients_full: 'the admission table is full of other clients (a flood from many addresses)',
});
export type AdmissionRefusal = (typeof ADMISSION_REFUSALS.reasons)[number];

export interface AdmissionLimitsOptions {
  readonly offersPerSecond: number;
  readonly offerBurst: number;
  readonly maxPendingPerClient: number;
  readonly maxCallsPerClient: number;
  /** Monotonic ms. */
  readonly now: () => number;
  readonly onRefused?: (reason: AdmissionRefusal) => void;
}

export type AdmissionSettings = Pick<
  AdmissionLimitsOptions,
  'offersPerSecond' | 'offerBurst' | 'maxPendingPerClient' | 'maxCallsPerClient'
>;

/**
 * An offer-only attacker holds at most maxPendingPerClient calls (each until the setup deadline),
 * one that completes its handshakes maxCallsPerClient; a browser user needs one or two.
 */
export const DEFAULT_ADMISSION: AdmissionSettings = {
  offersPerSecond: 10,
  offerBurst: 40,
  maxPendingPerClient: 20,
  maxCallsPerClient: 200,
};
/** Bounds the table: ~100 bytes an entry. */
export const MAX_CLIENTS = 100_000;

interface ClientState {
  tokens: number;
  at: number;
  pending: number;
  calls: number;
}

export type Admission =
  | { readonly ok: true; readonly ticket: AdmissionTicket }
  | { readonly ok: false; readonly reason: AdmissionRefusal; readonly retryAfterSeconds: number; readonly message: string };

/** One admitted offer: bind() it to the call it became, or release() it when none was made. */
export interface AdmissionTicket {
  bind(callId: string): void;
  release(): void;
}

/** The clients an offer is charged to: its source address, and its API key when keys are in use. */
export function clientsOf(remoteAddress: string | undefined, apiKey: string | undefined): string[] {
  const clients = [clientOfIp(remoteAddress ?? 'unknown')];
  if (apiKey !== undefined) clients.push(`key:${apiKey}`);
  return clients;
}

/** The client key of a source address: an IPv4 address, or an IPv6 address's /64. */
export function clientOfIp(ip: string): string {
  const unmapped = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  // Every offer asks this before its answer: a dotted IPv4 address is its own key, no bytes are
  // made and joined again (40–140 µs on cold caches after an idle second, issue #18).
  if (isIpv4(unmapped)) return `ip:${unmapped}`;
  const bytes = ipToBytes(unmapped);
  if (!bytes) return `ip:${ip}`;
  if (bytes.length === 4) return `ip:${bytes.join('.')}`;
  return `ip6:${bytes.subarray(0, 8).toString('hex')}/64`;
}

export class AdmissionLimits {
  readonly #o: AdmissionLimitsOptions;
  readonly #clients = new Map<string, ClientState>();
  readonly #calls = new Map<string, { clients: readonly string[]; pending: boolean }>();

  constructor(o: AdmissionLimitsOptions) {
    this.#o = o;
  }

  /** Clients known now (for tests and /metrics). */
  get size(): number {
    return this.#clients.size;
  }

  /** Charges one offer to every client in `clients` (IP, and key when there is one), or says why not. */
  admit(clients: readonly string[]): Admission {
    const now = this.#o.now();
    const states: ClientState[] = [];
    for (const c of clients) {
      let s = this.#clients.get(c);
      if (!s) {
        if (this.#clients.size >= MAX_CLIENTS) this.#prune(now);
        if (this.#clients.size >= MAX_CLIENTS) return this.#refuse('clients_full', 5, 'too many clients are calling this transceiver');
        s = { tokens: this.#o.offerBurst, at: now, pending: 0, calls: 0 };
        this.#clients.set(c, s);
      }
      this.#refill(s, now);
      if (s.tokens < 1) {
        const wait = Math.ceil((1 - s.tokens) / this.#o.offersPerSecond);
        return this.#refuse('offer_rate', wait, `more than ${this.#o.offersPerSecond} offers a second from this client`);
      }
      if (s.pending >= this.#o.maxPendingPerClient) {
        return this.#refuse(
          'pending_calls',
          2,
          `this client has ${s.pending} calls that have not connected yet; connect or end them first`,
        );
      }
      if (s.calls >= this.#o.maxCallsPerClient) {
        return this.#refuse('calls', 10, `this client has ${s.calls} calls, the most one client may hold`);
      }
      states.push(s);
    }
    for (const s of states) {
      s.tokens -= 1;
      s.pending++;
      s.calls++;
    }
    let done = false;
    const undo = (): void => {
      for (const c of clients) {
        const s = this.#clients.get(c);
        if (s) {
          s.pending--;
          s.calls--;
        }
      }
    };
    return {
      ok: true,
      ticket: {
        bind: (callId) => {
          if (done) return;
          done = true;
          this.#calls.set(callId, { clients, pending: true });
        },
        release: () => {
          if (done) return;
          done = true;
          undo();
        },
      },
    };
  }

  /** The call connected (ICE + DTLS): it no longer counts as pending. */
  callConnected(callId: string): void {
    const call = this.#calls.get(callId);
    if (!call || !call.pending) return;
    call.pending = false;
    for (const c of call.clients) {
      const s = this.#clients.get(c);
      if (s) s.pending--;
    }
  }

  /** The call ended, connected or not. */
  callClosed(callId: string): void {
    const call = this.#calls.get(callId);
    if (!call) return;
    this.#calls.delete(callId);
    for (const c of call.clients) {
      const s = this.#clients.get(c);
      if (!s) continue;
      if (call.pending) s.pending--;
      s.calls--;
    }
  }

  #refill(s: ClientState, now: number): void {
    s.tokens = Math.min(this.#o.offerBurst, s.tokens + ((now - s.at) / 1000) * this.#o.offersPerSecond);
    s.at = now;
  }

  /** Drops clients that hold no call and whose bucket is full again: they are as if new. */
  #prune(now: number): void {
    for (const [c, s] of this.#clients) {
      this.#refill(s, now);
      if (s.calls === 0 && s.tokens >= this.#o.offerBurst) this.#clients.delete(c);
    }
  }

  #refuse(reason: AdmissionRefusal, retryAfterSeconds: number, message: string): Admission {
    this.#o.onRefused?.(reason);
    return { ok: false, reason, retryAfterSeconds, message };
  }
}
