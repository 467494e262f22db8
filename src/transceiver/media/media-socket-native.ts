// `--media-io native`: the media socket of native/src/media_socket.c. A reader thread takes
// datagrams with recvmmsg and hands them to this class in batches (one callback per batch,
// after the batch window --media-batch-us), packed into a receive area that each datagram is
// handed on as a view of (valid during the callback: no allocation per datagram); sends are written into
// a send area shared with the addon and leave with one sendmmsg per pass (the end of a batch,
// or a microtask after a timer or a handler queued them). While no media flows (at start; one second
// without it) the JS thread reads the socket itself instead, without the thread hop (the addon's
// header). The endpoint sees the same MediaSocket as with dgram.
import { nativeAddonLoader } from '../../common/native-addon.ts';
import type { TransportAddress } from '../../core/address.ts';
import { ipToBytes } from '../../core/address.ts';
import { DgramMediaSocket, PeerCache, checkBufferSizes } from './media-socket.ts';
import type { MediaIo, MediaPeer, MediaSocket, MediaSocketOptions } from './media-socket.ts';

/**
 * Default batch window, measured with bench:calls at 200 calls (docs/performance.md, three
 * interleaved rounds, µs of CPU per packet in): dgram 77–84, 300 µs 57–64, 1000 µs 58–63,
 * 2000 µs 54–56. At 50 packets/s per call 2 ms gathers ~20 datagrams per wake-up at 200 calls;
 * it adds at most 2 ms to a media datagram's way in (an echo's round trip: 4 ms at most), small
 * beside the 20 ms of one audio frame. STUN and DTLS end the window (bind's urgentOffset), so
 * call setup does not pay it once per round trip.
 */
export const DEFAULT_MEDIA_BATCH_US = 2000;

interface OpenResult {
  readonly handle: object;
  readonly address: string;
  readonly port: number;
  readonly family: 'IPv4' | 'IPv6';
  readonly receiveBuffer: number;
  readonly sendBuffer: number;
  readonly rxArea: ArrayBuffer;
  readonly rxMeta: ArrayBuffer;
  readonly tx: ArrayBuffer;
  readonly txMeta: ArrayBuffer;
  readonly tid: number;
}

/** The addon's functions and limits (native/src/media_socket.c). */
export interface MediaSocketAddon {
  readonly RX_BATCH: number;
  readonly SLOT: number;
  readonly RX_META: number;
  readonly TX_BATCH: number;
  readonly TX_AREA: number;
  readonly TX_META: number;
  readonly MAX_BATCH_US: number;
  open(o: {
    address: string;
    port: number;
    bufferBytes: number;
    batchUs: number;
    urgentOffset: number;
    onBatch: (n: number, tooLarge: number) => void;
  }): OpenResult;
  flush(h: object, n: number): number;
  close(h: object): void;
}

/** The addon, or why it cannot be used (not built, not Linux, fails to load, stale). Cached. */
export const loadMediaSocketAddon = nativeAddonLoader<MediaSocketAddon>({
  file: 'parley_media_socket.node',
  what: 'the native media socket',
  check: (a) => (a.RX_META !== 8 || a.TX_META !== 8 ? 'stale (metadata layout); rebuild it (npm run build:native)' : undefined),
});

/** A destination as the addon reads it: port, v6, then the address bytes as 4 words. */
type Destination = Uint32Array;

export class NativeMediaSocket implements MediaSocket {
  readonly io = 'native';
  readonly address: TransportAddress;
  /** The reader thread (tests; pinning). */
  readonly tid: number;
  /** Deliveries so far: datagrams received ÷ batches is the batching achieved (tests). */
  batches = 0;
  readonly #o: MediaSocketOptions;
  readonly #addon: MediaSocketAddon;
  readonly #h: object;
  readonly #rx: Uint32Array;
  readonly #rxArea: Buffer;
  readonly #rxBytes: Uint8Array;
  readonly #tx: Uint8Array;
  readonly #txMeta: Uint32Array;
  readonly #peersV4 = new Map<number, MediaPeer>();
  readonly #peers = new PeerCache();
  readonly #destinations = new WeakMap<TransportAddress, Destination>();
  /** Nearly every send goes to the one relay socket of the last one: skip the WeakMap for it. */
  #lastTo: TransportAddress | undefined;
  #lastDestination: Destination | undefined;
  #queued = 0;
  #used = 0;
  #inBatch = false;
  #flushScheduled = false;
  #closed: Promise<void> | undefined;

