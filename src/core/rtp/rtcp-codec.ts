// RTCP compound packet codec (RFC 3550 §6.1, §6.4-§6.6). Parsing is total: every length is
// checked against the bytes present before it is used, strings decode as UTF-8 replacement-safe
// text, and the result is a typed reason rather than an exception. We accept reduced-size RTCP
// (RFC 5506: a compound need not start with SR/RR), which browsers send when rtcp-rsize is used.
import { RtpParseError, rtpParseError } from './errors.ts';
import { RTCP_TYPE, type ReportBlock, type RtcpPacket, type SdesChunk } from './rtcp-types.ts';

const REPORT_BLOCK = 24;

/** Splits and decodes an RTCP compound packet. */
export function parseRtcpCompound(buf: Buffer): RtcpPacket[] | RtpParseError {
  if (buf.length < 4) return rtpParseError('too_short');
  const out: RtcpPacket[] = [];
  for (let off = 0; off < buf.length;) {
    if (off + 4 > buf.length) return rtpParseError('bad_length');
    const b0 = buf[off];
    if (b0 >>> 6 !== 2) return rtpParseError('bad_version');
    const end = off + 4 + 4 * buf.readUInt16BE(off + 2);
    if (end > buf.length) return rtpParseError('bad_length');
    let bodyEnd = end;
    if (b0 & 0x20) {
      // RFC 3550 Appendix A.2: only the last packet of a compound may be padded.
      if (end !== buf.length) return rtpParseError('bad_compound');
      const pad = buf[end - 1];
      if (pad === 0 || off + 4 + pad > end) return rtpParseError('bad_padding');
      bodyEnd = end - pad;
    }
    const p = parseOne(buf[off + 1], b0 & 0x1f, buf.subarray(off + 4, bodyEnd));
    if (p instanceof RtpParseError) return p;
    out.push(p);
    off = end;
  }
  return out;
}

function parseOne(pt: number, count: number, body: Buffer): RtcpPacket | RtpParseError {
  switch (pt) {
    case RTCP_TYPE.SR: {
      if (body.length < 24 + count * REPORT_BLOCK) return rtpParseError('bad_rtcp_body');
      return {
        type: 'sr',
        ssrc: body.readUInt32BE(0),
        ntpSeconds: body.readUInt32BE(4),
        ntpFraction: body.readUInt32BE(8),
        rtpTimestamp: body.readUInt32BE(12),
        packetCount: body.readUInt32BE(16),
        octetCount: body.readUInt32BE(20),
        reports: reportBlocks(body, 24, count),
        ...extensionAfter(body, 24 + count * REPORT_BLOCK),
      };
    }
    case RTCP_TYPE.RR: {
      if (body.length < 4 + count * REPORT_BLOCK) return rtpParseError('bad_rtcp_body');
      return {
        type: 'rr',
        ssrc: body.readUInt32BE(0),
        reports: reportBlocks(body, 4, count),
        ...extensionAfter(body, 4 + count * REPORT_BLOCK),
      };
    }
    case RTCP_TYPE.SDES:
      return parseSdes(body, count);
    case RTCP_TYPE.BYE: {
      if (body.length < 4 * count) return rtpParseError('bad_rtcp_body');
      const ssrcs: number[] = [];
      for (let i = 0; i < count; i++) ssrcs.push(body.readUInt32BE(4 * i));
      const at = 4 * count;
      if (at >= body.length) return { type: 'bye', ssrcs };
      const n = body[at];
      if (at + 1 + n > body.length) return rtpParseError('bad_rtcp_body');
      return { type: 'bye', ssrcs, reason: body.toString('utf8', at + 1, at + 1 + n) };
    }
    default:
      return { type: 'other', packetType: pt, count, body };
  }
}

function reportBlocks(body: Buffer, at: number, count: number): ReportBlock[] {
  const out: ReportBlock[] = [];
  for (let i = 0, o = at; i < count; i++, o += REPORT_BLOCK) {
    out.push({
      ssrc: body.readUInt32BE(o),
      fractionLost: body[o + 4],
      cumulativeLost: body.readIntBE(o + 5, 3), // signed 24-bit (RFC 3550 §6.4.1)
      highestSeq: body.readUInt32BE(o + 8),
      jitter: body.readUInt32BE(o + 12),
      lsr: body.readUInt32BE(o + 16),
      dlsr: body.readUInt32BE(o + 20),
    });
  }
  return out;
}

function extensionAfter(body: Buffer, at: number): { extension?: Buffer } {
  return at < body.length ? { extension: body.subarray(at) } : {};
}

