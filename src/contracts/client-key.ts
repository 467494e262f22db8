// The one key scheme for "which client is this": a client transport address as a Map key,
// computed from the relay header's bytes on every datagram without decoding them into strings
// (the transceiver's endpoint demux, the relay's return path), or from an address (a session
// announcing a new path, the relay creating a flow). An IPv4 client is one number
// (ip × 65536 + port, below 2^48: exact in a double), an IPv6 client an 18-character latin1
// string of its 16 address bytes and port. The same address gives the same key either way.
// A client on a TCP connection (relay header version 2) is another client than the same address
// over UDP: its IPv4 key is the negated UDP key minus one (negative, so never a UDP key), its
// IPv6 key the UDP string prefixed with 't' (19 characters).
// Not here: the header layout (relay-header.ts).
import type { TransportAddress } from '../core/address.ts';
import { ipToBytes } from '../core/address.ts';
import type { RelayTransport } from './relay-header.ts';
import { RELAY_HEADER_FLAG_TCP, RelayHeaderFlag, RelayHeaderOffset } from './relay-header.ts';

export type ClientKey = number | string;

/** The key of the client named by a relay header (already checked with isRelayHeader). */
export function clientKeyOfHeader(buf: Buffer): ClientKey {
  const port = (buf[RelayHeaderOffset.clientPort] << 8) | buf[RelayHeaderOffset.clientPort + 1];
  const flags = buf[RelayHeaderOffset.flags];
  const tcp = (flags & RELAY_HEADER_FLAG_TCP) !== 0;
  if ((flags & RelayHeaderFlag.clientIpv6) === 0) {
    const key = buf.readUInt32BE(RelayHeaderOffset.clientIp) * 65536 + port;
    return tcp ? -key - 1 : key;
  }
  const key =
    buf.toString('latin1', RelayHeaderOffset.clientIp, RelayHeaderOffset.clientIp + 16) + String.fromCharCode(port >> 8, port & 0xff);
  return tcp ? 't' + key : key;
}

/** The same key for an address (and transport); undefined when it is not a literal IP. */
export function clientKeyOfAddress(a: TransportAddress, transport: RelayTransport = 'udp'): ClientKey | undefined {
  const ip = ipToBytes(a.address);
  if (!ip) return undefined;
  const tcp = transport === 'tcp';
  if (ip.length === 4) {
    const key = ip.readUInt32BE(0) * 65536 + a.port;
    return tcp ? -key - 1 : key;
  }
  const key = ip.toString('latin1') + String.fromCharCode(a.port >> 8, a.port & 0xff);
  return tcp ? 't' + key : key;
}
