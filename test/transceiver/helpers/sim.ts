// A manual-clock, fixed-latency network between one transceiver Session and one TestCaller:
// every datagram is delivered `latencyMs` later through a simulated relay, and time only moves
// to the next deadline (STYLE.md rule 9: no sleeping, bounded drive loops).
import type { TransportAddress } from '../../../src/core/address.ts';
import type { Session, SessionPath } from '../../../src/transceiver/session.ts';
import type { TestCaller } from './test-caller.ts';

interface InFlight {
  readonly at: number;
  readonly toSession: boolean;
  readonly data: Buffer;
  readonly path?: SessionPath;
}

export class Sim {
  now: number;
  readonly session: Session;
  readonly caller: TestCaller;
  /** The caller's address as the relay sees it; change it to simulate NAT rebinding. */
  clientAddress: TransportAddress;
  readonly relayPublic: TransportAddress;
  /** The relay's own socket; change it to simulate a relay that moved. */
  relaySocket: TransportAddress = { address: '10.0.0.2', port: 40000, family: 'IPv4' };
  readonly latencyMs: number;
  readonly #flight: InFlight[] = [];
  /** Packets the session sent to a client address other than the caller's current one. */
  misrouted = 0;
  /** Drop everything from the caller (a dead network path). */
  blackhole = false;
  sentToCaller = 0;

  constructor(o: { session: Session; caller: TestCaller; now: number; client: TransportAddress; relay: TransportAddress; latencyMs?: number }) {
    this.session = o.session;
    this.caller = o.caller;
    this.now = o.now;
    this.clientAddress = o.client;
    this.relayPublic = o.relay;
    this.latencyMs = o.latencyMs ?? 10;
  }

  /** Moves everything both sides queued into flight. */
  collect(): void {
    for (let d = this.caller.pollTransmit(); d; d = this.caller.pollTransmit()) {
      if (this.blackhole) continue;
      const path: SessionPath = { client: this.clientAddress, relayPublic: this.relayPublic, relaySocket: this.relaySocket };
      this.#flight.push({ at: this.now + this.latencyMs, toSession: true, data: d, path });
    }
    for (let t = this.session.pollTransmit(); t; t = this.session.pollTransmit()) {
      const same = t.path.client.address === this.clientAddress.address && t.path.client.port === this.clientAddress.port;
      if (!same) {
        this.misrouted++;
        continue;
      }
      this.sentToCaller++;
      this.#flight.push({ at: this.now + this.latencyMs, toSession: false, data: t.data });
    }
  }

  /** Runs until `until`, calling `every20ms` on each 20 ms boundary (the caller's microphone). */
  run(until: number, every20ms?: (now: number) => void): void {
    let nextMic = every20ms ? Math.ceil(this.now / 20) * 20 : Infinity;
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.collect();
      const candidates = [this.session.pollTimeout(), this.caller.pollTimeout(), nextMic, ...this.#flight.map((f) => f.at)]
        .filter((t): t is number => t !== undefined);
      const next = Math.max(this.now, Math.min(...candidates));
      if (!(next <= until)) {
        this.now = until;
        return;
      }
      this.now = next;
      for (let i = 0; i < this.#flight.length; ) {
        const f = this.#flight[i];
        if (f.at > this.now) {
          i++;
          continue;
        }
        this.#flight.splice(i, 1);
        if (f.toSession) this.session.handle(f.data, f.path!, this.now);
        else this.caller.handle(f.data, this.now);
      }
      const st = this.session.pollTimeout();
      if (st !== undefined && st <= this.now) this.session.handleTimeout(this.now);
      const ct = this.caller.pollTimeout();
      if (ct !== undefined && ct <= this.now) this.caller.handleTimeout(this.now);
      if (this.now >= nextMic) {
        every20ms?.(this.now);
        nextMic += 20;
      }
    }
    throw new Error('drive loop did not settle');
  }
}
