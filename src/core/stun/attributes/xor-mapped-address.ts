// XOR-MAPPED-ADDRESS (RFC 8489 §14.2, type 0x0020): family, port XOR the cookie's top 16
// bits, address XOR the cookie (IPv4) or cookie ‖ transaction id (IPv6). The first byte is
// reserved and ignored on receipt (§14.1). MAPPED-ADDRESS (the un-XORed RFC 3489 form) is not
// produced: ICE uses only the XOR form.
import { addressFromBytes, ipToBytes, type TransportAddress } from '../../address.ts';
import { AttrType, MAGIC_COOKIE } from '../constants.ts';
import type { RawAttribute } from '../message.ts';

const FAMILY_V4 = 0x01;
const FAMILY_V6 = 0x02;
const COOKIE = Buffer.from([0x21, 0x12, 0xa4, 0x42]);

export function xorMappedAddressAttribute(address: TransportAddress, transactionId: Uint8Array): RawAttribute {
  const parsed = ipToBytes(address.address);
  if (!parsed) throw new RangeError(`not a literal IP address: ${address.address}`);
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d; on the wire the peer is IPv4,
  // and its ICE stack compares the mapped address with its IPv4 candidates.
  const ip = isV4Mapped(parsed) ? parsed.subarray(12) : parsed;
  if (!Number.isInteger(address.port) || address.port < 0 || address.port > 0xffff) throw new RangeError(`bad port ${address.port}`);
  const value = Buffer.alloc(4 + ip.length);
  value[1] = ip.length === 4 ? FAMILY_V4 : FAMILY_V6;
  value.writeUInt16BE(address.port ^ (MAGIC_COOKIE >>> 16), 2);
  for (let i = 0; i < ip.length; i++) value[4 + i] = ip[i] ^ xorByte(i, transactionId);
  return { type: AttrType.XorMappedAddress, value };
}

export function decodeXorMappedAddress(value: Uint8Array, transactionId: Uint8Array): TransportAddress | undefined {
  if (value.length < 4) return undefined;
  const family = value[1];
  const ipLength = family === FAMILY_V4 ? 4 : family === FAMILY_V6 ? 16 : 0;
  if (ipLength === 0 || value.length !== 4 + ipLength) return undefined;
  const port = ((value[2] << 8) | value[3]) ^ (MAGIC_COOKIE >>> 16);
  const ip = Buffer.alloc(ipLength);
  for (let i = 0; i < ipLength; i++) ip[i] = value[4 + i] ^ xorByte(i, transactionId);
  return addressFromBytes(ip, port);
}

function isV4Mapped(ip: Buffer): boolean {
  if (ip.length !== 16 || ip[10] !== 0xff || ip[11] !== 0xff) return false;
  for (let i = 0; i < 10; i++) if (ip[i] !== 0) return false;
  return true;
}

/** Byte i of magic cookie ‖ transaction id. */
function xorByte(i: number, transactionId: Uint8Array): number {
  return i < 4 ? COOKIE[i] : transactionId[i - 4];
}