  private constructor(o: MediaSocketOptions, addon: MediaSocketAddon, r: OpenResult) {
    this.#o = o;
    this.#addon = addon;
    this.#h = r.handle;
    this.#rx = new Uint32Array(r.rxMeta);
    this.#rxArea = Buffer.from(r.rxArea);
    this.#rxBytes = new Uint8Array(r.rxMeta);
    this.#tx = new Uint8Array(r.tx);
    this.#txMeta = new Uint32Array(r.txMeta);
    this.address = { address: r.address, port: r.port, family: r.family };
    this.tid = r.tid;
  }

  /**
   * Binds and starts the reader thread; rejects when the address cannot be bound. `urgentOffset`:
   * a datagram whose byte there is below 128 (not RTP/RTCP, RFC 7983) ends the batch window at
   * once (the endpoint passes the relay header's length: STUN and DTLS of a call's setup do not
   * wait), and until media comes the JS thread reads the socket (the reader thread parked);
   * omitted, every datagram is media: it waits out the window and the reader reads from the start.
   */
  static async bind(o: MediaSocketOptions & { readonly batchUs: number; readonly urgentOffset?: number }): Promise<NativeMediaSocket> {
    const addon = loadMediaSocketAddon();
    if (addon instanceof Error) throw addon;
    const holder: { s?: NativeMediaSocket } = {};
    const r = addon.open({
      address: o.bind.address,
      port: o.bind.port,
      bufferBytes: o.bufferBytes,
      batchUs: o.batchUs,
      urgentOffset: o.urgentOffset ?? -1,
      onBatch: (n, tooLarge) => {
        if (holder.s) holder.s.#onBatch(n, tooLarge);
      },
    });
    checkBufferSizes(o.log, o.bufferBytes, r.receiveBuffer, r.sendBuffer);
    holder.s = new NativeMediaSocket(o, addon, r);
    return holder.s;
  }

