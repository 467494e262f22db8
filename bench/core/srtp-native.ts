// SRTP_AES128_CM_HMAC_SHA1_80, TypeScript transform vs the native one (native/src/srtp_native.c,
// `--srtp native`): µs per protect + unprotect of one 172-byte RTP packet (12-byte header +
// 160-byte payload) through SrtpSession, i.e. what the transceiver pays per echoed packet
// (unprotect the caller's, protect ours), and the same at the transform alone. Sessions are
// renewed every LAP packets (one key derivation per 16384 packets). Interleaved, 7 rounds of
// 200 ms, best round (as bench/core/srtp.ts). Skipped with a note row when the addon is not built.
import { microsPerCall, type BenchRow } from '../bench-row.ts';
import { deriveSessionKeys, SrtpSession, type SrtpSessionOptions, type SrtpTransform } from '../../src/core/srtp/index.ts';
import { AesCmHmacSha1Transform } from '../../src/core/srtp/transform-aes-cm.ts';
import { rtpPacket } from './srtp.ts';
import { loadSrtpAddon, nativeSrtpTransformFactory, NativeAesCmHmacSha1Transform } from '../../src/transceiver/srtp-native.ts';

const CM = 'SRTP_AES128_CM_HMAC_SHA1_80';
const LAP = 16384;
const ROUNDS = 7;
const SSRC = 0x1234abcd; // as in rtpPacket()

/** protect(packet i) then unprotect(packet i) through two sessions; one call = one packet each way. */
function sessionRoundTrip(opts: SrtpSessionOptions): () => Buffer {
  const master = { key: Buffer.alloc(16, 1), salt: Buffer.alloc(14, 2) };
  const plain = Array.from({ length: LAP }, (_, i) => rtpPacket(i));
  let i = 0;
  let tx = new SrtpSession(CM, master, master, opts);
  let rx = new SrtpSession(CM, master, master, opts);
  return () => {
    if (i === LAP) [i, tx, rx] = [0, new SrtpSession(CM, master, master, opts), new SrtpSession(CM, master, master, opts)];
    const r = rx.unprotectRtp(tx.protectRtp(plain[i++]));
    if (!Buffer.isBuffer(r)) throw r;
    return r;
  };
}

function transformRoundTrip(t: SrtpTransform): () => Buffer {
  const p = rtpPacket(1);
  let seq = 0;
  return () => {
    seq = (seq + 1) & 0xffff;
    return t.unprotectRtp(t.protectRtp(p, 12, SSRC, 0, seq)!, 12, SSRC, 0, seq)!;
  };
}

export async function run(): Promise<BenchRow[]> {
  const addon = loadSrtpAddon();
  if (addon instanceof Error) return [{ name: 'srtp native', value: NaN, unit: '-', note: `skipped: ${addon.message}` }];
  const keys = deriveSessionKeys(CM, Buffer.alloc(16, 1), Buffer.alloc(14, 2));
  const fns = [
    sessionRoundTrip({}),
    sessionRoundTrip({ createTransform: nativeSrtpTransformFactory(addon) }),
    transformRoundTrip(new AesCmHmacSha1Transform(keys.rtp, keys.rtcp)),
    transformRoundTrip(new NativeAesCmHmacSha1Transform(addon, keys)),
  ];
  const best = fns.map(() => Infinity);
  for (let r = 0; r < ROUNDS; r++) fns.forEach((fn, i) => (best[i] = Math.min(best[i], microsPerCall(fn, 200))));
  const [sTs, sNat, tTs, tNat] = best;
  const note = '172-byte RTP, protect + unprotect';
  return [
    { name: 'srtp aes-cm session ts', value: sTs, unit: 'µs/packet', note },
    { name: 'srtp aes-cm session native', value: sNat, unit: 'µs/packet', note },
    { name: 'srtp aes-cm session ts/native', value: sTs / sNat, unit: 'x' },
    { name: 'srtp aes-cm transform ts', value: tTs, unit: 'µs/packet', note: `${note}, transform only` },
    { name: 'srtp aes-cm transform native', value: tNat, unit: 'µs/packet', note: `${note}, transform only` },
    { name: 'srtp aes-cm transform ts/native', value: tTs / tNat, unit: 'x' },
  ];
}
