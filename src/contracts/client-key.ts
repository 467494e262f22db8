// The one key scheme for "which client is this": a client transport address as a Map key,
// computed from the relay header's bytes on every datagram without decoding them into strings
// (the transceiver's endpoint demux, the relay's return path), or from an address (a session
// announcing a new path, the relay creating a flow). An IPv4 client is one number
// (ip × 65536 + port, below 2^48: exact in a double), an IPv6 client an 18-character latin1
// string of its 16 address bytes and port. The same address gives the same key either way.
// Not here: the header layout (relay-header.ts).
import type { TransportAddress } from '../core/address.ts';
import { ipToBytes } from '../core/address.ts';
import { RelayHeaderFlag, RelayHeaderOffset } from './relay-header.ts';

export type ClientKey = number | string;

/** The key of the client named by a relay header (already checked with isRelayHeader). */
export function clientKeyOfHeader(buf: Buffer): ClientKey {
  const port = (buf[RelayHeaderOffset.clientPort] << 8) | buf[RelayHeaderOffset.clientPort + 1];
  if ((buf[RelayHeaderOffset.flags] & RelayHeaderFlag.clientIpv6) === 0) {
    return buf.readUInt32BE(RelayHeaderOffset.clientIp) * 65536 + port;
  }
  return buf.toString('latin1', RelayHeaderOffset.clientIp, RelayHeaderOffset.clientIp + 16) + String.fromCharCode(port >> 8, port & 0xff);
}

/** The same key for an address; undefined when it is not a literal IP. */
export function clientKeyOfAddress(a: TransportAddress): ClientKey | undefined {
  const ip = ipToBytes(a.address);
  if (!ip) return undefined;
  if (ip.length === 4) return ip.readUInt32BE(0) * 65536 + a.port;
  return ip.toString('latin1') + String.fromCharCode(a.port >> 8, a.port & 0xff);
}
