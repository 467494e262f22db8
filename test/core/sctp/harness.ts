// Two sans-IO SCTP machines (associations or DataChannels) over the seeded Netem on a
// ManualClock, driven by progress(). Each side answers to whatever address the last packet came
// from, as a DTLS shell does, so a NAT rebinding is just a new source address. Nothing sleeps.
import { ManualClock } from '../../../src/common/clock.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { drain } from '../../../src/core/output.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { SctpAssociation, SctpBudget } from '../../../src/core/sctp/index.ts';
import type { SctpOptions } from '../../../src/core/sctp/index.ts';
import type { SansIo } from '../../../src/core/output.ts';
import { Netem } from '../../support/netem.ts';
import type { LinkProfile } from '../../support/netem.ts';
import { progress } from '../../support/progress.ts';
import type { Driven } from '../../support/progress.ts';

export interface Machine<E> extends SansIo<Buffer, E> {
  handle(packet: Buffer, now: number): void;
  handleTimeout(now: number): void;
}

export type EventOf<M> = M extends SansIo<Buffer, infer E> ? E : never;

export class Side<M extends Machine<EventOf<M>>, E = EventOf<M>> implements Driven {
  readonly events: E[] = [];
  readonly m: M;
  readonly net: Netem;
  readonly address: TransportAddress;
  peer: TransportAddress;
  /** Called for each event as it comes out (a test may act on the machine). */
  onEvent: ((e: E, now: number) => void) | undefined;
  #now = 0;
  readonly #send = (data: Buffer): void => this.net.send({ from: this.address, to: this.peer, data }, this.#now);
  readonly #event = (e: E): void => {
    this.events.push(e);
    this.onEvent?.(e, this.#now);
  };

  constructor(m: M, net: Netem, address: TransportAddress, peer: TransportAddress) {
    this.m = m;
    this.net = net;
    this.address = address;
    this.peer = peer;
    net.attach(address, (d, now) => {
      this.peer = d.from;
      this.m.handle(d.data, now);
      this.pump(now);
    });
  }

  /** Drains the machine at `now` (call after acting on it directly). */
  pump(now: number): void {
    this.#now = now;
    drain(this.m as unknown as SansIo<Buffer, E>, this.#send, this.#event);
  }

  nextDeadline(): number | undefined {
    return this.m.pollTimeout();
  }

  advance(now: number): void {
    this.m.handleTimeout(now);
    this.pump(now);
  }
}

export const A_ADDR: TransportAddress = { family: 'IPv4', address: '10.0.0.1', port: 5000 };
export const B_ADDR: TransportAddress = { family: 'IPv4', address: '10.0.0.2', port: 5000 };

export interface Pair<M extends Machine<EventOf<M>>> {
  clock: ManualClock;
  net: Netem;
  a: Side<M>;
  b: Side<M>;
  run(until: () => boolean, maxMs?: number, what?: string): void;
}

export function pair<M extends Machine<EventOf<M>>>(a: M, b: M, seed = 1, profile: LinkProfile = { latencyMs: 10 }): Pair<M> {
  const clock = new ManualClock(0);
  const net = new Netem({ seed, profile });
  const sa = new Side(a, net, A_ADDR, B_ADDR);
  const sb = new Side(b, net, B_ADDR, A_ADDR);
  return {
    clock,
    net,
    a: sa,
    b: sb,
    run(until, maxMs = 60_000, what) {
      progress({ clock, parts: [sa, sb, net], until, maxMs, what });
    },
  };
}

/** An association with a seeded Rng and its own budget (so tests never share the process one). */
export function assoc(seed: string, o: Partial<SctpOptions> = {}): SctpAssociation {
  return new SctpAssociation({ rng: seededRng(seed), budget: new SctpBudget(64 * 1024 * 1024), ...o });
}
