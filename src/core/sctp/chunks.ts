// The values of the chunks Parley's SCTP speaks (RFC 9260 §3.3, RFC 3758 §3.2), decoded into
// plain objects and encoded back. Every decoder is total: it returns undefined for a value it
// cannot trust (wrong length, counts that overrun, missing mandatory parameter) and never reads
// past the value. Not here: RE-CONFIG parameters (reconfig.ts), the packet around chunks
// (packet.ts), or what the association does with them.
import { ChunkType } from './packet.ts';

export const DataFlag = { end: 0x01, begin: 0x02, unordered: 0x04, immediate: 0x08 } as const;

export interface DataChunk {
  flags: number;
  tsn: number;
  streamId: number;
  ssn: number;
  ppid: number;
  payload: Buffer;
}

export function decodeData(flags: number, v: Buffer): DataChunk | undefined {
  if (v.length < 12) return undefined;
  return {
    flags,
    tsn: v.readUInt32BE(0),
    streamId: v.readUInt16BE(4),
    ssn: v.readUInt16BE(6),
    ppid: v.readUInt32BE(8),
    payload: v.subarray(12),
  };
}

/** INIT and INIT-ACK share one layout (RFC 9260 §3.3.2, §3.3.3). */
export interface InitChunk {
  initiateTag: number;
  aRwnd: number;
  outboundStreams: number;
  inboundStreams: number;
  initialTsn: number;
  /** INIT-ACK only: the State Cookie parameter. */
  cookie?: Buffer;
  /** The peer lists FORWARD-TSN (RFC 3758 §3.1, in Supported Extensions or its own parameter). */
  forwardTsn: boolean;
  /** The peer lists RE-CONFIG in Supported Extensions (RFC 6525 §3.1). */
  reconfig: boolean;
}

export const Param = {
  heartbeatInfo: 1,
  stateCookie: 7,
  supportedExtensions: 0x8008,
  forwardTsnSupported: 0xc000,
} as const;

/**
 * RFC 9260 §3.3.2 parameters we know and have no use for over DTLS: IPv4 (5) and IPv6 (6)
 * addresses, Cookie Preservative (9), Host Name (11), Supported Address Types (12, which
 * usrsctp sends before Supported Extensions). Skipped, not "unknown".
 */
const IGNORED_INIT_PARAMS = new Set([5, 6, 9, 11, 12]);

export function decodeInit(v: Buffer): InitChunk | undefined {
  if (v.length < 16) return undefined;
  const init: InitChunk = {
    initiateTag: v.readUInt32BE(0),
    aRwnd: v.readUInt32BE(4),
    outboundStreams: v.readUInt16BE(8),
    inboundStreams: v.readUInt16BE(10),
    initialTsn: v.readUInt32BE(12),
    forwardTsn: false,
    reconfig: false,
  };
  let off = 16;
  while (off + 4 <= v.length) {
    const type = v.readUInt16BE(off);
    const length = v.readUInt16BE(off + 2);
    if (length < 4 || off + length > v.length) return undefined;
    const body = v.subarray(off + 4, off + length);
    if (type === Param.stateCookie) init.cookie = body;
    else if (type === Param.forwardTsnSupported) init.forwardTsn = true;
    else if (type === Param.supportedExtensions) {
      for (const t of body) {
        if (t === ChunkType.forwardTsn) init.forwardTsn = true;
        if (t === ChunkType.reconfig) init.reconfig = true;
      }
    } else if ((type & 0x8000) === 0 && !IGNORED_INIT_PARAMS.has(type)) {
      // RFC 9260 §3.2.1: an unknown parameter with the high bit clear stops parameter processing.
      break;
    }
    off += (length + 3) & ~3;
  }
  return init;
}

export function encodeInit(init: InitChunk): Buffer {
  const cookie = init.cookie;
  const extensions = Buffer.from([ChunkType.reconfig, ChunkType.forwardTsn]);
  const paramsLen = (cookie ? pad4(4 + cookie.length) : 0) + pad4(4 + extensions.length) + 4;
  const v = Buffer.alloc(16 + paramsLen);
  v.writeUInt32BE(init.initiateTag, 0);
  v.writeUInt32BE(init.aRwnd, 4);
  v.writeUInt16BE(init.outboundStreams, 8);
  v.writeUInt16BE(init.inboundStreams, 10);
  v.writeUInt32BE(init.initialTsn, 12);
  let off = 16;
  if (cookie) off = writeParam(v, off, Param.stateCookie, cookie);
  off = writeParam(v, off, Param.supportedExtensions, extensions);
  // usrsctp and dcsctp also accept RFC 3758's own parameter; we send both, as browsers do.
  writeParam(v, off, Param.forwardTsnSupported, Buffer.alloc(0));
  return v;
}

export interface SackChunk {
  cumTsn: number;
  aRwnd: number;
  /** Gap ack blocks as [start, end] offsets from cumTsn (RFC 9260 §3.3.4), in order. */
  gaps: Array<[number, number]>;
  duplicates: number[];
}

