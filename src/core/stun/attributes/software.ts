// SOFTWARE (RFC 8489 §14.14, type 0x8022, comprehension-optional): UTF-8, under 763 bytes.
import { AttrType } from '../constants.ts';
import type { RawAttribute } from '../message.ts';
import { decodeUtf8, encodeUtf8 } from './text.ts';

const MAX_BYTES = 763;

export function softwareAttribute(software: string): RawAttribute {
  return { type: AttrType.Software, value: encodeUtf8(software, MAX_BYTES, 'SOFTWARE') };
}

export function decodeSoftware(value: Uint8Array): string | undefined {
  return decodeUtf8(value, MAX_BYTES);
}
