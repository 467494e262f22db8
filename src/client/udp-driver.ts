// The I/O shell for ClientCalls: one UDP socket per call (the relay keys flows by the client's
// address, so calls cannot share one) and ONE timer for the whole process, armed to the
// earliest deadline any call holds (STYLE.md rule 3), kept in an indexed min-heap
// (src/common/timer-heap.ts) so a timer firing costs O(log n) per due call, not a scan of all
// calls — at 400 calls × 50 frames/s a scan was 8 M entry visits a second. Sends skip dgram's
// per-send DNS lookup (every destination is a literal IP from the answer). This is what lets
// `parley load` run hundreds of calls cheaply: no per-call timers, no per-call intervals.
// Not here: protocol logic (./client-call.ts) and HTTP signaling (./signaling.ts).
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { TransportAddress } from '../core/address.ts';
import { drain } from '../core/output.ts';
import { systemClock } from '../common/clock.ts';
import type { Clock, Timer } from '../common/clock.ts';
import type { ClientCall, ClientCallEvent, ClientTransmit } from './client-call.ts';
import { TimerHeap } from '../common/timer-heap.ts';

interface Entry {
  socket: Socket;
  call: ClientCall | undefined;
  onEvent: (ev: ClientCallEvent) => void;
  host: string;
  closed: boolean;
  /** drain() listeners, made once per call. */
  readonly send: (t: ClientTransmit) => void;
  readonly emit: (ev: ClientCallEvent) => void;
}

/** A call's socket, before and after its call is attached. */
export interface CallBinding {
  /** The socket's bound address (the host candidate to advertise). */
  readonly address: TransportAddress;
  /** Starts feeding datagrams and timeouts to `call`; its events go to `onEvent`. */
  attach(call: ClientCall, onEvent: (ev: ClientCallEvent) => void): void;
  /** Drives the call after an outside change (acceptAnswer, close) so its output goes out. */
  poke(): void;
  /** Opens a new socket on another port, continues from it and closes the old one (NAT rebinding). */
  rebind(): Promise<TransportAddress>;
  /** Closes the socket; idempotent. Does not close the call. */
  close(): void;
}

/** Every destination is a literal IP (the answer's candidates): skip dgram's per-send DNS lookup. */
function literalLookup(host: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, host, host.includes(':') ? 6 : 4);
}

function bindSocket(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', lookup: literalLookup as never });
    s.once('error', reject);
    s.bind({ address: host, port: 0 }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

function socketAddress(s: Socket): TransportAddress {
  const a = s.address();
  return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

export class UdpCallDriver {
  readonly #clock: Clock;
  readonly #entries = new Set<Entry>();
  readonly #timers = new TimerHeap<Entry>();
  #timer: Timer | undefined;
  #armedAt: number | undefined;

  /** `clock`: time and the one timer (default the system clock). */
  constructor(clock: Clock = systemClock) {
    this.#clock = clock;
  }

  now(): number {
    return this.#clock.now();
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Binds a socket on `host` port 0 for one call. */
  async bind(host: string): Promise<CallBinding> {
    const entry: Entry = {
      socket: await bindSocket(host),
      call: undefined,
      onEvent: () => {},
      host,
      closed: false,
      send: (t) => {
        if (!entry.closed) entry.socket.send(t.data, t.path.port, t.path.address);
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
    this.#listen(entry);
    this.#entries.add(entry);
    let address = socketAddress(entry.socket);
    return {
      get address() {
        return address;
      },
      attach: (call, onEvent) => {
        entry.call = call;
        entry.onEvent = onEvent;
        this.#flush(entry);
      },
      poke: () => this.#flush(entry),
      rebind: async () => {
        const next = await bindSocket(entry.host);
        const old = entry.socket;
        entry.socket = next;
        this.#listen(entry);
        old.close();
        address = socketAddress(next);
        entry.call?.rebound(this.#clock.now());
        this.#flush(entry);
        return address;
      },
      close: () => {
        if (entry.closed) return;
        entry.closed = true;
        this.#entries.delete(entry);
        this.#timers.delete(entry);
        entry.socket.close();
        if (this.#entries.size === 0) this.#disarm();
      },
    };
  }

  /** Closes every socket and the timer; idempotent. */
  close(): void {
    for (const e of [...this.#entries]) {
      e.closed = true;
      e.socket.close();
    }
    this.#entries.clear();
    this.#timers.takeExpired(Infinity);
    this.#disarm();
  }

  #listen(entry: Entry): void {
    const socket = entry.socket;
    socket.on('message', (msg, rinfo) => {
      // A datagram still queued on a socket replaced by rebind() is dropped, as a NAT would.
      if (entry.closed || entry.socket !== socket || !entry.call) return;
      const from: TransportAddress = { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' };
      entry.call.handle(msg, from, this.#clock.now());
      this.#flush(entry);
    });
    // ICMP errors (port unreachable) surface as socket errors on Linux; consent handles loss.
    socket.on('error', () => {});
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
