// The ICE attributes of RFC 8445 §16.1, small enough to share a file:
// PRIORITY (0x0024, 32-bit), USE-CANDIDATE (0x0025, empty), ICE-CONTROLLED (0x8029) and
// ICE-CONTROLLING (0x802A), each a 64-bit tie-breaker (§7.1.3) held as a bigint.
import { AttrType } from '../constants.ts';
import type { RawAttribute } from '../message.ts';

export function priorityAttribute(priority: number): RawAttribute {
  if (!Number.isInteger(priority) || priority < 0 || priority > 0xffffffff)
    throw new RangeError(`PRIORITY must be a 32-bit unsigned integer, not ${priority}`);
  const value = Buffer.alloc(4);
  value.writeUInt32BE(priority, 0);
  return { type: AttrType.Priority, value };
}

export function decodePriority(value: Uint8Array): number | undefined {
  if (value.length !== 4) return undefined;
  return ((value[0] << 24) | (value[1] << 16) | (value[2] << 8) | value[3]) >>> 0;
}

export function useCandidateAttribute(): RawAttribute {
  return { type: AttrType.UseCandidate, value: Buffer.alloc(0) };
}

/** RFC 8445 §16.1: USE-CANDIDATE has no content. */
export function isValidUseCandidate(value: Uint8Array): boolean {
  return value.length === 0;
}

export function iceControllingAttribute(tieBreaker: bigint): RawAttribute {
  return { type: AttrType.IceControlling, value: tieBreakerBytes(tieBreaker) };
}

export function iceControlledAttribute(tieBreaker: bigint): RawAttribute {
  return { type: AttrType.IceControlled, value: tieBreakerBytes(tieBreaker) };
}

export function decodeTieBreaker(value: Uint8Array): bigint | undefined {
  if (value.length !== 8) return undefined;
  return Buffer.from(value.buffer, value.byteOffset, 8).readBigUInt64BE(0);
}

function tieBreakerBytes(tieBreaker: bigint): Buffer {
  if (tieBreaker < 0n || tieBreaker > 0xffffffffffffffffn) throw new RangeError('an ICE tie-breaker is a 64-bit unsigned integer');
  const value = Buffer.alloc(8);
  value.writeBigUInt64BE(tieBreaker, 0);
  return value;
}
