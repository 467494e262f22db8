// The relay's flow table: client transport address (on one public address) → transceiver,
// with a hard cap and idle expiry. Two indexes: by the client address as Node reports it
// (forward path: one lookup with the strings dgram already gave us, no key building) and, per
// public address, by the client key the relay header's bytes give (src/contracts/client-key.ts,
// the transceiver's key too; return path: no string for IPv4).
// Pure data structure: time is a parameter, no timers.
import type { IpFamily, TransportAddress } from '../core/address.ts';
import type { ClientKey } from '../contracts/client-key.ts';
import { clientKeyOfAddress } from '../contracts/client-key.ts';
import { RELAY_HEADER_LENGTH, encodeRelayHeader } from '../contracts/relay-header.ts';
import { MAX_PUBLIC_ADDRESSES } from '../contracts/relay-native.ts';

export interface Flow {
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly clientFamily: IpFamily;
  /** Index of the public (listen) address the client uses. */
  readonly publicIndex: number;
  readonly destAddress: string;
  readonly destPort: number;
  /** The routing token that authorized this flow; what the flow store keeps. */
  readonly ufrag: string;
  /** The relay header for packets of this flow, built once (forward path sends it as is). */
  readonly header: Buffer;
  /** The client's key (client-key.ts): the return path finds the flow by it. */
  readonly clientKey: ClientKey;
  /** Last packet from the client (ms, coarse clock). */
  lastSeen: number;
  /** Last time the store was told about this flow (ms); 0 = never. */
  storedAt: number;
  /** Owned by the datapath: its handle for sending towards destAddress:destPort (e.g. a connected socket). */
  out: unknown;
}

/** Builds a flow; throws RangeError on a non-literal address (never hostile input: rinfo or a token). */
export function makeFlow(
  client: TransportAddress,
  publicIndex: number,
  pub: TransportAddress,
  dest: TransportAddress,
  ufrag: string,
  now: number,
): Flow {
  const clientKey = clientKeyOfAddress(client);
  if (clientKey === undefined) throw new RangeError(`not a literal IP: ${client.address}`);
  if (!(publicIndex >= 0 && publicIndex < MAX_PUBLIC_ADDRESSES)) throw new RangeError(`public index ${publicIndex}`);
  const header = encodeRelayHeader(client, pub);
  if (header.length !== RELAY_HEADER_LENGTH) throw new RangeError('header size');
  return {
    clientAddress: client.address,
    clientPort: client.port,
    clientFamily: client.family,
    publicIndex,
    destAddress: dest.address,
    destPort: dest.port,
    ufrag,
    header,
    clientKey,
    lastSeen: now,
    storedAt: 0,
    out: undefined,
  };
}

export type InsertResult = 'added' | 'replaced' | 'full';

export class FlowTable {
  readonly maxFlows: number;
  readonly idleMs: number;
  readonly #byAddress = new Map<string, Map<number, Flow>>();
  /** Per public index: client key → flow. */
  readonly #byReturn = Array.from({ length: MAX_PUBLIC_ADDRESSES }, () => new Map<ClientKey, Flow>());
  #size = 0;

  constructor(o: { maxFlows: number; idleMs: number }) {
    this.maxFlows = o.maxFlows;
    this.idleMs = o.idleMs;
  }

  get size(): number {
    return this.#size;
  }

  /** Forward path: the flow of a datagram from address:port on public address `publicIndex`. */
  get(address: string, port: number, publicIndex: number): Flow | undefined {
    return this.#byAddress.get(address)?.get(port * 16 + publicIndex);
  }

  /** Return path: the flow of the client with this key (clientKeyOfHeader) on public address `publicIndex`. */
  getReturn(publicIndex: number, key: ClientKey): Flow | undefined {
    return this.#byReturn[publicIndex].get(key);
  }

  /** Adds (or replaces the flow of the same client address). 'full' at the cap: nothing changes. */
  insert(flow: Flow): InsertResult {
    const byKey = this.#byReturn[flow.publicIndex];
    const old = byKey.get(flow.clientKey);
    if (!old && this.#size >= this.maxFlows) return 'full';
    let ports = this.#byAddress.get(flow.clientAddress);
    if (!ports) {
      ports = new Map();
      this.#byAddress.set(flow.clientAddress, ports);
    }
    ports.set(flow.clientPort * 16 + flow.publicIndex, flow);
    byKey.set(flow.clientKey, flow);
    if (old) return 'replaced';
    this.#size++;
    return 'added';
  }

  remove(flow: Flow): void {
    const byKey = this.#byReturn[flow.publicIndex];
    if (byKey.get(flow.clientKey) !== flow) return;
    byKey.delete(flow.clientKey);
    this.#size--;
    const ports = this.#byAddress.get(flow.clientAddress);
    if (!ports) return;
    ports.delete(flow.clientPort * 16 + flow.publicIndex);
    if (ports.size === 0) this.#byAddress.delete(flow.clientAddress);
  }

  /** Removes flows idle for idleMs or more; returns how many. O(size): call about once a second. */
  expire(now: number, onExpired?: (f: Flow) => void): number {
    let n = 0;
    for (const f of this.values()) {
      if (now - f.lastSeen >= this.idleMs) {
        this.remove(f);
        onExpired?.(f);
        n++;
      }
    }
    return n;
  }

  *values(): IterableIterator<Flow> {
    for (const byKey of this.#byReturn) if (byKey.size > 0) yield* byKey.values();
  }
}
