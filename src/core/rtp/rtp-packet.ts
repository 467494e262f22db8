// RTP packet codec (RFC 3550 §5.1 fixed header, CSRCs, §5.3.1 header extension, padding).
// The extension is kept as its raw profile + data; header-extension.ts reads and writes the
// RFC 8285 one-byte and two-byte element forms inside it. Payload and extension data are views
// into the input (no copy): copy them if you keep them past the input buffer's life.
import { rtpParseError, type RtpParseError } from './errors.ts';

export interface RtpHeaderExtension {
  /** "defined by profile": 0xBEDE one-byte form, 0x100X two-byte form (RFC 8285 §4.2/§4.3). */
  profile: number;
  /** Extension body, a multiple of 4 bytes. */
  data: Buffer;
}

export interface RtpHeader {
  marker: boolean;
  payloadType: number;
  sequenceNumber: number;
  timestamp: number;
  ssrc: number;
  csrcs: number[];
  extension?: RtpHeaderExtension;
}

export interface RtpPacket {
  header: RtpHeader;
  payload: Buffer;
  /** Bytes of padding after the payload (0 when P is clear). */
  paddingLength: number;
}

/** Parses an RTP packet; never throws, never reads past `packet`. */
export function parseRtp(packet: Buffer): RtpPacket | RtpParseError {
  const len = packet.length;
  if (len < 12) return rtpParseError('too_short');
  const b0 = packet[0];
  if (b0 >>> 6 !== 2) return rtpParseError('bad_version');
  const cc = b0 & 0x0f;
  let off = 12 + 4 * cc;
  if (off > len) return rtpParseError('bad_csrc');
  const csrcs: number[] = [];
  for (let i = 12; i < off; i += 4) csrcs.push(packet.readUInt32BE(i));
  let extension: RtpHeaderExtension | undefined;
  if (b0 & 0x10) {
    if (off + 4 > len) return rtpParseError('bad_extension');
    const profile = packet.readUInt16BE(off);
    const words = packet.readUInt16BE(off + 2);
    const end = off + 4 + 4 * words;
    if (end > len) return rtpParseError('bad_extension');
    extension = { profile, data: packet.subarray(off + 4, end) };
    off = end;
  }
  let paddingLength = 0;
  if (b0 & 0x20) {
    // RFC 3550 §5.1: the last octet counts the padding, itself included.
    paddingLength = len > off ? packet[len - 1] : 0;
    if (paddingLength === 0 || off + paddingLength > len) return rtpParseError('bad_padding');
  }
  const b1 = packet[1];
  return {
    header: {
      marker: (b1 & 0x80) !== 0,
      payloadType: b1 & 0x7f,
      sequenceNumber: packet.readUInt16BE(2),
      timestamp: packet.readUInt32BE(4),
      ssrc: packet.readUInt32BE(8),
      csrcs,
      extension,
    },
    payload: packet.subarray(off, len - paddingLength),
    paddingLength,
  };
}

/**
 * Encodes an RTP packet. `paddingLength` (0..255) appends that many padding bytes, the last
 * holding the count. Throws RangeError for values that do not fit their fields: this is our
 * own packet, so a bad field is a bug, not input.
 */
export function encodeRtp(packet: { header: RtpHeader; payload: Uint8Array; paddingLength?: number }): Buffer {
  const { header: h, payload } = packet;
  const pad = packet.paddingLength ?? 0;
  if (h.csrcs.length > 15) throw new RangeError('RTP: at most 15 CSRCs');
  if (pad < 0 || pad > 255 || !Number.isInteger(pad)) throw new RangeError('RTP: padding is 0..255 bytes');
  const ext = h.extension;
  if (ext && ext.data.length % 4 !== 0) throw new RangeError('RTP: extension data must be a multiple of 4 bytes');
  if (ext && ext.data.length > 0xffff * 4) throw new RangeError('RTP: extension data too long');
  const headerLen = 12 + 4 * h.csrcs.length + (ext ? 4 + ext.data.length : 0);
  const out = Buffer.alloc(headerLen + payload.length + pad);
  out[0] = 0x80 | (pad ? 0x20 : 0) | (ext ? 0x10 : 0) | h.csrcs.length;
  out[1] = (h.marker ? 0x80 : 0) | (h.payloadType & 0x7f);
  out.writeUInt16BE(h.sequenceNumber & 0xffff, 2);
  out.writeUInt32BE(h.timestamp >>> 0, 4);
  out.writeUInt32BE(h.ssrc >>> 0, 8);
  let off = 12;
  for (const c of h.csrcs) off = out.writeUInt32BE(c >>> 0, off);
  if (ext) {
    off = out.writeUInt16BE(ext.profile & 0xffff, off);
    off = out.writeUInt16BE(ext.data.length / 4, off);
    off += ext.data.copy(out, off);
  }
  out.set(payload, off);
  if (pad) out[out.length - 1] = pad;
  return out;
}
