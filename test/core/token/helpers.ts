// Shared fixtures for the routing-token tests: fixed keyrings from seeded secrets, a fixed
// clock, and byte-level re-encoding of a ufrag for tampering.
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring } from '../../../src/core/token/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';

/** 2023-11-14T22:13:20Z: a fixed "now" so runs repeat. */
export const T0 = 1_700_000_000_000;

export function secret(seed: string): Buffer {
  return seededRng(`secret ${seed}`).bytes(32);
}

export function ring(...ids: number[]): Keyring {
  return new Keyring(ids.map((id) => ({ id, secret: secret(String(id)) })));
}

export const V4: TransportAddress = { address: '10.1.2.3', port: 40000, family: 'IPv4' };
export const V6: TransportAddress = { address: '2001:db8:85a3::8a2e:370:7334', port: 50123, family: 'IPv6' };

export function decode(ufrag: string): Buffer {
  return Buffer.from(ufrag, 'base64');
}

export function encode(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/=+$/, '');
}
