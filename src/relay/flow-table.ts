// The JS datapath's flow index (flow-index.ts): client transport address (on one public
// address) → transceiver, with a hard cap and idle expiry. Two indexes: by the client address as
// Node reports it (forward path: one lookup with the strings dgram already gave us, no key
// building) and, per public address, by the client key the relay header's bytes give
// (src/contracts/client-key.ts, the transceiver's key too; return path: no string for IPv4).
// Pure data structure: time is a parameter, no timers.
import type { Socket } from 'node:dgram';
import type { TransportAddress } from '../core/address.ts';
import type { ClientKey } from '../contracts/client-key.ts';
import { clientKeyOfAddress } from '../contracts/client-key.ts';
import { encodeRelayHeader } from '../contracts/relay-header.ts';
import { MAX_PUBLIC_ADDRESSES } from '../contracts/relay-native.ts';
import type { FlowIndex, FlowView, InsertResult, NewFlow } from './flow-index.ts';

/** A flow of the JS datapath: what it forwards from, per packet. */
export interface JsFlow extends FlowView {
  lastSeen: number;
  confirmed: boolean;
  /** Last time the store was told about this flow (ms). */
  storedAt: number;
  /** The relay header for packets of this flow, built once (the forward path sends it as is). */
  readonly header: Buffer;
  /** The client's key (client-key.ts): the return path finds the flow by it. */
  readonly clientKey: ClientKey;
  /** NodeDatapath's connected socket towards the destination, once it has one. */
  out: Socket | undefined;
}

/** Builds a flow; throws RangeError on a non-literal address (never hostile input: rinfo or a token). */
export function makeFlow(f: NewFlow, now: number): JsFlow {
  const client: TransportAddress = f.client;
  const clientKey = clientKeyOfAddress(client);
  if (clientKey === undefined) throw new RangeError(`not a literal IP: ${client.address}`);
  if (!(f.publicIndex >= 0 && f.publicIndex < MAX_PUBLIC_ADDRESSES)) throw new RangeError(`public index ${f.publicIndex}`);
  return {
    clientAddress: client.address,
    clientPort: client.port,
    clientFamily: client.family,
    publicIndex: f.publicIndex,
    destAddress: f.dest.address,
    destPort: f.dest.port,
    ufrag: f.ufrag,
    header: encodeRelayHeader(client, f.public),
    clientKey,
    lastSeen: now,
    confirmed: f.confirmed,
    storedAt: now,
    out: undefined,
  };
}

export class FlowTable implements FlowIndex<JsFlow> {
  readonly maxFlows: number;
  readonly idleMs: number;
  readonly #byAddress = new Map<string, Map<number, JsFlow>>();
  /** Per public index: client key → flow. */
  readonly #byReturn = Array.from({ length: MAX_PUBLIC_ADDRESSES }, () => new Map<ClientKey, JsFlow>());
  #size = 0;

  constructor(o: { maxFlows: number; idleMs: number }) {
    this.maxFlows = o.maxFlows;
    this.idleMs = o.idleMs;
  }

  get size(): number {
    return this.#size;
  }

  /** Forward path: the flow of a datagram from address:port on public address `publicIndex`. */
  get(address: string, port: number, publicIndex: number): JsFlow | undefined {
    return this.#byAddress.get(address)?.get(port * 16 + publicIndex);
  }

  /** Return path: the flow of the client with this key (clientKeyOfHeader) on public address `publicIndex`. */
  getReturn(publicIndex: number, key: ClientKey): JsFlow | undefined {
    return this.#byReturn[publicIndex].get(key);
  }

  insert(nf: NewFlow, now: number): InsertResult<JsFlow> {
    const flow = makeFlow(nf, now);
    const byKey = this.#byReturn[flow.publicIndex];
    const old = byKey.get(flow.clientKey);
    if (!old && this.#size >= this.maxFlows) return { kind: 'full' };
    let ports = this.#byAddress.get(flow.clientAddress);
    if (!ports) {
      ports = new Map();
      this.#byAddress.set(flow.clientAddress, ports);
    }
    ports.set(flow.clientPort * 16 + flow.publicIndex, flow);
    byKey.set(flow.clientKey, flow);
    if (old) return { kind: 'replaced', flow };
    this.#size++;
    return { kind: 'added', flow };
  }

  touch(flow: JsFlow, now: number): void {
    flow.lastSeen = now;
  }

  remove(flow: FlowView): boolean {
    const f = this.get(flow.clientAddress, flow.clientPort, flow.publicIndex);
    if (!f) return false;
    this.#remove(f);
    return true;
  }

  #remove(flow: JsFlow): void {
    const byKey = this.#byReturn[flow.publicIndex];
    if (byKey.get(flow.clientKey) !== flow) return;
    byKey.delete(flow.clientKey);
    this.#size--;
    const ports = this.#byAddress.get(flow.clientAddress);
    if (!ports) return;
    ports.delete(flow.clientPort * 16 + flow.publicIndex);
    if (ports.size === 0) this.#byAddress.delete(flow.clientAddress);
  }

  /** O(size): the worker calls it about once a second. */
  sweep(now: number, refreshMs: number, due: (flow: FlowView) => void): number {
    let expired = 0;
    for (const byKey of this.#byReturn) {
      if (byKey.size === 0) continue;
      for (const f of byKey.values()) {
        if (now - f.lastSeen >= this.idleMs) {
          this.#remove(f);
          expired++;
        } else if (now - f.storedAt >= refreshMs && f.lastSeen > f.storedAt) {
          f.storedAt = now;
          due(f);
        }
      }
    }
    return expired;
  }
}
