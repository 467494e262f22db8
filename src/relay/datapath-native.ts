// The native relay datapath (`--datapath native`): the same Datapath seam as NodeDatapath, with
// the sockets and the per-packet loop in the C addon of native/ (recvmmsg → flow lookup →
// header prepend/strip → sendmmsg, on a pthread of its own; docs/relay.md, "Native datapath").
// This class is the TypeScript half: it mirrors the JS flow table into the native one (install
// on the first forward or on adopt, remove on release), takes the addon's batched misses (first
// packets, unknown senders) to the control side exactly as NodeDatapath's per-packet callback
// would, and brings flows' lastSeen up to date before idle expiry (sync). The JS table stays
// the authority: cap, expiry, recovery and the store work as with the JS datapath.
// Counters the loop thread counts go to the native half of the worker's stats array
// (stats.ts NATIVE_STATS_BASE), written by that thread only.
import type { RemoteInfo } from 'node:dgram';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { TransportAddress } from '../core/address.ts';
import type { CidrSet } from '../core/cidr.ts';
import type { Datapath } from './datapath.ts';
import type { Flow, FlowTable } from './flow-table.ts';
import { NATIVE_COUNTERS, NATIVE_MISS_FIELDS, RELAY_ADDON_ABI } from '../contracts/relay-native.ts';
import { NATIVE_STATS_BASE, STATS_SLOTS, Slot, dropSlot, nativeCounterSlots } from './stats.ts';

export const NATIVE_ADDON_PATH = new URL('../../native/build/Release/parley_relay.node', import.meta.url).pathname;

interface OpenResult {
  readonly handle: object;
  readonly publics: TransportAddress[];
  readonly internal: TransportAddress;
  /** The loop threads (one per public socket, then the internal one). */
  readonly tids: number[];
}

/** The addon's functions (native/src/relay_native.c). */
export interface NativeAddon {
  /** How many counters it counts (NATIVE_COUNTERS). */
  readonly COUNTERS: number;
  /** The shape of these functions (RELAY_ADDON_ABI). */
  readonly ABI?: number;
  open(o: {
    publics: readonly TransportAddress[];
    internal: TransportAddress;
    reusePort: boolean;
    socketBufferBytes: number;
    maxFlows: number;
    /** [network bytes (4 or 16, host bits zero), prefix length] per block. */
    cidrs: [Buffer, number][];
    stats: Float64Array;
    slots: Int32Array;
    onMiss: (batch: unknown[]) => void;
  }): OpenResult;
  install(h: object, header: Buffer, publicIndex: number, destAddress: string, destPort: number, id: number): number;
  remove(h: object, header: Buffer, publicIndex: number, id: number): boolean;
  /** Writes [id, lastSeenMs] pairs of flows seen since the last call into `out`; returns the pair count. */
  seen(h: object, out: Float64Array): number;
  lookup(h: object, header: Buffer, publicIndex: number): number;
  send(h: object, header: Buffer | null, payload: Buffer, address: string, port: number): number;
  flows(h: object): number;
  close(h: object): void;
}

/** Where each value of a miss sits in the addon's flat miss batch (NATIVE_MISS_FIELDS). */
const MISS_FIELDS = NATIVE_MISS_FIELDS.length;
const Miss = Object.fromEntries(NATIVE_MISS_FIELDS.map((f, i) => [f, i])) as Record<(typeof NATIVE_MISS_FIELDS)[number], number>;

/** Flows sync() reads per call into the native table (more take another call). */
const SEEN_PAIRS = 4096;

let loaded: NativeAddon | Error | undefined;

/** The addon, or why it cannot be used (not built, not Linux, fails to load). Cached. */
export function loadNativeAddon(): NativeAddon | Error {
  if (loaded) return loaded;
  if (process.platform !== 'linux') return (loaded = new Error(`the native datapath is Linux-only (this is ${process.platform})`));
  if (!existsSync(NATIVE_ADDON_PATH)) return (loaded = new Error(`${NATIVE_ADDON_PATH} is not built (npm ci builds it with node-gyp)`));
  try {
    const a = createRequire(import.meta.url)(NATIVE_ADDON_PATH) as NativeAddon;
    if (a.COUNTERS !== NATIVE_COUNTERS.length || a.ABI !== RELAY_ADDON_ABI) return (loaded = new Error(`${NATIVE_ADDON_PATH} is stale; rebuild it (npm run build:native)`));
    loaded = a;
  } catch (err) {
    loaded = new Error(`cannot load ${NATIVE_ADDON_PATH}: ${(err as Error).message}`);
  }
  return loaded;
}

export interface NativeDatapathOptions {
  readonly table: FlowTable;
  readonly publics: readonly TransportAddress[];
  readonly internal: TransportAddress;
  readonly reusePort: boolean;
  readonly socketBufferBytes: number;
  /** The worker's whole stats array (JS half + native half). */
  readonly stats: Float64Array;
  /** The networks the loop accepts return traffic from (the one parser's blocks). */
  readonly transceiverCidrs: CidrSet;
  readonly onClientMiss: (msg: Buffer, rinfo: RemoteInfo, publicIndex: number) => void;
  readonly onSocketError: (err: Error) => void;
}

