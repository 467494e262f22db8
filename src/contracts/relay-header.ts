// The relay ⇄ transceiver wire header, version 1 (docs/wire-format.md): a fixed 40-byte prefix
// on every datagram between a relay and a transceiver, carrying the client's real transport
// address and the relay public address the client used (like PROXY protocol v2, for UDP).
// Both directions use the same layout: relay → transceiver says "this came from CLIENT on
// PUBLIC"; transceiver → relay says "send this to CLIENT from PUBLIC".
// This module is the layout only (sans-IO): who may send it and what the relay does with it
// are src/relay/route.ts. A contract between processes: the relay, the transceiver and the C
// addons take it from here (native/src/generated/parley_contracts.h is generated from it).
//
// API (stable; relay and transceiver import it):
//   RELAY_HEADER_LENGTH                          40
//   RELAY_MAX_PAYLOAD                            1500: the largest client datagram relayed
//   encodeRelayHeader(client, pub): Buffer       a fresh 40-byte header
//   writeRelayHeader(buf, off, client, pub)      the same into an existing buffer
//   decodeRelayHeader(buf): RelayHeader | undefined   (total: never throws, never over-reads)
//   isRelayHeader(buf): boolean                  magic + version + flags check only
//   RelayHeaderOffset, RelayHeaderFlag, RELAY_HEADER_MAGIC, RELAY_HEADER_VERSION,
//   RELAY_HEADER_KNOWN_FLAGS                     for zero-copy readers
//
// Layout (network byte order):
//   0  u8  magic 0x50 ('P')   — outside every RFC 7983/9443 first-byte range, so a packet
//   1  u8  magic 0x52 ('R')     without a header is never mistaken for one with a header
//   2  u8  version (1)
//   3  u8  flags: bit 0 client is IPv6, bit 1 public is IPv6; other bits must be 0
//   4  u16 client port        6  u16 public port
//   8  16B client IP          24 16B public IP   (IPv4: the first 4 bytes, the other 12 zero)
//   40 payload: the client's datagram, unchanged
import type { TransportAddress } from '../core/address.ts';
import { addressFromBytes, ipToBytes } from '../core/address.ts';

export const RELAY_HEADER_LENGTH = 40;
/**
 * Largest client datagram the relay forwards (payload bytes, without the header), in either
 * direction; larger ones are dropped ('too_large'). A transceiver's receive buffers hold
 * RELAY_HEADER_LENGTH + RELAY_MAX_PAYLOAD.
 */
export const RELAY_MAX_PAYLOAD = 1500;
export const RELAY_HEADER_MAGIC = 0x5052;
export const RELAY_HEADER_VERSION = 1;

export const RelayHeaderOffset = {
  magic: 0,
  version: 2,
  flags: 3,
  clientPort: 4,
  publicPort: 6,
  clientIp: 8,
  publicIp: 24,
} as const;

export const RelayHeaderFlag = { clientIpv6: 1, publicIpv6: 2 } as const;
/** Every flag bit version 1 defines; a header with any other bit set is not version 1. */
export const RELAY_HEADER_KNOWN_FLAGS = RelayHeaderFlag.clientIpv6 | RelayHeaderFlag.publicIpv6;

/**
 * Version 2 (docs/wire-format.md): version 1 plus flag bit 2, "the client is on a TCP connection
 * to the relay (ICE-TCP, RFC 6544)"; client and public are then that connection's two ends, so
 * the pair names exactly one connection. Only packets of TCP clients carry version 2; UDP traffic
 * stays version 1, so a peer that knows only version 1 loses TCP calls and nothing else. The
 * relay's TCP side has an internal socket of its own and the native datapath never sees a
 * version-2 header, so these two are not in the generated C header.
 */
export const RELAY_HEADER_VERSION_TCP = 2;
export const RELAY_HEADER_FLAG_TCP = 4;

export type RelayTransport = 'udp' | 'tcp';

export interface RelayHeader {
  /** The client's address as the relay saw it (the packet's source, or the return destination). */
  readonly client: TransportAddress;
  /** The relay public address the client used (arrival address, or the return source). */
  readonly public: TransportAddress;
  /** How the client reaches the relay: UDP (version 1) or a TCP connection (version 2). */
  readonly transport: RelayTransport;
}

function putAddress(buf: Buffer, ipOffset: number, portOffset: number, a: TransportAddress): number {
  const ip = ipToBytes(a.address);
  const v6 = a.family === 'IPv6';
  if (!ip || ip.length !== (v6 ? 16 : 4)) throw new RangeError(`not a literal ${a.family} address: '${a.address}'`);
  if (!Number.isInteger(a.port) || a.port < 0 || a.port > 65535) throw new RangeError(`bad port ${a.port}`);
  buf.fill(0, ipOffset, ipOffset + 16);
  ip.copy(buf, ipOffset);
  buf.writeUInt16BE(a.port, portOffset);
  return v6 ? 1 : 0;
}