/** RFC 3550 §6.5: chunks of SSRC + items, each chunk ended by a null item and padded to 4 bytes. */
function parseSdes(body: Buffer, count: number): RtcpPacket | RtpParseError {
  const chunks: SdesChunk[] = [];
  let o = 0;
  for (let c = 0; c < count; c++) {
    if (o + 4 > body.length) return rtpParseError('bad_rtcp_body');
    const chunk: SdesChunk = { ssrc: body.readUInt32BE(o), items: [] };
    o += 4;
    for (;;) {
      if (o >= body.length) return rtpParseError('bad_rtcp_body');
      const type = body[o];
      if (type === 0) break;
      if (o + 2 > body.length || o + 2 + body[o + 1] > body.length) return rtpParseError('bad_rtcp_body');
      const n = body[o + 1];
      chunk.items.push({ type, text: body.toString('utf8', o + 2, o + 2 + n) });
      o += 2 + n;
    }
    o = (o + 4) & ~3; // past the null octet(s) to the next 32-bit boundary
    chunks.push(chunk);
  }
  return { type: 'sdes', chunks };
}

/** Encodes packets back to back into one compound (RFC 3550 §6.1). Throws RangeError on fields that do not fit. */
export function encodeRtcpCompound(packets: RtcpPacket[]): Buffer {
  return Buffer.concat(packets.map(encodeOne));
}

function header(pt: number, count: number, body: Buffer): Buffer {
  if (count > 31) throw new RangeError('RTCP: at most 31 items per packet');
  if (body.length % 4 !== 0) throw new RangeError('RTCP: body must be a multiple of 4 bytes');
  const h = Buffer.alloc(4);
  h[0] = 0x80 | count;
  h[1] = pt;
  h.writeUInt16BE(body.length / 4, 2);
  return Buffer.concat([h, body]);
}

function encodeOne(p: RtcpPacket): Buffer {
  switch (p.type) {
    case 'sr': {
      const fixed = Buffer.alloc(24);
      [p.ssrc, p.ntpSeconds, p.ntpFraction, p.rtpTimestamp, p.packetCount, p.octetCount].forEach((v, i) =>
        fixed.writeUInt32BE(v >>> 0, 4 * i),
      );
      return header(RTCP_TYPE.SR, p.reports.length, Buffer.concat([fixed, ...p.reports.map(encodeBlock), p.extension ?? Buffer.alloc(0)]));
    }
    case 'rr': {
      const fixed = Buffer.alloc(4);
      fixed.writeUInt32BE(p.ssrc >>> 0, 0);
      return header(RTCP_TYPE.RR, p.reports.length, Buffer.concat([fixed, ...p.reports.map(encodeBlock), p.extension ?? Buffer.alloc(0)]));
    }
    case 'sdes': {
      const chunks = p.chunks.map((c) => {
        const items = c.items.map((it) => {
          const t = Buffer.from(it.text, 'utf8');
          if (t.length > 255 || it.type < 1 || it.type > 255) throw new RangeError('SDES: item type 1..255, text up to 255 bytes');
          return Buffer.concat([Buffer.from([it.type, t.length]), t]);
        });
        const raw = Buffer.concat([u32(c.ssrc), ...items]);
        const padded = Buffer.alloc((raw.length + 4) & ~3); // at least one null octet
        raw.copy(padded);
        return padded;
      });
      return header(RTCP_TYPE.SDES, p.chunks.length, Buffer.concat(chunks));
    }
    case 'bye': {
      const parts = p.ssrcs.map(u32);
      if (p.reason !== undefined) {
        const r = Buffer.from(p.reason, 'utf8');
        if (r.length > 255) throw new RangeError('BYE: reason up to 255 bytes');
        const b = Buffer.alloc((r.length + 1 + 3) & ~3);
        b[0] = r.length;
        r.copy(b, 1);
        parts.push(b);
      }
      return header(RTCP_TYPE.BYE, p.ssrcs.length, Buffer.concat(parts));
    }
    case 'other':
      return header(p.packetType, p.count, p.body);
  }
}

function encodeBlock(b: ReportBlock): Buffer {
  const o = Buffer.alloc(REPORT_BLOCK);
  o.writeUInt32BE(b.ssrc >>> 0, 0);
  o[4] = b.fractionLost & 0xff;
  o.writeIntBE(Math.max(-0x800000, Math.min(0x7fffff, b.cumulativeLost)), 5, 3);
  o.writeUInt32BE(b.highestSeq >>> 0, 8);
  o.writeUInt32BE(b.jitter >>> 0, 12);
  o.writeUInt32BE(b.lsr >>> 0, 16);
  o.writeUInt32BE(b.dlsr >>> 0, 20);
  return o;
}

function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(v >>> 0, 0);
  return b;
}
