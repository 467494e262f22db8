// RFC 8489 §5, Figure 3: the 14-bit message type interleaves a 12-bit method with the two
// class bits: M11..M7 | C1 | M6..M4 | C0 | M3..M0. Pure bit arithmetic, no validation of
// which methods exist.
import type { StunClass } from './constants.ts';

export function encodeMessageType(method: number, cls: StunClass): number {
  return (method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) | ((cls & 1) << 4) | ((cls & 2) << 7);
}

export function decodeMessageType(type: number): { method: number; class: StunClass } {
  const method = (type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2);
  const cls = (((type >> 4) & 1) | ((type >> 7) & 2)) as StunClass;
  return { method, class: cls };
}
