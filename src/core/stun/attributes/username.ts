// USERNAME (RFC 8489 §14.3, type 0x0006): UTF-8, fewer than 509 bytes. In ICE it is
// "<receiver ufrag>:<sender ufrag>" (RFC 8445 §7.2.2); splitting it is the ICE layer's job.
import { AttrType, MAX_USERNAME_BYTES } from '../constants.ts';
import type { RawAttribute } from '../message.ts';
import { decodeUtf8, encodeUtf8 } from './text.ts';

export function usernameAttribute(username: string): RawAttribute {
  return { type: AttrType.Username, value: encodeUtf8(username, MAX_USERNAME_BYTES, 'USERNAME') };
}

export function decodeUsername(value: Uint8Array): string | undefined {
  return decodeUtf8(value, MAX_USERNAME_BYTES);
}
