// IP networks in CIDR notation (RFC 4632 §3.1; RFC 4291 §2.3 for IPv6) and the one matcher for
// source-address allow lists: the relay's `--transceiver-cidrs` (return traffic only from
// transceivers, flows only to token destinations inside them; the native datapath gets its
// networks from this parser) and the transceiver's `--relay-cidrs` (media only from relays).
// DESIGN.md "Relay ⇄ transceiver": each side accepts this traffic only from peer networks.
// IPv4-mapped IPv6 sources (::ffff:a.b.c.d, what a dual-stack socket reports) match IPv4 blocks.
// Pure: no I/O.
import { ipToBytes } from './address.ts';

export interface Cidr {
  /** Network bytes, host bits zero: 4 for IPv4, 16 for IPv6. */
  readonly network: Buffer;
  readonly prefix: number;
  /** As written (trimmed). */
  readonly text: string;
}

/** Parses `a.b.c.d/n`, `v6::/n`, or a bare IP (a host route). Throws Error saying why. */
export function parseCidr(text: string): Cidr {
  const t = text.trim();
  const slash = t.indexOf('/');
  const ipText = slash < 0 ? t : t.slice(0, slash);
  const ip = ipToBytes(ipText);
  if (!ip) throw new Error(`'${t}' is not an IP address or CIDR block (e.g. 10.0.0.0/8, fd00::/8)`);
  const max = ip.length * 8;
  let prefix = max;
  if (slash >= 0) {
    const p = t.slice(slash + 1);
    if (!/^\d{1,3}$/.test(p) || Number(p) > max) throw new Error(`'${t}': the prefix length must be 0..${max}`);
    prefix = Number(p);
  }
  return { network: maskBytes(ip, prefix), prefix, text: t };
}

function maskBytes(ip: Buffer, prefix: number): Buffer {
  const out = Buffer.from(ip);
  for (let i = 0; i < out.length; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] &= (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

function unmapV4(ip: Buffer): Buffer {
  // RFC 4291 §2.5.5.2: ::ffff:0:0/96 carries an IPv4 address.
  if (ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return ip.subarray(12);
  return ip;
}

/** A set of CIDR blocks; `has` answers for a source IP as a socket reports it. */
export class CidrSet {
  readonly blocks: readonly Cidr[];
  constructor(blocks: readonly Cidr[]) {
    this.blocks = blocks;
  }

  /** A comma-separated list (`10.0.0.0/8, fd00::/8`). Throws Error saying why. */
  static parse(text: string): CidrSet {
    const parts = text.split(',').map((p) => p.trim());
    if (parts.some((p) => p === '')) throw new Error(`'${text}' has an empty item`);
    return new CidrSet(parts.map(parseCidr));
  }

  has(address: string): boolean {
    const raw = ipToBytes(address);
    if (!raw) return false;
    const ip = unmapV4(raw);
    for (const b of this.blocks) {
      if (b.network.length !== ip.length) continue;
      if (maskBytes(ip, b.prefix).equals(b.network)) return true;
    }
    return false;
  }

  /**
   * `has` for a per-packet path: answers from a bounded cache (cleared when full) after the
   * first time, so a known source costs one Map lookup.
   */
  matcher(maxCache = 4096): (address: string) => boolean {
    const cache = new Map<string, boolean>();
    return (address) => {
      let v = cache.get(address);
      if (v === undefined) {
        v = this.has(address);
        if (cache.size >= maxCache) cache.clear();
        cache.set(address, v);
      }
      return v;
    };
  }

  toString(): string {
    return this.blocks.map((b) => b.text).join(',');
  }
}

/** Loopback only: the default, so neither side accepts peer traffic from the network by accident. */
export const LOOPBACK_CIDRS = '127.0.0.0/8,::1/128';
