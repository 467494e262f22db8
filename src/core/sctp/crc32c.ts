// CRC32c (Castagnoli, reflected polynomial 0x82F63B78), the SCTP checksum (RFC 9260 §6.8 and
// Appendix A). RFC 8261 §5 runs SCTP over DTLS with no checksum offload, so every packet we send
// and receive pays for it: a slice-by-16 table (sixteen 256-entry tables, 16 KiB, sixteen bytes
// per step) in plain TypeScript, measured in bench/core/sctp.ts. Not here: where the checksum sits in a packet
// (packet.ts).

const POLY = 0x82f63b78;
const T = new Int32Array(16 * 256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ POLY : c >>> 1;
  T[n] = c;
}
for (let n = 0; n < 256; n++) {
  let c = T[n];
  for (let t = 1; t < 16; t++) {
    c = T[c & 0xff] ^ (c >>> 8);
    T[t * 256 + n] = c;
  }
}

/** CRC32c of buf[start, end), as an unsigned 32-bit number. */
export function crc32c(buf: Uint8Array, start = 0, end = buf.length): number {
  let crc = -1;
  let i = start;
  const fast = end - ((end - i) & 15);
  while (i < fast) {
    const a = crc ^ (buf[i] | (buf[i + 1] << 8) | (buf[i + 2] << 16) | (buf[i + 3] << 24));
    crc =
      T[3840 + (a & 0xff)] ^
      T[3584 + ((a >>> 8) & 0xff)] ^
      T[3328 + ((a >>> 16) & 0xff)] ^
      T[3072 + (a >>> 24)] ^
      T[2816 + buf[i + 4]] ^
      T[2560 + buf[i + 5]] ^
      T[2304 + buf[i + 6]] ^
      T[2048 + buf[i + 7]] ^
      T[1792 + buf[i + 8]] ^
      T[1536 + buf[i + 9]] ^
      T[1280 + buf[i + 10]] ^
      T[1024 + buf[i + 11]] ^
      T[768 + buf[i + 12]] ^
      T[512 + buf[i + 13]] ^
      T[256 + buf[i + 14]] ^
      T[buf[i + 15]];
    i += 16;
  }
  while (i < end) crc = T[(crc ^ buf[i++]) & 0xff] ^ (crc >>> 8);
  return ~crc >>> 0;
}
