// A seeded, in-memory UDP path between an ICE controlling client and an ICE-lite agent, with
// a NAT in front of the client, latency and loss; a manual clock drives both ends (str0m-style,
// no sleeps). Test helper only.
import type { TransportAddress } from '../../../src/core/address.ts';
import { seededRng } from '../../../src/core/rng.ts';
import type { IceControllingClient } from '../../../src/core/ice/ice-controlling-client.ts';
import type { IceLiteAgent } from '../../../src/core/ice/ice-lite-agent.ts';
import type { IceClientEvent, IceLiteEvent } from '../../../src/core/ice/ice-types.ts';

interface InFlight { at: number; toServer: boolean; data: Buffer; from: TransportAddress }

export class SimLink {
  now = 0;
  /** The client's public (NAT-mapped) address as the server sees it; change it to rebind. */
  mapped: TransportAddress;
  up = true;
  readonly clientEvents: Array<IceClientEvent & { at: number }> = [];
  readonly serverEvents: Array<IceLiteEvent & { at: number }> = [];
  readonly #client: IceControllingClient;
  readonly #server: IceLiteAgent;
  readonly #serverAddress: TransportAddress;
  readonly #latencyMs: number;
  readonly #loss: number;
  readonly #rng;
  #queue: InFlight[] = [];

  constructor(o: { client: IceControllingClient; server: IceLiteAgent; serverAddress: TransportAddress; mapped: TransportAddress; latencyMs: number; loss: number; seed: number }) {
    this.#client = o.client;
    this.#server = o.server;
    this.#serverAddress = o.serverAddress;
    this.mapped = o.mapped;
    this.#latencyMs = o.latencyMs;
    this.#loss = o.loss;
    this.#rng = seededRng(o.seed);
  }

  /** Runs until `until` (absolute ms), processing every deadline and delivery in time order. */
  runUntil(until: number): void {
    for (let guard = 0; guard < 1_000_000; guard++) {
      this.#drain();
      const next = Math.min(this.#client.pollTimeout() ?? Infinity, this.#server.pollTimeout() ?? Infinity, ...this.#queue.map((p) => p.at));
      if (next > until) { this.now = until; return; }
      this.now = Math.max(this.now, next);
      const due = this.#queue.filter((p) => p.at <= this.now);
      this.#queue = this.#queue.filter((p) => p.at > this.now);
      for (const p of due) {
        if (p.toServer) this.#server.handle(p.data, p.from, this.now);
        else this.#client.handle(p.data, p.from, this.now);
      }
      this.#client.handleTimeout(this.now);
      this.#server.handleTimeout(this.now);
    }
    throw new Error('simulation did not settle');
  }

  #drain(): void {
    for (let t = this.#client.pollTransmit(); t; t = this.#client.pollTransmit()) {
      // The NAT rewrites the source; the relay header would carry this address to the server.
      this.#send({ at: this.now + this.#latencyMs, toServer: true, data: t.data, from: this.mapped });
    }
    for (let t = this.#server.pollTransmit(); t; t = this.#server.pollTransmit()) {
      // Only traffic to the current mapping reaches the client (an old mapping is dead).
      if (t.to.address === this.mapped.address && t.to.port === this.mapped.port) {
        this.#send({ at: this.now + this.#latencyMs, toServer: false, data: t.data, from: this.#serverAddress });
      }
    }
    for (let e = this.#client.pollEvent(); e; e = this.#client.pollEvent()) this.clientEvents.push({ ...e, at: this.now });
    for (let e = this.#server.pollEvent(); e; e = this.#server.pollEvent()) this.serverEvents.push({ ...e, at: this.now });
  }

  #send(p: InFlight): void {
    if (!this.up) return;
    if (this.#rng.bytes(2).readUInt16BE(0) / 65536 < this.#loss) return;
    this.#queue.push(p);
  }
}
