// The native datapath's flow index (flow-index.ts): the addon's own table, the only copy on that
// datapath. Every method is one call into the addon (native/src/relay_native.c) under its table
// lock; none is on the per-packet path — the loop threads forward known flows without JavaScript.
// A flow handed out (get, insert, sweep) is a FlowView snapshot: a flow is named to the addon by
// its client address and public index, never by an object kept in step with the table.
import type { TransportAddress } from '../core/address.ts';
import { encodeRelayHeader } from '../contracts/relay-header.ts';
import { NATIVE_FLOW_FIELDS } from '../contracts/relay-native.ts';
import type { FlowIndex, FlowView, InsertResult, NewFlow } from './flow-index.ts';

/** The addon's functions this index calls (NativeAddon, datapath-native.ts, has them all). */
export interface NativeTableCalls {
  /** → 0 added, 1 replaced, -1 full. */
  install(
    h: object,
    header: Buffer,
    publicIndex: number,
    destAddress: string,
    destPort: number,
    ufrag: string,
    now: number,
    confirmed: boolean,
  ): number;
  /** → the flow's NATIVE_FLOW_FIELDS values, or undefined. */
  get(h: object, clientAddress: string, clientPort: number, publicIndex: number): unknown[] | undefined;
  touch(h: object, clientAddress: string, clientPort: number, publicIndex: number, now: number): boolean;
  remove(h: object, clientAddress: string, clientPort: number, publicIndex: number): boolean;
  /** → [expired, then NATIVE_FLOW_FIELDS values per flow due for a store refresh]. */
  sweep(h: object, now: number, idleMs: number, refreshMs: number): unknown[];
  flows(h: object): number;
}

const FIELDS = NATIVE_FLOW_FIELDS.length;
const Field = Object.fromEntries(NATIVE_FLOW_FIELDS.map((f, i) => [f, i])) as Record<(typeof NATIVE_FLOW_FIELDS)[number], number>;

function viewAt(a: readonly unknown[], i: number): FlowView {
  const clientAddress = a[i + Field.clientAddress] as string;
  return {
    clientAddress,
    clientPort: a[i + Field.clientPort] as number,
    clientFamily: clientAddress.includes(':') ? 'IPv6' : 'IPv4',
    publicIndex: a[i + Field.publicIndex] as number,
    destAddress: a[i + Field.destAddress] as string,
    destPort: a[i + Field.destPort] as number,
    ufrag: a[i + Field.ufrag] as string,
    lastSeen: a[i + Field.lastSeen] as number,
    confirmed: a[i + Field.confirmed] === 1,
  };
}

export class NativeFlowIndex implements FlowIndex<FlowView> {
  readonly maxFlows: number;
  readonly idleMs: number;
  readonly #addon: NativeTableCalls;
  readonly #h: object;
  #closed = false;

  /** `h`: an open addon handle; close() is the datapath's (after it, every call is a no-op). */
  constructor(addon: NativeTableCalls, h: object, o: { maxFlows: number; idleMs: number }) {
    this.#addon = addon;
    this.#h = h;
    this.maxFlows = o.maxFlows;
    this.idleMs = o.idleMs;
  }

  /** The datapath closed the handle. */
  closed(): void {
    this.#closed = true;
  }

  get size(): number {
    return this.#closed ? 0 : this.#addon.flows(this.#h);
  }

  get(address: string, port: number, publicIndex: number): FlowView | undefined {
    if (this.#closed) return undefined;
    const a = this.#addon.get(this.#h, address, port, publicIndex);
    return a === undefined ? undefined : viewAt(a, 0);
  }

  insert(f: NewFlow, now: number): InsertResult<FlowView> {
    if (this.#closed) return { kind: 'full' };
    const c: TransportAddress = f.client;
    const rc = this.#addon.install(
      this.#h,
      encodeRelayHeader(c, f.public),
      f.publicIndex,
      f.dest.address,
      f.dest.port,
      f.ufrag,
      now,
      f.confirmed,
    );
    if (rc < 0) return { kind: 'full' };
    const flow: FlowView = {
      clientAddress: c.address,
      clientPort: c.port,
      clientFamily: c.family,
      publicIndex: f.publicIndex,
      destAddress: f.dest.address,
      destPort: f.dest.port,
      ufrag: f.ufrag,
      lastSeen: now,
      confirmed: f.confirmed,
    };
    return { kind: rc === 1 ? 'replaced' : 'added', flow };
  }

  touch(flow: FlowView, now: number): void {
    if (!this.#closed) this.#addon.touch(this.#h, flow.clientAddress, flow.clientPort, flow.publicIndex, now);
  }

  remove(flow: FlowView): boolean {
    return !this.#closed && this.#addon.remove(this.#h, flow.clientAddress, flow.clientPort, flow.publicIndex);
  }

  sweep(now: number, refreshMs: number, due: (flow: FlowView) => void): number {
    if (this.#closed) return 0;
    const a = this.#addon.sweep(this.#h, now, this.idleMs, refreshMs);
    for (let i = 1; i + FIELDS <= a.length; i += FIELDS) due(viewAt(a, i));
    return a[0] as number;
  }
}