export function decodeSack(v: Buffer): SackChunk | undefined {
  if (v.length < 12) return undefined;
  const nGaps = v.readUInt16BE(8);
  const nDups = v.readUInt16BE(10);
  if (v.length !== 12 + 4 * nGaps + 4 * nDups) return undefined;
  const gaps: Array<[number, number]> = [];
  let prevEnd = 0;
  for (let i = 0; i < nGaps; i++) {
    const start = v.readUInt16BE(12 + 4 * i);
    const end = v.readUInt16BE(14 + 4 * i);
    // Blocks must be ordered, non-empty and past the cumulative point; anything else is hostile.
    if (start === 0 || end < start || start <= prevEnd) return undefined;
    gaps.push([start, end]);
    prevEnd = end;
  }
  const duplicates: number[] = [];
  for (let i = 0; i < nDups; i++) duplicates.push(v.readUInt32BE(12 + 4 * nGaps + 4 * i));
  return { cumTsn: v.readUInt32BE(0), aRwnd: v.readUInt32BE(4), gaps, duplicates };
}

export function encodeSack(s: SackChunk): Buffer {
  const v = Buffer.allocUnsafe(12 + 4 * s.gaps.length + 4 * s.duplicates.length);
  v.writeUInt32BE(s.cumTsn, 0);
  v.writeUInt32BE(s.aRwnd, 4);
  v.writeUInt16BE(s.gaps.length, 8);
  v.writeUInt16BE(s.duplicates.length, 10);
  let off = 12;
  for (const [start, end] of s.gaps) {
    v.writeUInt16BE(start, off);
    v.writeUInt16BE(end, off + 2);
    off += 4;
  }
  for (const d of s.duplicates) {
    v.writeUInt32BE(d, off);
    off += 4;
  }
  return v;
}

export interface ForwardTsnChunk {
  newCumTsn: number;
  /** Ordered streams whose SSNs up to `ssn` were skipped (RFC 3758 §3.2). */
  streams: Array<{ streamId: number; ssn: number }>;
}

export function decodeForwardTsn(v: Buffer): ForwardTsnChunk | undefined {
  if (v.length < 4 || (v.length - 4) % 4 !== 0) return undefined;
  const streams: ForwardTsnChunk['streams'] = [];
  for (let off = 4; off < v.length; off += 4) streams.push({ streamId: v.readUInt16BE(off), ssn: v.readUInt16BE(off + 2) });
  return { newCumTsn: v.readUInt32BE(0), streams };
}

export function encodeForwardTsn(f: ForwardTsnChunk): Buffer {
  const v = Buffer.allocUnsafe(4 + 4 * f.streams.length);
  v.writeUInt32BE(f.newCumTsn, 0);
  f.streams.forEach((s, i) => {
    v.writeUInt16BE(s.streamId, 4 + 4 * i);
    v.writeUInt16BE(s.ssn, 6 + 4 * i);
  });
  return v;
}

export interface ErrorCauseValue {
  code: number;
  info: Buffer;
}

/** Error causes of ABORT and ERROR (RFC 9260 §3.3.10); at most `max` of them, malformed tail ignored. */
export function decodeCauses(v: Buffer, max = 16): ErrorCauseValue[] {
  const out: ErrorCauseValue[] = [];
  let off = 0;
  while (off + 4 <= v.length && out.length < max) {
    const length = v.readUInt16BE(off + 2);
    if (length < 4 || off + length > v.length) break;
    out.push({ code: v.readUInt16BE(off), info: v.subarray(off + 4, off + length) });
    off += (length + 3) & ~3;
  }
  return out;
}

export function encodeCause(code: number, info: Buffer = Buffer.alloc(0)): Buffer {
  const v = Buffer.alloc(pad4(4 + info.length));
  v.writeUInt16BE(code, 0);
  v.writeUInt16BE(4 + info.length, 2);
  info.copy(v, 4);
  return v;
}

/** The Heartbeat Info parameter of HEARTBEAT (RFC 9260 §3.3.5): its body, or undefined. */
export function decodeHeartbeatInfo(v: Buffer): Buffer | undefined {
  if (v.length < 4 || v.readUInt16BE(0) !== Param.heartbeatInfo) return undefined;
  const length = v.readUInt16BE(2);
  if (length < 4 || length > v.length) return undefined;
  return v.subarray(4, length);
}

export function encodeHeartbeatInfo(info: Buffer): Buffer {
  const v = Buffer.alloc(4 + info.length);
  writeParam(v, 0, Param.heartbeatInfo, info);
  return v;
}

function writeParam(v: Buffer, off: number, type: number, body: Buffer): number {
  v.writeUInt16BE(type, off);
  v.writeUInt16BE(4 + body.length, off + 2);
  body.copy(v, off + 4);
  return off + pad4(4 + body.length);
}

function pad4(n: number): number {
  return (n + 3) & ~3;
}
