// Crafting SCTP packets as a hostile peer would: any chunks, the right ports, tag and checksum.
import { crc32c } from '../../../src/core/sctp/crc32c.ts';
import type { SctpAssociation } from '../../../src/core/sctp/index.ts';

export function chunk(type: number, flags: number, value: Buffer): Buffer {
  const c = Buffer.alloc((4 + value.length + 3) & ~3);
  c[0] = type;
  c[1] = flags;
  c.writeUInt16BE(4 + value.length, 2);
  value.copy(c, 4);
  return c;
}

export function dataChunk(flags: number, tsn: number, streamId: number, ssn: number, ppid: number, payload: Buffer): Buffer {
  const v = Buffer.alloc(12 + payload.length);
  v.writeUInt32BE(tsn, 0);
  v.writeUInt16BE(streamId, 4);
  v.writeUInt16BE(ssn, 6);
  v.writeUInt32BE(ppid, 8);
  payload.copy(v, 12);
  return chunk(0, flags, v);
}

/** A checksummed packet (ports 5000) carrying `chunks` as given. */
export function seal(vtag: number, chunks: Buffer[]): Buffer {
  const p = Buffer.concat([Buffer.alloc(12), ...chunks]);
  p.writeUInt16BE(5000, 0);
  p.writeUInt16BE(5000, 2);
  p.writeUInt32BE(vtag >>> 0, 4);
  p.writeUInt32LE(crc32c(p), 8);
  return p;
}

/** Recomputes the checksum of a (mutated) packet. */
export function reseal(p: Buffer): Buffer {
  if (p.length < 12) return p;
  const q = Buffer.from(p);
  q.writeUInt32LE(0, 8);
  q.writeUInt32LE(crc32c(q), 8);
  return q;
}

/** Drains an association and throws its transmits and events away. */
export function discard(a: SctpAssociation): void {
  while (a.pollTransmit() !== undefined || a.pollEvent() !== undefined);
}
