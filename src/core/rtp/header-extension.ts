// RFC 8285 header extension elements inside an RTP header extension: the one-byte form
// (profile 0xBEDE, ids 1..14, 1..16 bytes each, §4.2) and the two-byte form (profile 0x100X,
// ids 1..255, 0..255 bytes each, §4.3). Other profiles are not RFC 8285 and are left raw.
import { rtpParseError, type RtpParseError } from './errors.ts';
import type { RtpHeaderExtension } from './rtp-packet.ts';

export const ONE_BYTE_PROFILE = 0xbede;
export const TWO_BYTE_PROFILE = 0x1000; // the low 4 bits ("appbits") are application-defined

export interface RtpExtensionElement {
  id: number;
  data: Buffer;
}

export function isOneByteProfile(profile: number): boolean {
  return profile === ONE_BYTE_PROFILE;
}

export function isTwoByteProfile(profile: number): boolean {
  return (profile & 0xfff0) === TWO_BYTE_PROFILE;
}

/**
 * Reads the elements of an RFC 8285 extension; `undefined` for a non-RFC 8285 profile. Data are
 * views into `ext.data`. Padding bytes (id 0) are skipped; one-byte id 15 stops parsing (§4.2).
 */
export function parseExtensionElements(ext: RtpHeaderExtension): RtpExtensionElement[] | RtpParseError | undefined {
  const d = ext.data;
  const out: RtpExtensionElement[] = [];
  if (isOneByteProfile(ext.profile)) {
    for (let i = 0; i < d.length;) {
      const id = d[i] >>> 4;
      if (id === 0) {
        i++; // §4.2: padding byte; its L must be 0 too, but receivers just skip it
        continue;
      }
      if (id === 15) break;
      const n = (d[i] & 0x0f) + 1;
      if (i + 1 + n > d.length) return rtpParseError('bad_extension');
      out.push({ id, data: d.subarray(i + 1, i + 1 + n) });
      i += 1 + n;
    }
    return out;
  }
  if (isTwoByteProfile(ext.profile)) {
    for (let i = 0; i < d.length;) {
      const id = d[i];
      if (id === 0) {
        i++;
        continue;
      }
      if (i + 2 > d.length) return rtpParseError('bad_extension');
      const n = d[i + 1];
      if (i + 2 + n > d.length) return rtpParseError('bad_extension');
      out.push({ id, data: d.subarray(i + 2, i + 2 + n) });
      i += 2 + n;
    }
    return out;
  }
  return undefined;
}

/**
 * Writes elements in the one-byte form when every id is 1..14 and every length 1..16 (what
 * browsers expect unless extmap-allow-mixed), else the two-byte form. Padded to 4 bytes.
 * Throws RangeError for ids or lengths no form can carry.
 */
export function encodeExtensionElements(elements: RtpExtensionElement[], appBits = 0): RtpHeaderExtension {
  const oneByte = elements.every((e) => e.id >= 1 && e.id <= 14 && e.data.length >= 1 && e.data.length <= 16);
  const parts: Buffer[] = [];
  for (const e of elements) {
    if (oneByte) {
      parts.push(Buffer.from([(e.id << 4) | (e.data.length - 1)]), e.data);
    } else {
      if (e.id < 1 || e.id > 255 || e.data.length > 255)
        throw new RangeError(`RFC 8285: element id ${e.id} / ${e.data.length} bytes does not fit`);
      parts.push(Buffer.from([e.id, e.data.length]), e.data);
    }
  }
  const body = Buffer.concat(parts);
  const data = Buffer.alloc(Math.ceil(body.length / 4) * 4);
  body.copy(data);
  return { profile: oneByte ? ONE_BYTE_PROFILE : TWO_BYTE_PROFILE | (appBits & 0x0f), data };
}
