// The relay datapath: owns one worker's sockets (one public UDP socket per listen address, one
// internal socket towards transceivers) and its flow index, and does the per-packet work for
// known flows — client → transceiver by one table lookup, transceiver → client by reading the
// relay header. Everything else (first packets, tokens, the store) is handed to the TypeScript
// control side through `onClientMiss`. Two implementations of `Datapath`: NodeDatapath here (a
// FlowTable of JsFlow objects) and NativeDatapath (datapath-native.ts: the addon's table).
//
// Hot-path choices, each measured in bench/relay.ts: a synchronous `lookup` so dgram does not
// defer every send to the next tick for a DNS lookup of a literal IP; header + payload sent as
// one scatter/gather datagram (`send([header, payload])`, the per-flow header built once); no
// per-packet closures, callbacks or allocations of ours; counters are slots of a Float64Array.
import dgram from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { TransportAddress } from '../core/address.ts';
import type { CidrSet } from '../core/cidr.ts';
import { RELAY_HEADER_LENGTH, RELAY_MAX_PAYLOAD } from '../contracts/relay-header.ts';
import type { FlowIndex, FlowView } from './flow-index.ts';
import { FlowTable } from './flow-table.ts';
import type { JsFlow } from './flow-table.ts';
import type { ReturnContext } from './route.ts';
import { publicMatchers, routeFromTransceiver } from './route.ts';
import { Slot, dropSlot } from './stats.ts';

/** Most connected sockets per worker (one per transceiver address); beyond it, unconnected sends. */
const MAX_CONNECTED = 256;

/** What bind() resolves to: the addresses actually bound (port 0 → chosen) and the flow index. */
export interface Bound<F extends FlowView> {
  readonly publics: TransportAddress[];
  readonly internal: TransportAddress;
  /** The only flow table of this datapath; the control side inserts into it and sweeps it. */
  readonly index: FlowIndex<F>;
}

/** What a datapath hands to the control side; given to bind(), so neither is made from the other. */
export interface DatapathEvents {
  /** A client datagram with no known flow, STUN, or too large: the control side decides. */
  readonly onClientMiss: (msg: Buffer, rinfo: RemoteInfo, publicIndex: number) => void;
  readonly onSocketError: (err: Error) => void;
  /**
   * The native loop made the flow of this first check itself (docs/relay.md, "First checks in
   * the loop") and forwarded it; the control side does the bookkeeping of a created flow.
   * `issuedAt`: the token's issue time (ms).
   */
  readonly onFirstFlowMade?: (msg: Buffer, rinfo: RemoteInfo, publicIndex: number, issuedAt: number) => void;
}

/** What the native loop needs to decide first checks itself (Datapath.firstChecksInLoop). */
export interface LoopFirstChecks {
  /** The addon's copy of the keyring's sub-keys (first-check.ts nativeFirstCheck). */
  readonly keys: object;
  readonly lifetimeMs: number;
  readonly clockSkewMs: number;
  /** route.ts FIRST_FLOW_WINDOW_MS. */
  readonly firstFlowWindowMs: number;
  /** The worker's new-flow limiter's rate and burst. */
  readonly ratePerSecond: number;
  readonly burst: number;
  /**
   * The loop's own crypto budget: first checks a second (and its burst) that it verifies, whatever
   * their sources; past it they go to JS as before (a spoofed-source flood costs the loop, which
   * forwards every call's media, a bounded amount of HMAC).
   */
  readonly checksPerSecond: number;
}

export interface Datapath<F extends FlowView> {
  /** Binds every socket and starts receiving. */
  bind(events: DatapathEvents): Promise<Bound<F>>;
  /** Sends one client datagram on a flow the control side just created, recovered or routed. */
  forward(flow: F, payload: Buffer): void;
  /** Stops receiving (closes the sockets); idempotent. */
  close(): Promise<void>;
  /** Threads of the datapath's own to pin with the worker (the native loops); none for JS. */
  readonly tids: readonly number[];
  /** The native datapath: its loop decides the common first checks itself from now on (after bind). */
  firstChecksInLoop?(o: LoopFirstChecks): void;
  /** The native datapath: the worker learnt this token is revoked (its loop makes no flow of it). */
  revokeToken?(ufrag: string): void;
}

