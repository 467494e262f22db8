// ERROR-CODE (RFC 8489 §14.8, type 0x0009): 21 reserved bits, class (3 bits, 3..6), number
// (8 bits, 0..99), then a UTF-8 reason phrase. Also UNKNOWN-ATTRIBUTES (§14.13, 0x000A), the
// list of 16-bit types a 420 response carries. The codes ICE uses are named here.
import { AttrType } from '../constants.ts';
import type { RawAttribute, StunErrorCodeValue } from '../message.ts';
import { decodeUtf8, encodeUtf8 } from './text.ts';

const MAX_REASON_BYTES = 763;

/** RFC 8489 §14.8 and RFC 8445 §16.2 (487). */
export const StunErrorCodes = {
  BadRequest: { code: 400, reason: 'Bad Request' },
  Unauthorized: { code: 401, reason: 'Unauthorized' },
  UnknownAttribute: { code: 420, reason: 'Unknown Attribute' },
  RoleConflict: { code: 487, reason: 'Role Conflict' },
  ServerError: { code: 500, reason: 'Server Error' },
} as const satisfies Record<string, StunErrorCodeValue>;

export function errorCodeAttribute(error: StunErrorCodeValue): RawAttribute {
  const { code } = error;
  if (!Number.isInteger(code) || code < 300 || code > 699) throw new RangeError(`STUN error codes are 300..699, not ${code}`);
  const reason = encodeUtf8(error.reason, MAX_REASON_BYTES, 'ERROR-CODE reason');
  const value = Buffer.alloc(4 + reason.length);
  value[2] = Math.floor(code / 100);
  value[3] = code % 100;
  reason.copy(value, 4);
  return { type: AttrType.ErrorCode, value };
}

export function decodeErrorCode(value: Uint8Array): StunErrorCodeValue | undefined {
  if (value.length < 4) return undefined;
  // The top 21 bits are reserved ("SHOULD be 0", ignored on receipt); class is the low 3 bits.
  const cls = value[2] & 0x07;
  const num = value[3];
  if (cls < 3 || cls > 6 || num > 99) return undefined;
  const reason = decodeUtf8(value.subarray(4), MAX_REASON_BYTES);
  if (reason === undefined) return undefined;
  return { code: cls * 100 + num, reason };
}

export function unknownAttributesAttribute(types: readonly number[]): RawAttribute {
  const value = Buffer.alloc(types.length * 2);
  types.forEach((t, i) => value.writeUInt16BE(t, i * 2));
  return { type: AttrType.UnknownAttributes, value };
}

export function decodeUnknownAttributes(value: Uint8Array): number[] | undefined {
  if (value.length % 2 !== 0) return undefined;
  const out: number[] = [];
  for (let i = 0; i < value.length; i += 2) out.push((value[i] << 8) | value[i + 1]);
  return out;
}
