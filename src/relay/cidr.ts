// IP networks (CIDR blocks) for the relay's transceiver allow-list: parse `10.0.0.0/8` /
// `fd00::/8`, and test addresses against a list. IPv4-mapped IPv6 addresses (::ffff:a.b.c.d)
// match IPv4 blocks, because that is how a dual-stack socket reports IPv4 peers.
// Pure; no I/O. A small bounded cache makes the per-packet check a Map lookup.
import { ipToBytes } from '../core/address.ts';

export interface Cidr {
  readonly bytes: Buffer;
  readonly prefix: number;
  readonly text: string;
}

/** Parses `IP/PREFIX` (or a bare IP = a host). Throws Error(reason) for bad text. */
export function parseCidr(text: string): Cidr {
  const [ip, len, extra] = text.trim().split('/');
  if (extra !== undefined) throw new Error(`'${text}' is not IP/PREFIX`);
  const bytes = ipToBytes(ip);
  if (!bytes) throw new Error(`'${text}' does not start with a literal IP`);
  const max = bytes.length * 8;
  const prefix = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(prefix >= 0 && prefix <= max)) throw new Error(`'${text}': prefix must be 0..${max}`);
  return { bytes: masked(bytes, prefix), prefix, text: text.trim() };
}

export const parseCidrList = (text: string): Cidr[] => {
  const parts = text.split(',').map((p) => p.trim());
  if (parts.some((p) => p === '')) throw new Error(`'${text}' has an empty item`);
  return parts.map(parseCidr);
};

function masked(bytes: Buffer, prefix: number): Buffer {
  const out = Buffer.from(bytes);
  for (let i = 0; i < out.length; i++) {
    const keep = Math.max(0, Math.min(8, prefix - i * 8));
    out[i] &= (0xff << (8 - keep)) & 0xff;
  }
  return out;
}

function unmapV4(bytes: Buffer): Buffer {
  if (bytes.length === 16 && bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return bytes.subarray(12);
  }
  return bytes;
}

/** Does any block contain this IP (textual)? */
export function cidrsContain(cidrs: readonly Cidr[], ip: string): boolean {
  const raw = ipToBytes(ip);
  if (!raw) return false;
  const bytes = unmapV4(raw);
  return cidrs.some((c) => c.bytes.length === bytes.length && masked(bytes, c.prefix).equals(c.bytes));
}

/** A memoizing matcher for the hot path; the cache is bounded and simply cleared when full. */
export function cidrMatcher(cidrs: readonly Cidr[], maxCache = 4096): (ip: string) => boolean {
  const cache = new Map<string, boolean>();
  return (ip) => {
    let v = cache.get(ip);
    if (v === undefined) {
      v = cidrsContain(cidrs, ip);
      if (cache.size >= maxCache) cache.clear();
      cache.set(ip, v);
    }
    return v;
  };
}
