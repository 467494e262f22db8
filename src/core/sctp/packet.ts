// The SCTP packet (RFC 9260 §3): a 12-byte common header (ports, verification tag, CRC32c
// checksum) followed by chunks, each type/flags/length/value padded to 4 bytes. parsePacket() is
// total: it returns the chunks or a drop reason and never reads past the input. PacketBuilder
// fills one packet of at most the association's MTU, in place, and seals it with the checksum.
// Not here: what a chunk's value means (chunks.ts), or which chunks go together (association.ts).
import { crc32c } from './crc32c.ts';
import type { SctpDropReason } from './errors.ts';

export const COMMON_HEADER = 12;
export const CHUNK_HEADER = 4;
export const DATA_HEADER = 16;

/** Chunk types (RFC 9260 §3.2, RFC 3758 §3.2, RFC 6525 §3.1). */
export const ChunkType = {
  data: 0,
  init: 1,
  initAck: 2,
  sack: 3,
  heartbeat: 4,
  heartbeatAck: 5,
  abort: 6,
  shutdown: 7,
  shutdownAck: 8,
  error: 9,
  cookieEcho: 10,
  cookieAck: 11,
  shutdownComplete: 14,
  reconfig: 130,
  forwardTsn: 192,
} as const;

export interface RawChunk {
  type: number;
  flags: number;
  /** The chunk value (after the 4-byte chunk header, before padding): a view into the packet. */
  value: Buffer;
}

export interface ParsedPacket {
  srcPort: number;
  dstPort: number;
  verificationTag: number;
  chunks: RawChunk[];
}

/** Parses and checks one SCTP packet; never throws. */
export function parsePacket(packet: Buffer): ParsedPacket | SctpDropReason {
  if (packet.length < COMMON_HEADER + CHUNK_HEADER) return 'malformed_packet';
  // RFC 9260 §6.8: the checksum is computed with its own field zeroed; it is carried in the
  // byte order of the reflected CRC (least significant byte first), as every stack writes it.
  const sent = packet.readUInt32LE(8);
  packet.writeUInt32LE(0, 8);
  const sum = crc32c(packet);
  packet.writeUInt32LE(sent, 8);
  if (sum !== sent) return 'bad_checksum';
  const chunks: RawChunk[] = [];
  let off = COMMON_HEADER;
  while (off + CHUNK_HEADER <= packet.length) {
    const length = packet.readUInt16BE(off + 2);
    if (length < CHUNK_HEADER || off + length > packet.length) return 'malformed_packet';
    chunks.push({ type: packet[off], flags: packet[off + 1], value: packet.subarray(off + CHUNK_HEADER, off + length) });
    off += (length + 3) & ~3;
  }
  // Trailing bytes shorter than a chunk header can only be padding.
  if (off < packet.length && packet.length - off >= CHUNK_HEADER) return 'malformed_packet';
  if (chunks.length === 0) return 'malformed_packet';
  return { srcPort: packet.readUInt16BE(0), dstPort: packet.readUInt16BE(2), verificationTag: packet.readUInt32BE(4), chunks };
}

/** Fills one packet in place; finish() seals it and starts the next. */
export class PacketBuilder {
  readonly mtu: number;
  #buf: Buffer;
  #len = COMMON_HEADER;
  #chunks = 0;

  constructor(mtu: number) {
    this.mtu = mtu;
    this.#buf = Buffer.allocUnsafe(mtu);
  }

  get empty(): boolean {
    return this.#chunks === 0;
  }

  /** Bytes left for chunks (headers and padding included). */
  get room(): number {
    return this.mtu - this.#len;
  }

  /** Appends a chunk whose value is `value` (room must have been checked: chunkSize()). */
  add(type: number, flags: number, value: Buffer): void {
    const b = this.#buf;
    const at = this.#len;
    b[at] = type;
    b[at + 1] = flags;
    b.writeUInt16BE(CHUNK_HEADER + value.length, at + 2);
    value.copy(b, at + CHUNK_HEADER);
    this.#pad(at + CHUNK_HEADER + value.length);
  }

  /** Appends a DATA chunk (RFC 9260 §3.3.1) without building its value first. */
  addData(flags: number, tsn: number, streamId: number, ssn: number, ppid: number, payload: Buffer): void {
    const b = this.#buf;
    const at = this.#len;
    b[at] = ChunkType.data;
    b[at + 1] = flags;
    b.writeUInt16BE(DATA_HEADER + payload.length, at + 2);
    b.writeUInt32BE(tsn, at + 4);
    b.writeUInt16BE(streamId, at + 8);
    b.writeUInt16BE(ssn, at + 10);
    b.writeUInt32BE(ppid, at + 12);
    payload.copy(b, at + DATA_HEADER);
    this.#pad(at + DATA_HEADER + payload.length);
  }

  /** The finished packet (a fresh Buffer), or undefined when no chunk was added. */
  finish(srcPort: number, dstPort: number, verificationTag: number): Buffer | undefined {
    if (this.#chunks === 0) return undefined;
    const out = Buffer.allocUnsafe(this.#len);
    this.#buf.copy(out, 0, 0, this.#len);
    out.writeUInt16BE(srcPort, 0);
    out.writeUInt16BE(dstPort, 2);
    out.writeUInt32BE(verificationTag, 4);
    out.writeUInt32LE(0, 8);
    out.writeUInt32LE(crc32c(out), 8);
    this.#len = COMMON_HEADER;
    this.#chunks = 0;
    return out;
  }

  #pad(end: number): void {
    const padded = (end + 3) & ~3;
    this.#buf.fill(0, end, padded);
    this.#len = padded;
    this.#chunks++;
  }
}

/** Bytes a chunk with a value of `valueLength` takes in a packet, padding included. */
export function chunkSize(valueLength: number): number {
  return (CHUNK_HEADER + valueLength + 3) & ~3;
}

/** One whole packet holding exactly the given chunk (INIT, INIT-ACK, ABORT...). */
export function singleChunkPacket(
  mtu: number,
  srcPort: number,
  dstPort: number,
  vtag: number,
  type: number,
  flags: number,
  value: Buffer,
): Buffer {
  const b = new PacketBuilder(Math.max(mtu, COMMON_HEADER + chunkSize(value.length)));
  b.add(type, flags, value);
  return b.finish(srcPort, dstPort, vtag)!;
}
