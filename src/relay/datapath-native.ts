// The native relay datapath (`--datapath native`): the Datapath of datapath.ts with the sockets,
// the per-packet loop and the flow table in the C addon of native/ (recvmmsg → flow lookup →
// header prepend/strip → sendmmsg, on pthreads of its own; docs/relay.md, "Native datapath").
// This class is the TypeScript half: it opens the addon, hands its batched misses (first
// packets, unknown senders, STUN from known flows) to the control side exactly as NodeDatapath's
// per-packet callback would, forwards what the control side routes, and gives the worker the
// addon's table as its flow index (native-flow-index.ts) — the only copy on this datapath.
// Counters the loop threads count go to the native half of the worker's stats array
// (stats.ts NATIVE_STATS_BASE), written by one loop thread only.
import { nativeAddonLoader } from '../common/native-addon.ts';
import type { TransportAddress } from '../core/address.ts';
import { NATIVE_COUNTERS, NATIVE_MISS_FIELDS, RELAY_ADDON_ABI } from '../contracts/relay-native.ts';
import type { Bound, Datapath, DatapathEvents, DatapathOptions, LoopFirstChecks } from './datapath.ts';
import type { FlowView } from './flow-index.ts';
import type { NativeCheckCalls } from './first-check.ts';
import type { NativeTableCalls } from './native-flow-index.ts';
import { NativeFlowIndex } from './native-flow-index.ts';
import { NATIVE_STATS_BASE, STATS_SLOTS, Slot, dropSlot, nativeCounterSlots } from './stats.ts';

interface OpenResult {
  readonly handle: object;
  readonly publics: TransportAddress[];
  readonly internal: TransportAddress;
  /** The loop threads (one per public socket, then the internal one). */
  readonly tids: number[];
}

/** The addon's functions (native/src/relay_native.c). */
export interface NativeAddon extends NativeTableCalls, NativeCheckCalls {
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
    /** The worker's coarse clock in cell 0 (ms): what the loops stamp flows with. */
    now: Float64Array;
    onMiss: (batch: unknown[]) => void;
  }): OpenResult;
  /** Sends the flow's header + payload to its transceiver: 0, an errno, or -1 when there is no such flow. */
  forward(h: object, clientAddress: string, clientPort: number, publicIndex: number, payload: Buffer): number;
  close(h: object): void;
  /** The loop decides the common first checks itself from now on (native/src/relay_native.c nfc_decide). */
  firstChecksInLoop(
    h: object,
    keys: object,
    lifetimeMs: number,
    clockSkewMs: number,
    firstFlowWindowMs: number,
    ratePerSecond: number,
    burst: number,
    checksPerSecond: number,
  ): void;
  /** The worker learnt this token is revoked. */
  revokeToken(h: object, ufrag: string): void;
}

/** Where each value of a miss sits in the addon's flat miss batch (NATIVE_MISS_FIELDS). */
const MISS_FIELDS = NATIVE_MISS_FIELDS.length;
const Miss = Object.fromEntries(NATIVE_MISS_FIELDS.map((f, i) => [f, i])) as Record<(typeof NATIVE_MISS_FIELDS)[number], number>;

/** The addon, or why it cannot be used (not built, not Linux, fails to load, stale). Cached. */
export const loadNativeAddon = nativeAddonLoader<NativeAddon>({
  file: 'parley_relay.node',
  what: 'the native datapath',
  check: (a) =>
    a.COUNTERS !== NATIVE_COUNTERS.length || a.ABI !== RELAY_ADDON_ABI ? 'stale; rebuild it (npm run build:native)' : undefined,
});

export class NativeDatapath implements Datapath<FlowView> {
  readonly #o: DatapathOptions;
  readonly #addon: NativeAddon;
  #h: object | undefined;
  #index: NativeFlowIndex | undefined;
  #closing: Promise<void> | undefined;
  #events: DatapathEvents = { onClientMiss: () => {}, onSocketError: () => {} };
  /** The native loop threads (pin them, not only the worker's JS thread). */
  tids: readonly number[] = [];

  constructor(o: DatapathOptions) {
    const a = loadNativeAddon();
    if (a instanceof Error) throw a;
    this.#addon = a;
    this.#o = o;
  }

  async bind(events: DatapathEvents): Promise<Bound<FlowView>> {
    this.#events = events;
    const o = this.#o;
    const buf = o.stats.buffer;
    if (o.stats.length < NATIVE_STATS_BASE + STATS_SLOTS) throw new RangeError('the stats array has no native half');
    const r = this.#addon.open({
      publics: o.publics,
      internal: o.internal,
      reusePort: o.reusePort,
      socketBufferBytes: o.socketBufferBytes,
      maxFlows: o.maxFlows,
      cidrs: o.transceiverCidrs.blocks.map((c) => [c.network, c.prefix]),
      stats: new Float64Array(buf, o.stats.byteOffset + NATIVE_STATS_BASE * 8, STATS_SLOTS),
      slots: nativeCounterSlots(),
      now: o.now,
      onMiss: (batch) => this.#onMisses(batch),
    });
    this.#h = r.handle;
    this.#index = new NativeFlowIndex(this.#addon, r.handle, { maxFlows: o.maxFlows, idleMs: o.idleMs });
    this.tids = r.tids.filter((t) => t > 0);
    return { publics: r.publics, internal: r.internal, index: this.#index };
  }

  #onMisses(b: unknown[]): void {
    if (this.#closing) return;
    const miss = this.#events.onClientMiss;
    const made = this.#events.onFirstFlowMade;
    for (let i = 0; i + MISS_FIELDS <= b.length; i += MISS_FIELDS) {
      const msg = b[i + Miss.payload] as Buffer;
      const rinfo = {
        address: b[i + Miss.address] as string,
        port: b[i + Miss.port] as number,
        family: b[i + Miss.family] as 'IPv4' | 'IPv6',
        size: msg.length,
      };
      const issuedAt = b[i + Miss.created] as number | undefined;
      if (issuedAt === undefined) miss(msg, rinfo, b[i + Miss.publicIndex] as number);
      else made?.(msg, rinfo, b[i + Miss.publicIndex] as number, issuedAt);
    }
  }

  firstChecksInLoop(o: LoopFirstChecks): void {
    if (!this.#h || this.#closing) return;
    this.#addon.firstChecksInLoop(
      this.#h,
      o.keys,
      o.lifetimeMs,
      o.clockSkewMs,
      o.firstFlowWindowMs,
      o.ratePerSecond,
      o.burst,
      o.checksPerSecond,
    );
  }

  revokeToken(ufrag: string): void {
    if (this.#h && !this.#closing) this.#addon.revokeToken(this.#h, ufrag);
  }

  forward(flow: FlowView, payload: Buffer): void {
    if (this.#closing || !this.#h) return;
    const stats = this.#o.stats;
    stats[Slot.pktsToTransceiver]++;
    stats[Slot.bytesToTransceiver] += payload.length;
    const rc = this.#addon.forward(this.#h, flow.clientAddress, flow.clientPort, flow.publicIndex, payload);
    if (rc !== 0) {
      stats[dropSlot.send_error]++;
      this.#events.onSocketError(
        new Error(
          rc < 0
            ? `no flow for ${flow.clientAddress}:${flow.clientPort}`
            : `send to ${flow.destAddress}:${flow.destPort} failed: errno ${rc}`,
        ),
      );
    }
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#index?.closed();
      if (this.#h) this.#addon.close(this.#h);
    })();
    return this.#closing;
  }
}
