// The relay's flow table: client transport address (on one public address) → transceiver,
// with a hard cap and idle expiry. Two indexes: by the client address as Node reports it
// (forward path: one lookup with the strings dgram already gave us, no key building) and by a
// numeric key computed from the relay header's bytes (return path: no string for IPv4).
// Pure data structure: time is a parameter, no timers.
import type { IpFamily, TransportAddress } from '../core/address.ts';
import { ipToBytes } from '../core/address.ts';
import { RELAY_HEADER_LENGTH, RelayHeaderFlag, RelayHeaderOffset, encodeRelayHeader } from '../core/relay-header.ts';

/** At most this many public addresses: the public index lives in 4 bits of the return key. */
export const MAX_PUBLIC_ADDRESSES = 16;

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
  readonly returnKey: number | string;
  /** Last packet from the client (ms, coarse clock). */
  lastSeen: number;
  /** Last time the store was told about this flow (ms); 0 = never. */
  storedAt: number;
  /** Owned by the datapath: its handle for sending towards destAddress:destPort (e.g. a connected socket). */
  out: unknown;
}

/** Return-path key from raw IP bytes, port and public index (what the header carries). */
export function returnKeyOf(ip: Uint8Array, ipOffset: number, v6: boolean, port: number, publicIndex: number): number | string {
  if (!v6) {
    const n = ((ip[ipOffset] << 24) | (ip[ipOffset + 1] << 16) | (ip[ipOffset + 2] << 8) | ip[ipOffset + 3]) >>> 0;
    // 32 + 16 + 4 bits = 52 bits: an exact double.
    return n * 1048576 + port * 16 + publicIndex;
  }
  let s = '';
  for (let i = ipOffset; i < ipOffset + 16; i++) s += (ip[i] < 16 ? '0' : '') + ip[i].toString(16);
  return `${s}/${port}/${publicIndex}`;
}

/** The return key of a relay header at the start of `buf` for a known public index. */
export function returnKeyOfHeader(buf: Uint8Array, publicIndex: number): number | string {
  const v6 = (buf[RelayHeaderOffset.flags] & RelayHeaderFlag.clientIpv6) !== 0;
  const port = (buf[RelayHeaderOffset.clientPort] << 8) | buf[RelayHeaderOffset.clientPort + 1];
  return returnKeyOf(buf, RelayHeaderOffset.clientIp, v6, port, publicIndex);
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
  const ip = ipToBytes(client.address);
  if (!ip) throw new RangeError(`not a literal IP: ${client.address}`);
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
    returnKey: returnKeyOf(ip, 0, ip.length === 16, client.port, publicIndex),
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
  readonly #byReturn = new Map<number | string, Flow>();

  constructor(o: { maxFlows: number; idleMs: number }) {
    this.maxFlows = o.maxFlows;
    this.idleMs = o.idleMs;
  }

  get size(): number {
    return this.#byReturn.size;
  }

  /** Forward path: the flow of a datagram from address:port on public address `publicIndex`. */
  get(address: string, port: number, publicIndex: number): Flow | undefined {
    return this.#byAddress.get(address)?.get(port * 16 + publicIndex);
  }

  /** Return path: by returnKeyOf(…). */
  getReturn(key: number | string): Flow | undefined {
    return this.#byReturn.get(key);
  }

  /** Adds (or replaces the flow of the same client address). 'full' at the cap: nothing changes. */
  insert(flow: Flow): InsertResult {
    const old = this.#byReturn.get(flow.returnKey);
    if (!old && this.#byReturn.size >= this.maxFlows) return 'full';
    let ports = this.#byAddress.get(flow.clientAddress);
    if (!ports) {
      ports = new Map();
      this.#byAddress.set(flow.clientAddress, ports);
    }
    ports.set(flow.clientPort * 16 + flow.publicIndex, flow);
    this.#byReturn.set(flow.returnKey, flow);
    return old ? 'replaced' : 'added';
  }

  remove(flow: Flow): void {
    if (this.#byReturn.get(flow.returnKey) !== flow) return;
    this.#byReturn.delete(flow.returnKey);
    const ports = this.#byAddress.get(flow.clientAddress);
    if (!ports) return;
    ports.delete(flow.clientPort * 16 + flow.publicIndex);
    if (ports.size === 0) this.#byAddress.delete(flow.clientAddress);
  }

  /** Removes flows idle for idleMs or more; returns how many. O(size): call about once a second. */
  expire(now: number, onExpired?: (f: Flow) => void): number {
    let n = 0;
    for (const f of this.#byReturn.values()) {
      if (now - f.lastSeen >= this.idleMs) {
        this.remove(f);
        onExpired?.(f);
        n++;
      }
    }
    return n;
  }

  values(): IterableIterator<Flow> {
    return this.#byReturn.values();
  }
}
