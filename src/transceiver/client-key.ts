// Keys for "which call does this client address belong to" that the endpoint computes from the
// relay header's bytes on every datagram without decoding it into strings: an IPv4 client is one
// number (ip × 65536 + port, below 2^48, exact in a double), an IPv6 client a short latin1 string
// of its 16 address bytes and port. The same key is computed from a TransportAddress when a
// session announces a new path (rare). Not here: the header layout (src/core/relay-header.ts).
import type { TransportAddress } from '../core/address.ts';
import { ipToBytes } from '../core/address.ts';
import { RelayHeaderFlag, RelayHeaderOffset } from '../core/relay-header.ts';

export type ClientKey = number | string;

/** The key of the client named by a relay header (already checked with isRelayHeader). */
export function clientKeyOfHeader(buf: Buffer): ClientKey {
  const port = (buf[RelayHeaderOffset.clientPort] << 8) | buf[RelayHeaderOffset.clientPort + 1];
  if ((buf[RelayHeaderOffset.flags] & RelayHeaderFlag.clientIpv6) === 0) {
    return buf.readUInt32BE(RelayHeaderOffset.clientIp) * 65536 + port;
  }
  return buf.toString('latin1', RelayHeaderOffset.clientIp, RelayHeaderOffset.clientIp + 16) + String.fromCharCode(port >> 8, port & 0xff);
}

/** The same key for an address (as a session reports it in a 'path' event). */
export function clientKeyOfAddress(a: TransportAddress): ClientKey | undefined {
  const ip = ipToBytes(a.address);
  if (!ip) return undefined;
  if (ip.length === 4) return ip.readUInt32BE(0) * 65536 + a.port;
  return ip.toString('latin1') + String.fromCharCode(a.port >> 8, a.port & 0xff);
}