  #onBatch(n: number, tooLarge: number): void {
    if (this.#closed) return;
    this.batches++;
    if (tooLarge > 0) this.#o.onTooLarge(tooLarge);
    const m = this.#rx;
    const area = this.#rxArea;
    const onDatagram = this.#o.onDatagram;
    this.#inBatch = true;
    try {
      for (let i = 0, j = 0; i < n; i++, j += 8) {
        const off = m[j];
        // A view, valid for this call only (the next batch reuses the area): the endpoint copies
        // the rare datagrams a session keeps (STUN, DTLS) and SRTP decrypts into a buffer of its own.
        onDatagram(area.subarray(off, off + m[j + 1]), this.#peer(j));
      }
    } finally {
      this.#inBatch = false;
      this.flush();
    }
  }

  /** The sender of datagram j/8 of the batch: IPv4 by one number, IPv6 through its text (rare). */
  #peer(j: number): MediaPeer {
    const m = this.#rx;
    const port = m[j + 2];
    if (m[j + 3] === 0) {
      const key = m[j + 4] * 65536 + port;
      let p = this.#peersV4.get(key);
      if (!p) {
        const b = this.#rxBytes;
        const o = (j + 4) * 4;
        if (this.#peersV4.size >= 4096) this.#peersV4.clear();
        p = this.#peers.get(`${b[o]}.${b[o + 1]}.${b[o + 2]}.${b[o + 3]}`, port, 'IPv4');
        this.#peersV4.set(key, p);
        // Its send destination from the same bytes (the address word as received: network order
        // in memory, as #destination lays it out), so a reply does not parse the text back.
        if (!this.#destinations.has(p.socket)) this.#destinations.set(p.socket, Uint32Array.of(port, 0, m[j + 4], 0, 0, 0));
      }
      return p;
    }
    const o = (j + 4) * 4;
    const words: string[] = [];
    for (let k = 0; k < 16; k += 2) words.push(((this.#rxBytes[o + k] << 8) | this.#rxBytes[o + k + 1]).toString(16));
    // Compressed the way Node's rinfo.address is (RFC 5952), so the relay CIDR check sees the same text.
    return this.#peers.get(compressV6(words), port, 'IPv6');
  }

  send(header: Buffer, data: Buffer, to: TransportAddress): void {
    if (this.#closed) return;
    const len = header.length + data.length;
    if (this.#queued === this.#addon.TX_BATCH || this.#used + len > this.#addon.TX_AREA) this.flush();
    const dest = this.#destination(to);
    if (!dest || len > this.#addon.TX_AREA) return this.#o.onSendError(1);
    const off = this.#used;
    this.#tx.set(header, off);
    this.#tx.set(data, off + header.length);
    const j = this.#queued * 8;
    const t = this.#txMeta;
    t[j] = off;
    t[j + 1] = len;
    t[j + 2] = dest[0];
    t[j + 3] = dest[1];
    t[j + 4] = dest[2];
    t[j + 5] = dest[3];
    t[j + 6] = dest[4];
    t[j + 7] = dest[5];
    this.#queued++;
    this.#used = off + len;
    if (!this.#inBatch && !this.#flushScheduled) {
      // A timer pass or a handler queued this: one flush when the current JS turn ends.
      this.#flushScheduled = true;
      queueMicrotask(this.#scheduledFlush);
    }
  }

  readonly #scheduledFlush = (): void => {
    this.#flushScheduled = false;
    this.flush();
  };

  #destination(to: TransportAddress): Destination | undefined {
    if (to === this.#lastTo) return this.#lastDestination;
    let d = this.#destinations.get(to);
    if (d) {
      this.#lastTo = to;
      this.#lastDestination = d;
      return d;
    }
    const ip = ipToBytes(to.address);
    if (!ip) return undefined;
    const bytes = new Uint8Array(16);
    bytes.set(ip);
    const words = new Uint32Array(bytes.buffer);
    d = Uint32Array.of(to.port, ip.length === 16 ? 1 : 0, words[0], words[1], words[2], words[3]);
    this.#destinations.set(to, d);
    return d;
  }

  flush(): void {
    const n = this.#queued;
    if (n === 0) return;
    this.#queued = 0;
    this.#used = 0;
    const failed = this.#addon.flush(this.#h, n);
    if (failed > 0) this.#o.onSendError(failed);
  }

  close(): Promise<void> {
    this.#closed ??= (async () => {
      this.flush();
      this.#addon.close(this.#h);
    })();
    return this.#closed;
  }
}

/** RFC 5952 §4.2: the longest run (≥ 2) of zero words becomes "::". */
function compressV6(words: string[]): string {
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (words[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return words.join(':');
  return `${words.slice(0, best).join(':')}::${words.slice(best + bestLen).join(':')}`;
}

/**
 * The media socket --media-io names: the addon's (batched, `batchUs` default
 * DEFAULT_MEDIA_BATCH_US; `urgentOffset` where a datagram's own first byte is, after any relay
 * header) or node:dgram's.
 */
export function bindMediaSocket(
  io: MediaIo,
  o: MediaSocketOptions,
  native: { readonly batchUs?: number; readonly urgentOffset: number },
): Promise<MediaSocket> {
  return io === 'native'
    ? NativeMediaSocket.bind({ ...o, batchUs: native.batchUs ?? DEFAULT_MEDIA_BATCH_US, urgentOffset: native.urgentOffset })
    : DgramMediaSocket.bind(o);
}