/** What both datapaths are made from. */
export interface DatapathOptions {
  readonly publics: readonly TransportAddress[];
  readonly internal: TransportAddress;
  /** SO_REUSEPORT on the public sockets (several workers share the port). */
  readonly reusePort: boolean;
  readonly socketBufferBytes: number;
  /** The flow table's hard cap and idle timeout (ms). */
  readonly maxFlows: number;
  readonly idleMs: number;
  /** The worker's whole stats array (JS half + native half). */
  readonly stats: Float64Array;
  /** The worker's coarse clock (ms) in cell 0, written once per tick; read per packet to stamp flows. */
  readonly now: Float64Array;
  /** The transceiver networks (--transceiver-cidrs): return traffic only from these. */
  readonly transceiverCidrs: CidrSet;
  /** Return traffic from `address`, outside the transceiver networks, was dropped (the misconfiguration warning names it). */
  readonly onDisallowedSource?: (address: string) => void;
}

// dgram resolves the destination of every send through `lookup`; ours only ever sees literal
// IPs (flow destinations from tokens, client addresses from rinfo), so answer synchronously.
function literalLookup(host: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, host, host.includes(':') ? 6 : 4);
}

function socketFor(a: TransportAddress, reusePort: boolean, bytes: number): Socket {
  return dgram.createSocket({
    type: a.family === 'IPv6' ? 'udp6' : 'udp4',
    reusePort,
    // An IPv6 socket bound to an explicit address must not also take IPv4 traffic.
    ipv6Only: a.family === 'IPv6',
    recvBufferSize: bytes,
    sendBufferSize: bytes,
    lookup: literalLookup as never,
  });
}

function bindSocket(s: Socket, a: TransportAddress): Promise<TransportAddress> {
  return new Promise((resolve, reject) => {
    s.once('error', reject);
    // exclusive: never share the handle through a cluster primary; each worker owns its socket.
    s.bind({ address: a.address, port: a.port, exclusive: true }, () => {
      s.off('error', reject);
      const b = s.address();
      resolve({ address: b.address, port: b.port, family: b.family === 'IPv6' ? 'IPv6' : 'IPv4' });
    });
  });
}

export class NodeDatapath implements Datapath<JsFlow> {
  readonly #o: DatapathOptions;
  readonly #table: FlowTable;
  readonly #publicSockets: Socket[];
  #internal: Socket;
  /** Connected sockets by destination `addr|port`; 'connecting'/'failed' while there is none. */
  readonly #outs = new Map<string, Socket | 'connecting' | 'failed'>();
  #bound: TransportAddress | undefined;
  #events: DatapathEvents = { onClientMiss: () => {}, onSocketError: () => {} };
  #onReturn: ((msg: Buffer, rinfo: RemoteInfo) => void) | undefined;
  #closing: Promise<void> | undefined;
  readonly tids: readonly number[] = [];

  constructor(o: DatapathOptions) {
    this.#o = o;
    this.#table = new FlowTable({ maxFlows: o.maxFlows, idleMs: o.idleMs });
    this.#publicSockets = o.publics.map((a) => socketFor(a, o.reusePort, o.socketBufferBytes));
    // SO_REUSEPORT so the connected per-transceiver sockets can share its address and port.
    this.#internal = socketFor(o.internal, true, o.socketBufferBytes);
  }

