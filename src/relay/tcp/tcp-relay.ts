// The relay's ICE-TCP side (RFC 6544, issue #17): clients whose networks block UDP connect to
// `--listen-tcp` and send RFC 4571 frames. Nothing is trusted before the first frame: it must be
// a STUN Binding Request whose token opens and whose MESSAGE-INTEGRITY verifies — the same
// stateless check as a UDP flow's first packet (route.ts verifyCheck) — and it must come within
// the first-frame deadline. Then the connection is bound to the token's transceiver: every frame
// goes there over UDP from this side's own internal socket, with a version-2 relay header (the
// TCP bit, docs/wire-format.md), and the transceiver's replies to that socket are framed back
// onto the connection the header names — only from the transceiver the connection is bound to.
//
// Limits, each refusal counted by reason (TCP_CLOSE_REASONS) and the connection closed:
// connections in total and per source IP (/64 for IPv6), the first-frame deadline, the largest
// frame (a relay payload), connections per token, an idle timeout (longer than ICE consent, so
// a live call is never cut). A client that stops reading never grows our memory: once its
// socket holds `maxQueuedBytes` unsent, packets to it are dropped and counted
// (`tcp_slow_reader`), and other connections are not slowed (every write is non-blocking).
//
// One TcpRelay per relay process (in worker 0's thread, beside its datapath): the UDP datapaths
// never see a TCP client's packet.
import net from 'node:net';
import dgram from 'node:dgram';
import type { TransportAddress } from '../../core/address.ts';
import type { Clock, Timer } from '../../common/clock.ts';
import type { Logger } from '../../common/log.ts';
import { Rfc4571Deframer, frameRfc4571 } from '../../core/framing/rfc4571.ts';
import { peekUsername } from '../../core/stun/index.ts';
import { clientKeyOfAddress, clientKeyOfHeader } from '../../contracts/client-key.ts';
import type { ClientKey } from '../../contracts/client-key.ts';
import { RELAY_HEADER_LENGTH, RELAY_MAX_PAYLOAD, encodeRelayHeader, isTcpRelayHeader } from '../../contracts/relay-header.ts';
import type { CheckContext } from '../route.ts';
import { publicIndexOfHeader, publicMatchers, rateKey, verifyCheck } from '../route.ts';
import type { DropReason } from '../stats.ts';
import { TCP_CLOSE_REASONS } from './tcp-close-reasons.ts';
import type { TcpCloseReason } from './tcp-close-reasons.ts';

export { TCP_CLOSE_REASONS };
export type { TcpCloseReason };

export interface TcpLimits {
  /** Connections held at once, in all (default 10 000). */
  readonly maxConnections: number;
  /** Connections held at once per source IPv4 address or IPv6 /64 (default 32). */
  readonly maxPerIp: number;
  /** Connections per token (a call needs one; ICE may open a second while it switches; default 4). */
  readonly maxPerToken: number;
  /** The first frame must be complete this long after accept (default 5 000 ms). */
  readonly firstFrameMs: number;
  /** A connection silent this long is closed (default 60 000 ms: above the 30 s consent timeout). */
  readonly idleMs: number;
  /** Unsent bytes a connection may hold before packets to it are dropped (default 256 KiB). */
  readonly maxQueuedBytes: number;
}

export const DEFAULT_TCP_LIMITS: TcpLimits = {
  maxConnections: 10_000,
  maxPerIp: 32,
  maxPerToken: 4,
  firstFrameMs: 5_000,
  idleMs: 60_000,
  maxQueuedBytes: 256 * 1024,
};

export interface TcpListen extends TransportAddress {
  /** The address clients use when a load balancer sits in front (`HOST:PORT=PUBLIC`); the header carries it. */
  readonly advertised?: TransportAddress;
}

export interface TcpRelayEvents {
  accepted(): void;
  closed(reason: TcpCloseReason): void;
  /** A packet not forwarded, with the relay's drop reason (the same counter as UDP's). */
  dropped(reason: DropReason): void;
  forwarded(direction: 'to_transceiver' | 'to_client', bytes: number): void;
}

export interface TcpRelayOptions {
  readonly listen: readonly TcpListen[];
  /** Where this side's internal UDP socket binds (port 0: any); transceivers answer to it. */
  readonly internal: TransportAddress;
  readonly check: CheckContext;
  readonly clock: Clock;
  /** SO_RCVBUF / SO_SNDBUF of the internal socket, as the UDP datapaths' (replies of every TCP call arrive there in bursts). */
  readonly socketBufferBytes?: number;
  readonly limits?: Partial<TcpLimits>;
  readonly events: TcpRelayEvents;
  readonly log?: Logger;
}

interface Connection {
  readonly socket: net.Socket;
  readonly client: TransportAddress;
  readonly publicIndex: number;
  readonly ipKey: string;
  readonly deframer: Rfc4571Deframer;
  /** Set once the first frame verified. */
  bound?: { readonly key: string; readonly ufrag: string; readonly dest: TransportAddress; readonly header: Buffer };
  lastSeen: number;
  firstFrameTimer?: Timer;
  closed: boolean;
}

