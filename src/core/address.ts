// A transport address: IP (v4 or v6, textual as Node prints it) plus UDP port, with the IP's
// binary form. The textual shape is Node's dgram `rinfo`, so I/O shells pass what they receive
// without copying; the binary helpers serve STUN XOR-MAPPED-ADDRESS, the routing token and the
// relay ⇄ transceiver header.

export type IpFamily = 'IPv4' | 'IPv6';

export interface TransportAddress {
  readonly address: string;
  readonly port: number;
  readonly family: IpFamily;
}

/** `1.2.3.4:5` or `[::1]:5`. */
export function formatAddress(a: TransportAddress): string {
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Parses `HOST:PORT` / `[V6]:PORT` with a literal IP. Returns undefined when it is not one. */
export function parseAddress(text: string): TransportAddress | undefined {
  const m = /^\[([^\]]+)\]:(\d{1,5})$/.exec(text) ?? /^([^:[\]]+):(\d{1,5})$/.exec(text);
  if (!m) return undefined;
  const port = Number(m[2]);
  if (port > 65535) return undefined;
  const bytes = ipToBytes(m[1]);
  if (!bytes) return undefined;
  return { address: bytesToIp(bytes), port, family: bytes.length === 4 ? 'IPv4' : 'IPv6' };
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A dotted-decimal IPv4 address in the form Node reports (no leading zeros, each part ≤ 255). */
export function isIpv4(text: string): boolean {
  return V4.test(text);
}

/** The 4 or 16 bytes of a literal IPv4/IPv6 address (IPv4-mapped and embedded forms allowed), or undefined. */
export function ipToBytes(text: string): Buffer | undefined {
  if (V4.test(text)) return Buffer.from(text.split('.').map(Number));
  if (!text.includes(':') || text.length > 45) return undefined;
  let head = text;
  let tail4: Buffer | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.', lastColon)) {
    tail4 = ipToBytes(text.slice(lastColon + 1));
    if (!tail4) return undefined;
    head = text.slice(0, lastColon + 1) + '0:0';
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const parse = (s: string): number[] | undefined => {
    if (s === '') return [];
    const groups = s.split(':');
    const out: number[] = [];
    for (const g of groups) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const left = parse(halves[0]);
  const right = halves.length === 2 ? parse(halves[1]) : [];
  if (!left || !right) return undefined;
  const missing = 8 - left.length - right.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...left, ...new Array<number>(missing).fill(0), ...right];
  const out = Buffer.alloc(16);
  groups.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  if (tail4) tail4.copy(out, 12);
  return out;
}

/** Text of a 4- or 16-byte IP, in the canonical form Node's dgram reports (RFC 5952 for IPv6). */
export function bytesToIp(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bytes[i] << 8) | bytes[i + 1]);
  // IPv4-mapped (::ffff:a.b.c.d) prints with the dotted tail, as Node does.
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  // RFC 5952 §4.2: the longest run (≥ 2) of zero groups becomes '::', the first on ties.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** A TransportAddress from binary IP + port. */
export function addressFromBytes(ip: Uint8Array, port: number): TransportAddress {
  return { address: bytesToIp(ip), port, family: ip.length === 4 ? 'IPv4' : 'IPv6' };
}
