// Source-address allow lists in CIDR notation (RFC 4632 §3.1; RFC 4291 §2.3 for IPv6), for
// `--relay-cidrs`: the transceiver accepts media only from relays it is configured to trust
// (DESIGN.md "Relay ⇄ transceiver": each side accepts this traffic only from peer networks).
// IPv4-mapped IPv6 sources (::ffff:a.b.c.d, what a dual-stack socket reports) match IPv4 entries.
import { ipToBytes } from '../core/address.ts';

export interface Cidr {
  /** Network bytes: 4 for IPv4, 16 for IPv6. */
  readonly network: Buffer;
  readonly prefix: number;
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
    out[i] &= bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return out;
}

function unmapV4(ip: Buffer): Buffer {
  // RFC 4291 §2.5.5.2: ::ffff:0:0/96 carries an IPv4 address.
  if (ip.length === 16 && ip.subarray(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff) return ip.subarray(12);
  return ip;
}

/** A set of CIDR blocks; `has` answers for a source IP as dgram reports it. */
export class CidrSet {
  readonly blocks: readonly Cidr[];
  constructor(blocks: readonly Cidr[]) {
    this.blocks = blocks;
  }

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

  toString(): string {
    return this.blocks.map((b) => b.text).join(',');
  }
}

/** Loopback only: the default, so a transceiver never accepts media from the network by accident. */
export const LOOPBACK_CIDRS = '127.0.0.0/8,::1/128';