  async bind(events: DatapathEvents): Promise<Bound<JsFlow>> {
    this.#events = events;
    const publics: TransportAddress[] = [];
    for (let i = 0; i < this.#publicSockets.length; i++) publics.push(await bindSocket(this.#publicSockets[i], this.#o.publics[i]));
    let internal = await bindSocket(this.#internal, this.#o.internal);
    // Linux may give an ephemeral (port 0) SO_REUSEPORT bind the port of another SO_REUSEPORT
    // socket of this user, a public one: client datagrams would then land on the internal socket
    // (seen as bad_header drops). Bind again until the port is our own.
    for (let tries = 0; this.#o.internal.port === 0 && publics.some((p) => p.port === internal.port) && tries < 16; tries++) {
      this.#internal.close();
      this.#internal = socketFor(this.#o.internal, true, this.#o.socketBufferBytes);
      internal = await bindSocket(this.#internal, this.#o.internal);
    }
    this.#bound = internal;
    this.#wire(publics);
    return { publics, internal, index: this.#table };
  }

  #wire(bound: readonly TransportAddress[]): void {
    const { stats, now } = this.#o;
    const { onClientMiss } = this.#events;
    const table = this.#table;
    const internal = this.#internal;
    this.#publicSockets.forEach((sock, index) => {
      sock.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        // STUN (first byte 0–3) always goes to the control side: route.ts checks its ufrag.
        if (msg.length <= RELAY_MAX_PAYLOAD && msg.length > 0 && msg[0] > 3) {
          const flow = table.get(rinfo.address, rinfo.port, index);
          if (flow !== undefined) {
            flow.lastSeen = now[0];
            stats[Slot.pktsToTransceiver]++;
            stats[Slot.bytesToTransceiver] += msg.length;
            const out = flow.out ?? this.#outFor(flow);
            if (out !== undefined) out.send([flow.header, msg]);
            else internal.send([flow.header, msg], flow.destPort, flow.destAddress);
            return;
          }
        }
        onClientMiss(msg, rinfo, index);
      });
      sock.on('error', (err) => this.#sendError(err));
    });
    // The return path needs the public addresses as bound (port 0 in tests → the real port).
    const route: ReturnContext = { table, transceiverAllowed: this.#o.transceiverCidrs.matcher() };
    const matchers = publicMatchers(bound);
    const publics = this.#publicSockets;
    this.#onReturn = (msg: Buffer, rinfo: RemoteInfo): void => {
      const r = routeFromTransceiver(route, matchers, msg, rinfo);
      if (r.kind === 'drop') {
        stats[dropSlot[r.reason]]++;
        if (r.reason === 'disallowed_source') this.#o.onDisallowedSource?.(rinfo.address);
        return;
      }
      const f = r.flow;
      stats[Slot.pktsToClient]++;
      stats[Slot.bytesToClient] += msg.length - RELAY_HEADER_LENGTH;
      publics[f.publicIndex].send(msg.subarray(RELAY_HEADER_LENGTH), f.clientPort, f.clientAddress);
    };
    internal.on('message', this.#onReturn);
    internal.on('error', (err) => this.#sendError(err));
  }

  /**
   * The connected socket towards a flow's transceiver, or undefined while it is being set up
   * (the caller sends through the unconnected internal socket meanwhile). A connected UDP socket
   * sends without a route lookup per datagram in the kernel and without address handling in
   * Node; it is bound to the internal address and port too (SO_REUSEPORT), so the transceiver
   * sees the same source and its replies arrive on it (or on the internal socket: same handler).
   */
  #outFor(flow: JsFlow): Socket | undefined {
    const key = `${flow.destAddress}|${flow.destPort}`;
    const s = this.#outs.get(key);
    if (s instanceof Object) {
      flow.out = s;
      return s;
    }
    if (s === undefined && this.#outs.size < MAX_CONNECTED && this.#bound && !this.#closing)
      this.#connect(key, flow.destAddress, flow.destPort);
    return undefined;
  }

  #connect(key: string, address: string, port: number): void {
    const bound = this.#bound as TransportAddress;
    this.#outs.set(key, 'connecting');
    const s = socketFor(bound, true, this.#o.socketBufferBytes);
    const fail = (err: Error): void => {
      // Stay on the unconnected path for this destination; counted as a socket error.
      this.#outs.set(key, 'failed');
      this.#events.onSocketError(err);
      s.close();
    };
    s.once('error', fail);
    s.bind({ address: bound.address, port: bound.port, exclusive: true }, () => {
      s.connect(port, address, () => {
        s.off('error', fail);
        if (this.#closing) {
          s.close();
          return;
        }
        s.on('error', (err) => this.#sendError(err));
        if (this.#onReturn) s.on('message', this.#onReturn);
        this.#outs.set(key, s);
      });
    });
  }

  #sendError(err: Error): void {
    // UDP send failures (e.g. EHOSTUNREACH, ENOBUFS) surface here when send has no callback.
    this.#o.stats[dropSlot.send_error]++;
    this.#events.onSocketError(err);
  }

  forward(flow: JsFlow, payload: Buffer): void {
    if (this.#closing) return;
    this.#o.stats[Slot.pktsToTransceiver]++;
    this.#o.stats[Slot.bytesToTransceiver] += payload.length;
    const out = flow.out ?? this.#outFor(flow);
    if (out !== undefined) out.send([flow.header, payload]);
    else this.#internal.send([flow.header, payload], flow.destPort, flow.destAddress);
  }

  close(): Promise<void> {
    this.#closing ??= Promise.all(
      [...this.#publicSockets, this.#internal, ...[...this.#outs.values()].filter((s): s is Socket => s instanceof Object)].map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve(); // never bound, or already closed
            }
          }),
      ),
    ).then(() => undefined);
    return this.#closing;
  }
}
