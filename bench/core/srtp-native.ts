// SRTP_AES128_CM_HMAC_SHA1_80 and SRTP_AEAD_AES_128_GCM, TypeScript transforms vs the native ones
// (native/src/srtp_native.c, `--srtp native`): µs per protect + unprotect of one 172-byte RTP
// packet (12-byte header + 160-byte payload) through SrtpSession, i.e. what the transceiver pays
// per echoed packet (unprotect the caller's, protect ours), and the same at the transform alone.
// Sessions are renewed every LAP packets (one key derivation per 16384 packets). Interleaved, 7
// rounds of 200 ms, best round (as bench/core/srtp.ts). Skipped with a note row when the addon is
// not built.
import { microsPerCall, type BenchRow } from '../bench-row.ts';
import {
  deriveSessionKeys,
  SrtpSession,
  SRTP_PROFILES,
  type SrtpProfileName,
  type SrtpSessionOptions,
  type SrtpTransform,
} from '../../src/core/srtp/index.ts';
import { AesCmHmacSha1Transform } from '../../src/core/srtp/transform-aes-cm.ts';
import { AesGcmTransform } from '../../src/core/srtp/transform-aes-gcm.ts';
import { rtpPacket } from './srtp.ts';
import {
  loadSrtpAddon,
  nativeSrtpTransformFactory,
  NativeAesCmHmacSha1Transform,
  NativeAesGcmTransform,
} from '../../src/transceiver/media/srtp-native.ts';

const LAP = 16384;
const ROUNDS = 7;
const SSRC = 0x1234abcd; // as in rtpPacket()

const master = (profile: SrtpProfileName) => ({ key: Buffer.alloc(16, 1), salt: Buffer.alloc(SRTP_PROFILES[profile].masterSaltLength, 2) });

/** protect(packet i) then unprotect(packet i) through two sessions; one call = one packet each way. */
function sessionRoundTrip(profile: SrtpProfileName, opts: SrtpSessionOptions): () => Buffer {
  const m = master(profile);
  const plain = Array.from({ length: LAP }, (_, i) => rtpPacket(i));
  let i = 0;
  let tx = new SrtpSession(profile, m, m, opts);
  let rx = new SrtpSession(profile, m, m, opts);
  return () => {
    if (i === LAP) [i, tx, rx] = [0, new SrtpSession(profile, m, m, opts), new SrtpSession(profile, m, m, opts)];
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
  const native = { createTransform: nativeSrtpTransformFactory(addon) };
  const keys = (profile: SrtpProfileName) => deriveSessionKeys(profile, master(profile).key, master(profile).salt);
  const [cm, gcm] = [keys('SRTP_AES128_CM_HMAC_SHA1_80'), keys('SRTP_AEAD_AES_128_GCM')];
  const cases: [string, string, () => Buffer][] = [
    ['aes-cm', 'session ts', sessionRoundTrip('SRTP_AES128_CM_HMAC_SHA1_80', {})],
    ['aes-cm', 'session native', sessionRoundTrip('SRTP_AES128_CM_HMAC_SHA1_80', native)],
    ['aes-cm', 'transform ts', transformRoundTrip(new AesCmHmacSha1Transform(cm.rtp, cm.rtcp))],
    ['aes-cm', 'transform native', transformRoundTrip(new NativeAesCmHmacSha1Transform(addon, cm))],
    ['gcm', 'session ts', sessionRoundTrip('SRTP_AEAD_AES_128_GCM', {})],
    ['gcm', 'session native', sessionRoundTrip('SRTP_AEAD_AES_128_GCM', native)],
    ['gcm', 'transform ts', transformRoundTrip(new AesGcmTransform(gcm.rtp, gcm.rtcp))],
    ['gcm', 'transform native', transformRoundTrip(new NativeAesGcmTransform(addon, gcm))],
  ];
  const best = cases.map(() => Infinity);
  for (let r = 0; r < ROUNDS; r++) cases.forEach(([, , fn], i) => (best[i] = Math.min(best[i], microsPerCall(fn, 200))));
  const note = '172-byte RTP, protect + unprotect';
  const rows: BenchRow[] = [];
  for (let i = 0; i < cases.length; i += 2) {
    const [profile, ts] = cases[i];
    const what = ts.split(' ')[0];
    const n = what === 'transform' ? `${note}, transform only` : note;
    rows.push(
      { name: `srtp ${profile} ${ts}`, value: best[i], unit: 'µs/packet', note: n },
      { name: `srtp ${profile} ${cases[i + 1][1]}`, value: best[i + 1], unit: 'µs/packet', note: n },
      { name: `srtp ${profile} ${what} ts/native`, value: best[i] / best[i + 1], unit: 'x' },
    );
  }
  return rows;
}
