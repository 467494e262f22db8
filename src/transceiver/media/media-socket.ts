// The seam between the media endpoint and its UDP socket (`--media-io native|dgram`): bind,
// datagrams in with the peer (relay socket) they came from, datagrams out (relay header +
// payload, gathered), close. Two implementations: DgramMediaSocket here (Node's dgram, one
// recvmsg and one callback per datagram, one sendmsg per datagram) and NativeMediaSocket
// (media/media-socket-native.ts: recvmmsg/sendmmsg in batches, native/src/media_socket.c). Both
// behave the same to the endpoint: same buffer sizes and warning, same bind errors, same
// drops. Not here: what a datagram means (media/endpoint.ts).
import { createSocket } from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import type { TransportAddress } from '../../core/address.ts';
import type { Logger } from '../../common/log.ts';

export const MEDIA_IO_MODES = ['native', 'dgram'] as const;
export type MediaIo = (typeof MEDIA_IO_MODES)[number];

/**
 * Each queued datagram costs its truesize (~1 KB for a 200-byte RTP packet) of the receive
 * buffer, so 8 MiB holds ~100 ms of 1000 calls at 50 packets/s: a GC pause or a burst of DTLS
 * handshakes is absorbed instead of dropped. The kernel's ~208 KB default overflowed at a few
 * hundred calls (Pion's echo server shows the same: docs/performance.md).
 */
export const DEFAULT_UDP_BUFFER_BYTES = 8 * 1024 * 1024;

/**
 * The longest datagram either socket accepts: a relay sends at most its 40-byte header + 1500;
 * longer ones are dropped and counted (too_large) before any parsing, in both modes alike.
 */
export const MAX_MEDIA_DATAGRAM = 2048;

/** A sender (in practice a relay socket); one object per address, shared by all its datagrams. */
export interface MediaPeer {
  readonly socket: TransportAddress;
  /** The endpoint's --relay-cidrs verdict, cached here so a datagram costs no lookup for it. */
  allowed: boolean | undefined;
}

export interface MediaSocketOptions {
  readonly bind: TransportAddress;
  /** SO_RCVBUF / SO_SNDBUF (--udp-buffer). */
  readonly bufferBytes: number;
  readonly log?: Logger;
  /**
   * One datagram, with its sender. `msg` is valid only during this call: the native socket hands
   * a view of a receive area that the next batch overwrites. Copy what must outlive the call.
   */
  readonly onDatagram: (msg: Buffer, from: MediaPeer) => void;
  /** Datagrams longer than MAX_MEDIA_DATAGRAM, dropped unread. */
  readonly onTooLarge: (count: number) => void;
  readonly onSendError: (count: number) => void;
}

export interface MediaSocket {
  readonly io: MediaIo;
  readonly address: TransportAddress;
  /** Queues (native) or sends (dgram) header + data to `to`; errors go to onSendError. */
  send(header: Buffer, data: Buffer, to: TransportAddress): void;
  /** Sends what is queued now (native; dgram sends at once). */
  flush(): void;
  /** Sends what is queued, then closes. Idempotent. */
  close(): Promise<void>;
}

/** Most peers a socket remembers (relays are a handful; a flood of senders only resets the cache). */
const MAX_PEERS = 4096;

/** Sender objects by address, so per datagram there is a lookup but no allocation. */
export class PeerCache {
  readonly #byText = new Map<string, Map<number, MediaPeer>>();
  #size = 0;

  get(address: string, port: number, family: 'IPv4' | 'IPv6'): MediaPeer {
    let ports = this.#byText.get(address);
    let peer = ports?.get(port);
    if (peer) return peer;
    if (this.#size >= MAX_PEERS) {
      this.#byText.clear();
      this.#size = 0;
      ports = undefined;
    }
    if (!ports) {
      ports = new Map();
      this.#byText.set(address, ports);
    }
    peer = { socket: { address, port, family }, allowed: undefined };
    ports.set(port, peer);
    this.#size++;
    return peer;
  }
}

/** Every destination is a literal IP (relay sockets): skip dgram's per-send DNS lookup. */
function literalLookup(host: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, host, host.includes(':') ? 6 : 4);
}

/** Warns when Linux granted less than asked (it caps at rmem_max / wmem_max and reports double). */
export function checkBufferSizes(log: Logger | undefined, want: number, reportedReceive: number, reportedSend: number): void {
  const got = { receive: reportedReceive / 2, send: reportedSend / 2 };
  if (got.receive < want || got.send < want) {
    log?.warn('media socket buffers are smaller than asked: raise net.core.rmem_max / net.core.wmem_max', { asked: want, ...got });
  }
}

export class DgramMediaSocket implements MediaSocket {
  readonly io = 'dgram';
  readonly address: TransportAddress;
  readonly #o: MediaSocketOptions;
  readonly #socket: Socket;
  readonly #peers = new PeerCache();
  #closed: Promise<void> | undefined;

  private constructor(o: MediaSocketOptions, socket: Socket, address: TransportAddress) {
    this.#o = o;
    this.#socket = socket;
    this.address = address;
    socket.on('message', (msg, rinfo) => this.#onMessage(msg, rinfo));
    socket.on('error', (err) => o.log?.error('media socket error', { err }));
  }

  /** Binds; rejects when the address cannot be bound. */
  static async bind(o: MediaSocketOptions): Promise<DgramMediaSocket> {
    const socket = createSocket({
      type: o.bind.family === 'IPv6' ? 'udp6' : 'udp4',
      ipv6Only: o.bind.family === 'IPv6',
      recvBufferSize: o.bufferBytes,
      sendBufferSize: o.bufferBytes,
      lookup: literalLookup as never,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('error', reject);
      socket.bind(o.bind.port, o.bind.address, () => {
        socket.off('error', reject);
        resolve();
      });
    });
    const a = socket.address();
    checkBufferSizes(o.log, o.bufferBytes, socket.getRecvBufferSize(), socket.getSendBufferSize());
    return new DgramMediaSocket(o, socket, { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' });
  }

  #onMessage(msg: Buffer, rinfo: RemoteInfo): void {
    if (msg.length > MAX_MEDIA_DATAGRAM) return this.#o.onTooLarge(1);
    this.#o.onDatagram(msg, this.#peers.get(rinfo.address, rinfo.port, rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4'));
  }

  send(header: Buffer, data: Buffer, to: TransportAddress): void {
    if (this.#closed) return;
    this.#socket.send([header, data], to.port, to.address, this.#onSent);
  }

  /** One callback for every send (no closure per packet). */
  readonly #onSent = (err: Error | null): void => {
    if (err) this.#o.onSendError(1);
  };

  flush(): void {}

  close(): Promise<void> {
    this.#closed ??= new Promise<void>((resolve) => this.#socket.close(() => resolve()));
    return this.#closed;
  }
}
