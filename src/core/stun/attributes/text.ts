// Shared rules for the UTF-8 text attributes (USERNAME §14.3, SOFTWARE §14.14, the ERROR-CODE
// reason §14.8 of RFC 8489): valid UTF-8 under a byte cap. The RFC also caps SOFTWARE and the
// reason at 128 characters; the byte caps (509 / 763) are what matter for memory and are the
// ones enforced here.
import { isUtf8 } from 'node:buffer';

export function decodeUtf8(value: Uint8Array, maxBytes: number): string | undefined {
  if (value.length > maxBytes || !isUtf8(value)) return undefined;
  return Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8');
}

export function encodeUtf8(text: string, maxBytes: number, what: string): Buffer {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > maxBytes) throw new RangeError(`${what} is ${bytes.length} bytes; at most ${maxBytes}`);
  return bytes;
}
