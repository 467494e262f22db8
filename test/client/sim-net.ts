// A manual-clock, in-memory network between one ClientCall and one LoopbackServer: fixed
// one-way latency, optional drop filter, and a client address that a test can change (NAT
// rebinding). The drive loop is bounded and never sleeps (STYLE.md rule 9).
import type { TransportAddress } from '../../src/core/address.ts';
import type { ClientCall, ClientCallEvent } from '../../src/client/client-call.ts';
import type { LoopbackServer } from './loopback-server.ts';
import { SERVER_ADDRESS } from './loopback-server.ts';

interface InFlight {
  at: number;
  toServer: boolean;
  from: TransportAddress;
  data: Buffer;
}

export class SimNet {
  now = 1_000;
  clientAddress: TransportAddress = { address: '198.51.100.7', port: 40000, family: 'IPv4' };
  readonly latencyMs: number;
  readonly events: ClientCallEvent[] = [];
  /** Return true to drop a datagram. */
  drop: (toServer: boolean, data: Buffer) => boolean = () => false;
  readonly #queue: InFlight[] = [];
  readonly call: ClientCall;
  readonly server: LoopbackServer;

  constructor(call: ClientCall, server: LoopbackServer, latencyMs = 10) {
    this.call = call;
    this.server = server;
    this.latencyMs = latencyMs;
  }

  /** Moves output of both peers onto the wire and the client's events into `events`. */
  flush(): void {
    for (let t = this.call.pollTransmit(); t; t = this.call.pollTransmit()) {
      if (t.path.address !== SERVER_ADDRESS.address || t.path.port !== SERVER_ADDRESS.port) continue;
      if (!this.drop(true, t.data)) this.#queue.push({ at: this.now + this.latencyMs, toServer: true, from: this.clientAddress, data: t.data });
    }
    for (let t = this.server.pollTransmit(); t; t = this.server.pollTransmit()) {
      // Like a NAT: only the client's current mapping reaches it.
      if (t.to.address !== this.clientAddress.address || t.to.port !== this.clientAddress.port) continue;
      if (!this.drop(false, t.data)) this.#queue.push({ at: this.now + this.latencyMs, toServer: false, from: SERVER_ADDRESS, data: t.data });
    }
    for (let ev = this.call.pollEvent(); ev; ev = this.call.pollEvent()) this.events.push(ev);
  }

  /** Runs until `until` (ms on the manual clock). */
  runUntil(until: number): void {
    this.flush();
    for (let steps = 0; steps < 1_000_000; steps++) {
      const candidates = [until, this.call.pollTimeout(), this.server.pollTimeout(), ...this.#queue.map((p) => p.at)]
        .filter((t): t is number => t !== undefined);
      const next = Math.max(this.now, Math.min(...candidates));
      if (next > until || (next === until && this.#dueAt(until) === 0 && !this.#timeoutDue(until))) {
        this.now = until;
        return;
      }
      this.now = next;
      const due = this.#queue.filter((p) => p.at <= next);
      this.#queue.splice(0, this.#queue.length, ...this.#queue.filter((p) => p.at > next));
      for (const p of due) {
        if (p.toServer) this.server.handle(p.data, p.from, next);
        else this.call.handle(p.data, p.from, next);
      }
      if ((this.call.pollTimeout() ?? Infinity) <= next) this.call.handleTimeout(next);
      if ((this.server.pollTimeout() ?? Infinity) <= next) this.server.handleTimeout(next);
      this.flush();
    }
    throw new Error('SimNet: drive loop did not settle');
  }

  #dueAt(t: number): number {
    return this.#queue.filter((p) => p.at <= t).length;
  }

  #timeoutDue(t: number): boolean {
    return (this.call.pollTimeout() ?? Infinity) <= t || (this.server.pollTimeout() ?? Infinity) <= t;
  }
}