export class NativeDatapath implements Datapath {
  readonly #o: NativeDatapathOptions;
  readonly #addon: NativeAddon;
  #h: object | undefined;
  /** Flow by the id the native table knows it by (flow.out holds the id). */
  readonly #ids = new Map<number, Flow>();
  #nextId = 1;
  #closing: Promise<void> | undefined;
  /** sync()'s buffer: [id, lastSeenMs] pairs, SEEN_PAIRS at a time. */
  readonly #seenBuf = new Float64Array(SEEN_PAIRS * 2);
  /** The native loop threads (pin them, not only the worker's JS thread). */
  tids: readonly number[] = [];

  constructor(o: NativeDatapathOptions) {
    const a = loadNativeAddon();
    if (a instanceof Error) throw a;
    this.#addon = a;
    this.#o = o;
  }

  async bind(): Promise<{ publics: TransportAddress[]; internal: TransportAddress }> {
    const o = this.#o;
    const buf = o.stats.buffer;
    if (o.stats.length < NATIVE_STATS_BASE + STATS_SLOTS) throw new RangeError('the stats array has no native half');
    const r = this.#addon.open({
      publics: o.publics,
      internal: o.internal,
      reusePort: o.reusePort,
      socketBufferBytes: o.socketBufferBytes,
      maxFlows: o.table.maxFlows,
      cidrs: o.transceiverCidrs.blocks.map((c) => [c.network, c.prefix]),
      stats: new Float64Array(buf, o.stats.byteOffset + NATIVE_STATS_BASE * 8, STATS_SLOTS),
      slots: nativeCounterSlots(),
      onMiss: (batch) => this.#onMisses(batch),
    });
    this.#h = r.handle;
    this.tids = r.tids.filter((t) => t > 0);
    return { publics: r.publics, internal: r.internal };
  }

  #onMisses(b: unknown[]): void {
    if (this.#closing) return;
    const miss = this.#o.onClientMiss;
    for (let i = 0; i + MISS_FIELDS <= b.length; i += MISS_FIELDS) {
      const msg = b[i + Miss.payload] as Buffer;
      const rinfo = { address: b[i + Miss.address] as string, port: b[i + Miss.port] as number, family: b[i + Miss.family] as 'IPv4' | 'IPv6', size: msg.length };
      miss(msg, rinfo, b[i + Miss.publicIndex] as number);
    }
  }

  forward(flow: Flow, payload: Buffer): void {
    if (this.#closing || !this.#h) return;
    const stats = this.#o.stats;
    stats[Slot.pktsToTransceiver]++;
    stats[Slot.bytesToTransceiver] += payload.length;
    if (flow.out === undefined) this.adopt(flow);
    const rc = this.#addon.send(this.#h, flow.header, payload, flow.destAddress, flow.destPort);
    if (rc !== 0) {
      stats[dropSlot.send_error]++;
      this.#o.onSocketError(new Error(`send to ${flow.destAddress}:${flow.destPort} failed: errno ${rc}`));
    }
  }

  /** Mirrors a flow of the JS table into the native one (new, recovered or bulk-loaded). */
  adopt(flow: Flow): void {
    if (this.#closing || !this.#h) return;
    const id = this.#nextId;
    this.#nextId = id >= 0xfffffffe ? 1 : id + 1;
    const prev = this.#addon.install(this.#h, flow.header, flow.publicIndex, flow.destAddress, flow.destPort, id);
    if (prev < 0) return; // cannot happen: the native table holds twice the JS cap
    if (prev > 0) {
      const old = this.#ids.get(prev);
      if (old) old.out = undefined;
      this.#ids.delete(prev);
    }
    this.#ids.set(id, flow);
    flow.out = id;
  }

  /** The flow left the JS table (idle expiry): the native loop stops forwarding it. */
  release(flow: Flow): void {
    const id = flow.out;
    if (typeof id !== 'number') return;
    flow.out = undefined;
    this.#ids.delete(id);
    if (this.#h && !this.#closing) this.#addon.remove(this.#h, flow.header, flow.publicIndex, id);
  }

  /**
   * Copies the native last-seen times into the flows (before idle expiry and store refresh),
   * through one buffer kept for the purpose: nothing is allocated per sweep, and nothing is asked
   * of the addon when there are no flows.
   */
  sync(): void {
    if (!this.#h || this.#closing || this.#ids.size === 0) return;
    const s = this.#seenBuf;
    for (;;) {
      const n = this.#addon.seen(this.#h, s);
      for (let i = 0; i < n * 2; i += 2) {
        const f = this.#ids.get(s[i]);
        if (f && s[i + 1] > f.lastSeen) f.lastSeen = s[i + 1];
      }
      if (n * 2 < s.length) return;
    }
  }

  /** Flows in the native table (tests). */
  get nativeFlows(): number {
    return this.#h && !this.#closing ? this.#addon.flows(this.#h) : 0;
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      if (this.#h) this.#addon.close(this.#h);
      this.#ids.clear();
    })();
    return this.#closing;
  }
}
