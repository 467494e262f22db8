// G.711 µ-law (ITU-T G.711 §3, the North American companding law): 8-bit codes ⇄ 16-bit linear
// PCM, as telephony and the Twilio Media Streams protocol carry audio (`audio/x-mulaw`, 8 kHz).
// Encoding follows the CCITT/Sun reference (14-bit, bias 33, clip 8159, segment = position of
// the highest set bit, code inverted); decoding is a 256-entry table built from its inverse. Both are
// checked against Python's `audioop` (test/media/mulaw.test.ts). Not here: resampling (rate.ts).

const BIAS = 0x84;
/** The largest magnitude coded, on the 14-bit scale (G.711: 8159 = 32635 / 4). */
const CLIP14 = 8159;

/** The linear value of every µ-law code (G.711 Table 2a). */
const DECODE = new Int16Array(256);
for (let code = 0; code < 256; code++) {
  const u = ~code & 0xff;
  const t = (((u & 0x0f) << 3) + BIAS) << ((u & 0x70) >> 4);
  DECODE[code] = u & 0x80 ? BIAS - t : t - BIAS;
}

/**
 * One 16-bit sample → its µ-law code, exactly as the CCITT/Sun reference (and Python's audioop)
 * does it: on the top 14 bits (an arithmetic shift, so negative values round down), magnitude
 * clipped at 8159, bias 33, segment by the highest set bit.
 */
export function mulawEncodeSample(sample: number): number {
  let v = sample >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  if (v > CLIP14) v = CLIP14;
  v += BIAS >> 2;
  // Segment 0..7: v is in 33..8192, so its highest set bit is bit 5..13.
  const seg = Math.max(0, 26 - Math.clz32(v));
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0x0f)) ^ mask;
}

/**
 * The code of every 14-bit value (sample >> 2, offset by 8192): mulawEncodeSample reads nothing
 * else of a sample, so a 16 KiB table gives the same codes (all 65 536 checked) in about half the time.
 */
const ENCODE = new Uint8Array(1 << 14);
for (let v = -8192; v < 8192; v++) ENCODE[v + 8192] = mulawEncodeSample(v * 4);

/** 16-bit PCM → µ-law, one byte per sample; into `out` when given (a scratch buffer at least as long: the codes are its start). */
export function mulawEncode(pcm: Int16Array, out?: Buffer): Buffer {
  const n = pcm.length;
  const codes = out === undefined ? Buffer.allocUnsafe(n) : out.subarray(0, n);
  if (codes.length < n) throw new RangeError(`µ-law output holds ${codes.length} of ${n} samples`);
  for (let i = 0; i < n; i++) codes[i] = ENCODE[(pcm[i] >> 2) + 8192];
  return codes;
}

/** µ-law bytes → 16-bit PCM; into `out` when given (a scratch array at least as long: the samples are its start). */
export function mulawDecode(codes: Uint8Array, out?: Int16Array): Int16Array {
  const n = codes.length;
  const pcm = out === undefined ? new Int16Array(n) : out.subarray(0, n);
  if (pcm.length < n) throw new RangeError(`PCM output holds ${pcm.length} of ${n} samples`);
  for (let i = 0; i < n; i++) pcm[i] = DECODE[codes[i]];
  return pcm;
}