export class TcpRelay {
  readonly #o: TcpRelayOptions;
  readonly #limits: TcpLimits;
  readonly #servers: net.Server[] = [];
  readonly #internal: dgram.Socket;
  /** The advertised public address of each listener (what headers carry), by index. */
  readonly #publics: TransportAddress[] = [];
  #matchers: ReturnType<typeof publicMatchers> = [];
  readonly #all = new Set<Connection>();
  readonly #perIp = new Map<string, number>();
  readonly #perToken = new Map<string, number>();
  /** Bound connections by `${publicIndex}|${client key}` (the header's two ends). */
  readonly #bound = new Map<string, Connection>();
  #sweep: Timer | undefined;
  #stopping = false;

  private constructor(o: TcpRelayOptions, internal: dgram.Socket) {
    this.#o = o;
    this.#limits = { ...DEFAULT_TCP_LIMITS, ...o.limits };
    this.#internal = internal;
  }

  static async start(o: TcpRelayOptions): Promise<TcpRelay> {
    const internal = dgram.createSocket({
      type: o.internal.family === 'IPv6' ? 'udp6' : 'udp4',
      ...(o.socketBufferBytes === undefined ? {} : { recvBufferSize: o.socketBufferBytes, sendBufferSize: o.socketBufferBytes }),
    });
    await new Promise<void>((resolve, reject) => {
      internal.once('error', reject);
      internal.bind(o.internal.port, o.internal.address, () => {
        internal.off('error', reject);
        resolve();
      });
    });
    const relay = new TcpRelay(o, internal);
    internal.on('message', (msg, rinfo) => relay.#fromTransceiver(msg, rinfo));
    internal.on('error', (err) => o.log?.warn('tcp relay internal socket error', { err }));
    try {
      for (const l of o.listen) await relay.#listen(l);
    } catch (err) {
      await relay.stop();
      throw err;
    }
    relay.#matchers = publicMatchers(relay.#publics);
    relay.#sweep = o.clock.interval(1000, () => relay.#closeIdle(), { unref: true });
    return relay;
  }

  /** The bound listen addresses (a port 0 resolved). */
  get listening(): readonly TransportAddress[] {
    return this.#servers.map((s) => {
      const a = s.address() as net.AddressInfo;
      return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
    });
  }

  /** This side's internal UDP address (transceivers answer TCP clients' packets to it). */
  get internal(): TransportAddress {
    const a = this.#internal.address();
    return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  }

  get connections(): number {
    return this.#all.size;
  }

  /** Bytes written to connections and not yet taken by the kernel, in all (bounded by maxQueuedBytes + one frame each). */
  get queuedBytes(): number {
    let n = 0;
    for (const c of this.#all) n += c.socket.writableLength;
    return n;
  }

  /** A call ended (its token revoked): its connections close. */
  revoke(ufrag: string): void {
    for (const c of this.#all) if (c.bound?.ufrag === ufrag) this.#close(c, 'client_closed');
  }

  async stop(): Promise<void> {
    this.#stopping = true;
    this.#sweep?.cancel();
    for (const c of [...this.#all]) this.#close(c, 'relay_stopping');
    await Promise.all(this.#servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
    await new Promise<void>((r) => {
      try {
        this.#internal.close(() => r());
      } catch {
        r();
      }
    });
  }

  async #listen(l: TcpListen): Promise<void> {
    const index = this.#servers.length;
    const server = net.createServer({ noDelay: true, pauseOnConnect: false }, (socket) => this.#accept(socket, index));
    server.on('error', (err) => this.#o.log?.warn('tcp relay listener error', { err }));
    server.maxConnections = this.#limits.maxConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // A deep backlog: a burst of (re)connecting clients is accepted and then judged by the caps,
      // not reset by the kernel. SO_REUSEPORT as on the UDP side: a replacement relay process
      // binds the same port while this one still runs (hand-over, docs/global-relay.md); new
      // connections then reach both until this one stops, and ours stay ours until then.
      server.listen({ host: l.address, port: l.port, exclusive: true, reusePort: true, backlog: 2048 }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#servers.push(server);
    const a = server.address() as net.AddressInfo;
    this.#publics.push(l.advertised ?? { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' });
  }

  #accept(socket: net.Socket, publicIndex: number): void {
    const ev = this.#o.events;
    const address = socket.remoteAddress;
    const port = socket.remotePort;
    if (this.#stopping || address === undefined || port === undefined) {
      socket.destroy();
      return;
    }
    const ipKey = rateKey(address);
    if (this.#all.size >= this.#limits.maxConnections) return this.#refuse(socket, 'too_many_connections');
    const fromIp = this.#perIp.get(ipKey) ?? 0;
    if (fromIp >= this.#limits.maxPerIp) return this.#refuse(socket, 'too_many_from_ip');
    this.#perIp.set(ipKey, fromIp + 1);
    const c: Connection = {
      socket,
      client: { address, port, family: socket.remoteFamily === 'IPv6' ? 'IPv6' : 'IPv4' },
      publicIndex,
      ipKey,
      deframer: new Rfc4571Deframer(RELAY_MAX_PAYLOAD),
      lastSeen: this.#o.clock.now(),
      closed: false,
    };
    this.#all.add(c);
    ev.accepted();
    c.firstFrameTimer = this.#o.clock.timeout(this.#limits.firstFrameMs, () => {
      if (!c.bound) this.#close(c, 'first_frame_timeout');
    });
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(c, chunk));
    socket.on('error', () => this.#close(c, 'client_closed'));
    socket.on('close', () => this.#close(c, 'client_closed'));
    socket.on('end', () => this.#close(c, 'client_closed'));
  }

  #refuse(socket: net.Socket, reason: TcpCloseReason): void {
    this.#o.events.closed(reason);
    socket.destroy();
  }

  #onData(c: Connection, chunk: Buffer): void {
    if (c.closed) return;
    const r = c.deframer.push(chunk);
    if ('error' in r) return this.#close(c, 'bad_frame');
    c.lastSeen = this.#o.clock.now();
    for (const frame of r.frames) {
      if (c.closed) return;
      if (!c.bound) this.#firstFrame(c, frame);
      else this.#toTransceiver(c, frame);
    }
  }

  #firstFrame(c: Connection, frame: Buffer): void {
    const username = frame[0] <= 3 ? peekUsername(frame) : undefined;
    if (username === undefined) {
      this.#o.events.dropped('not_stun');
      return this.#close(c, 'first_frame_refused');
    }
    const v = verifyCheck(this.#o.check, frame, username, c.client, this.#o.clock.wallNow());
    if (v.kind === 'drop') {
      this.#o.events.dropped(v.reason);
      return this.#close(c, 'first_frame_refused');
    }
    const held = this.#perToken.get(v.ufrag) ?? 0;
    if (held >= this.#limits.maxPerToken) return this.#close(c, 'token_cap');
    this.#perToken.set(v.ufrag, held + 1);
    const key = boundKey(c.publicIndex, clientKeyOfAddress(c.client, 'tcp')!);
    c.bound = { key, ufrag: v.ufrag, dest: v.destination, header: encodeRelayHeader(c.client, this.#publics[c.publicIndex], 'tcp') };
    c.firstFrameTimer?.cancel();
    this.#bound.set(key, c);
    this.#toTransceiver(c, frame);
  }

  #toTransceiver(c: Connection, frame: Buffer): void {
    const b = c.bound!;
    this.#internal.send([b.header, frame], b.dest.port, b.dest.address, (err) => {
      if (err) this.#o.events.dropped('send_error');
    });
    this.#o.events.forwarded('to_transceiver', frame.length);
  }

  #fromTransceiver(msg: Buffer, from: dgram.RemoteInfo): void {
    const ev = this.#o.events;
    if (!this.#o.check.transceiverAllowed(from.address)) return ev.dropped('disallowed_source');
    if (!isTcpRelayHeader(msg) || msg.length === RELAY_HEADER_LENGTH) return ev.dropped('bad_header');
    if (msg.length - RELAY_HEADER_LENGTH > RELAY_MAX_PAYLOAD) return ev.dropped('too_large');
    const index = publicIndexOfHeader(this.#matchers, msg);
    const c = index < 0 ? undefined : this.#bound.get(boundKey(index, clientKeyOfHeader(msg)));
    // Only onto a connection that is bound, and only from the transceiver it is bound to.
    if (!c || c.closed || c.bound!.dest.port !== from.port || c.bound!.dest.address !== from.address) return ev.dropped('unknown_flow');
    if (c.socket.writableLength > this.#limits.maxQueuedBytes) return ev.dropped('tcp_slow_reader');
    const payload = msg.subarray(RELAY_HEADER_LENGTH);
    c.socket.write(frameRfc4571(payload));
    ev.forwarded('to_client', payload.length);
  }

  #closeIdle(): void {
    const now = this.#o.clock.now();
    for (const c of this.#all) if (c.bound && now - c.lastSeen > this.#limits.idleMs) this.#close(c, 'idle');
  }

  #close(c: Connection, reason: TcpCloseReason): void {
    if (c.closed) return;
    c.closed = true;
    c.firstFrameTimer?.cancel();
    this.#all.delete(c);
    const n = (this.#perIp.get(c.ipKey) ?? 1) - 1;
    if (n > 0) this.#perIp.set(c.ipKey, n);
    else this.#perIp.delete(c.ipKey);
    if (c.bound) {
      this.#bound.delete(c.bound.key);
      const t = (this.#perToken.get(c.bound.ufrag) ?? 1) - 1;
      if (t > 0) this.#perToken.set(c.bound.ufrag, t);
      else this.#perToken.delete(c.bound.ufrag);
    }
    this.#o.events.closed(reason);
    c.socket.destroy();
  }
}

function boundKey(publicIndex: number, client: ClientKey): string {
  return `${publicIndex}|${String(client)}`;
}