/**
 * Writes a header at `offset` (40 bytes must fit). Throws RangeError on an address that is not
 * a literal IP of its family: a programming error of the caller, never hostile input.
 */
export function writeRelayHeader(
  buf: Buffer,
  offset: number,
  client: TransportAddress,
  pub: TransportAddress,
  transport: RelayTransport = 'udp',
): void {
  if (offset < 0 || offset + RELAY_HEADER_LENGTH > buf.length) throw new RangeError('no room for a relay header');
  const b = offset === 0 ? buf : buf.subarray(offset, offset + RELAY_HEADER_LENGTH);
  b.writeUInt16BE(RELAY_HEADER_MAGIC, RelayHeaderOffset.magic);
  const tcp = transport === 'tcp';
  b[RelayHeaderOffset.version] = tcp ? RELAY_HEADER_VERSION_TCP : RELAY_HEADER_VERSION;
  const c6 = putAddress(b, RelayHeaderOffset.clientIp, RelayHeaderOffset.clientPort, client);
  const p6 = putAddress(b, RelayHeaderOffset.publicIp, RelayHeaderOffset.publicPort, pub);
  b[RelayHeaderOffset.flags] =
    (c6 ? RelayHeaderFlag.clientIpv6 : 0) | (p6 ? RelayHeaderFlag.publicIpv6 : 0) | (tcp ? RELAY_HEADER_FLAG_TCP : 0);
}

/** A fresh header for this client/public pair. The relay builds one per flow and reuses it. */
export function encodeRelayHeader(client: TransportAddress, pub: TransportAddress, transport: RelayTransport = 'udp'): Buffer {
  const buf = Buffer.alloc(RELAY_HEADER_LENGTH);
  writeRelayHeader(buf, 0, client, pub, transport);
  return buf;
}

/**
 * True when `buf` starts with a well-formed header: magic, and version 1 with no unknown flag
 * bits, or version 2 with the TCP bit set and no unknown other bit.
 */
export function isRelayHeader(buf: Uint8Array): boolean {
  if (buf.length < RELAY_HEADER_LENGTH || buf[0] !== RELAY_HEADER_MAGIC >> 8 || buf[1] !== (RELAY_HEADER_MAGIC & 0xff)) return false;
  const version = buf[RelayHeaderOffset.version];
  const flags = buf[RelayHeaderOffset.flags];
  if (version === RELAY_HEADER_VERSION) return (flags & ~RELAY_HEADER_KNOWN_FLAGS) === 0;
  return (
    version === RELAY_HEADER_VERSION_TCP &&
    (flags & ~(RELAY_HEADER_KNOWN_FLAGS | RELAY_HEADER_FLAG_TCP)) === 0 &&
    (flags & RELAY_HEADER_FLAG_TCP) !== 0
  );
}

/** A well-formed header (isRelayHeader) of a TCP client. */
export function isTcpRelayHeader(buf: Uint8Array): boolean {
  return buf[RelayHeaderOffset.version] === RELAY_HEADER_VERSION_TCP && isRelayHeader(buf);
}

function readAddress(buf: Uint8Array, ipOffset: number, portOffset: number, v6: boolean): TransportAddress | undefined {
  const ip = buf.subarray(ipOffset, ipOffset + (v6 ? 16 : 4));
  // IPv4 keeps the other 12 bytes zero so one header has exactly one encoding.
  if (!v6) for (let i = ipOffset + 4; i < ipOffset + 16; i++) if (buf[i] !== 0) return undefined;
  return addressFromBytes(ip, (buf[portOffset] << 8) | buf[portOffset + 1]);
}

/**
 * Decodes the header; the payload starts at RELAY_HEADER_LENGTH. Undefined for anything that
 * is not a well-formed version-1 header. Allocates the address strings: the relay's return
 * path reads the bytes in place instead (RelayHeaderOffset).
 */
export function decodeRelayHeader(buf: Uint8Array): RelayHeader | undefined {
  if (!isRelayHeader(buf)) return undefined;
  const flags = buf[RelayHeaderOffset.flags];
  const client = readAddress(buf, RelayHeaderOffset.clientIp, RelayHeaderOffset.clientPort, (flags & RelayHeaderFlag.clientIpv6) !== 0);
  const pub = readAddress(buf, RelayHeaderOffset.publicIp, RelayHeaderOffset.publicPort, (flags & RelayHeaderFlag.publicIpv6) !== 0);
  if (!client || !pub) return undefined;
  return { client, public: pub, transport: (flags & RELAY_HEADER_FLAG_TCP) !== 0 ? 'tcp' : 'udp' };
}
