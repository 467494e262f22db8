// The I/O shell for ClientCalls: each call's transport (./call-transport.ts: a UDP socket, or
// ICE-TCP connections — the relay keys flows by the client's address, so calls cannot share
// one) and ONE timer for the whole process, armed to the earliest deadline any call holds
// (STYLE.md rule 3), kept in an indexed min-heap (src/common/timer-heap.ts) so a timer firing
// costs O(log n) per due call, not a scan of all calls — at 400 calls × 50 frames/s a scan was
// 8 M entry visits a second. This is what lets `parley load` run hundreds of calls cheaply: no
// per-call timers, no per-call intervals. The transport is chosen once, when the driver is made
// (UdpCallDriver, TcpCallDriver, or createCallDriver by name).
// Not here: protocol logic (./client-call.ts), the wire (./udp-driver.ts, ./tcp-driver.ts) and
// HTTP signaling (./signaling.ts).
import type { TransportAddress } from '../core/address.ts';
import { drain } from '../core/output.ts';
import { systemClock } from '../common/clock.ts';
import type { Clock, Timer } from '../common/clock.ts';
import type { ClientCall, ClientCallEvent, ClientTransmit } from './client-call.ts';
import type { CallTransport, CallTransportFactory, CallTransportName } from './call-transport.ts';
import { TimerHeap } from '../common/timer-heap.ts';

interface Entry {
  transport: CallTransport | undefined;
  call: ClientCall | undefined;
  onEvent: (ev: ClientCallEvent) => void;
  closed: boolean;
  /** drain() listeners, made once per call. */
  readonly send: (t: ClientTransmit) => void;
  readonly emit: (ev: ClientCallEvent) => void;
}

/** A call's transport, before and after its call is attached. */
export interface CallBinding {
  /** The local address (the host candidate to advertise). */
  readonly address: TransportAddress;
  /** The transport the call must offer and choose candidates of. */
  readonly transport: CallTransportName;
  /** Starts feeding packets and timeouts to `call`; its events go to `onEvent`. */
  attach(call: ClientCall, onEvent: (ev: ClientCallEvent) => void): void;
  /** Drives the call after an outside change (acceptAnswer, close) so its output goes out. */
  poke(): void;
  /** Moves to a new local port, continues from it and drops the old one (NAT rebinding). */
  rebind(): Promise<TransportAddress>;
  /** Closes the transport; idempotent. Does not close the call. */
  close(): void;
}

export class CallDriver {
  readonly #open: CallTransportFactory;
  readonly #clock: Clock;
  readonly #entries = new Set<Entry>();
  readonly #timers = new TimerHeap<Entry>();
  #timer: Timer | undefined;
  #armedAt: number | undefined;

  /** `open`: the transport every call gets; `clock`: time and the one timer (default the system clock). */
  constructor(open: CallTransportFactory, clock: Clock = systemClock) {
    this.#open = open;
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Opens a transport on the local `host` for one call. */
  async bind(host: string): Promise<CallBinding> {
    const entry: Entry = {
      transport: undefined,
      call: undefined,
      onEvent: () => {},
      closed: false,
      send: (t) => {
        if (!entry.closed) entry.transport?.send(t.data, t.path);
      },
      emit: (ev) => {
        try {
          entry.onEvent(ev);
        } catch (err) {
          // A listener's error must not stop the other calls' timer (mediasoup-style containment).
          queueMicrotask(() => {
            throw err;
          });
        }
      },
    };
    const transport = await this.#open(host, {
      receive: (data, from) => {
        if (entry.closed || !entry.call) return;
        entry.call.handle(data, from, this.#clock.now());
        this.#flush(entry);
      },
      lost: () => {
        if (entry.closed || !entry.call) return;
        entry.call.rebound(this.#clock.now());
        this.#flush(entry);
      },
    });
    entry.transport = transport;
    this.#entries.add(entry);
    return {
      get address() {
        return transport.address;
      },
      transport: transport.name,
      attach: (call, onEvent) => {
        entry.call = call;
        entry.onEvent = onEvent;
        this.#flush(entry);
      },
      poke: () => this.#flush(entry),
      rebind: async () => {
        const address = await transport.rebind();
        entry.call?.rebound(this.#clock.now());
        this.#flush(entry);
        return address;
      },
      close: () => {
        if (entry.closed) return;
        entry.closed = true;
        this.#entries.delete(entry);
        this.#timers.delete(entry);
        transport.close();
        if (this.#entries.size === 0) this.#disarm();
      },
    };
  }

  /** Closes every transport and the timer; idempotent. */
  close(): void {
    for (const e of [...this.#entries]) {
      e.closed = true;
      e.transport?.close();
    }
    this.#entries.clear();
    this.#timers.takeExpired(Infinity);
    this.#disarm();
  }

  #flush(entry: Entry): void {
    const call = entry.call;
    if (!call || entry.closed) return;
    const deadline = drain(call, entry.send, entry.emit);
    this.#timers.set(entry, deadline);
    // A timer armed earlier than this deadline stays: firing early costs one empty pass.
    if (deadline !== undefined && (this.#armedAt === undefined || deadline < this.#armedAt)) this.#arm(deadline);
  }

  #arm(at: number): void {
    this.#disarm();
    this.#armedAt = at;
    this.#timer = this.#clock.timeout(Math.max(0, at - this.#clock.now()), () => this.#fire());
  }

  #disarm(): void {
    this.#timer?.cancel();
    this.#timer = undefined;
    this.#armedAt = undefined;
  }

  #fire(): void {
    this.#timer = undefined;
    this.#armedAt = undefined;
    const now = this.#clock.now();
    for (const e of this.#timers.takeExpired(now)) {
      if (!e.call || e.closed) continue;
      e.call.handleTimeout(now);
      this.#flush(e);
    }
    const next = this.#timers.earliest();
    if (next !== undefined && (this.#armedAt === undefined || next < this.#armedAt)) this.#arm(next);
  }
}
