// Shared by the native-vs-TypeScript SRTP transform tests (srtp-native-matches-typescript,
// srtp-native-gcm-matches-typescript): the addon (skipped when not built, failed with CI=true),
// a seeded PRNG, random RTP packets, a comparable outcome of one transform call, and the
// bit-flip and output-buffer checks both profiles go through.
import assert from 'node:assert/strict';
import { rtpHeaderLength } from '../../../src/core/rtp/header-length.ts';
import type { SrtpTransform } from '../../../src/core/srtp/index.ts';
import { loadSrtpAddon, type SrtpAddon } from '../../../src/transceiver/media/srtp-native.ts';

const loaded = loadSrtpAddon();
/** `skip` for node:test: a reason when the addon is missing, except under CI=true where the tests run and fail. */
export const skipWithoutAddon = loaded instanceof Error && process.env.CI !== 'true' ? 'the native SRTP addon is not built' : false;

export function addon(): SrtpAddon {
  if (loaded instanceof Error) assert.fail(`CI=true but the native SRTP addon is not usable: ${loaded.message}`);
  return loaded;
}

export const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

export interface Prng {
  u32: () => number;
  int: (n: number) => number;
  bytes: (n: number) => Buffer;
}

/** mulberry32: seeded, so a failure repeats. */
export function prng(seed: number): Prng {
  let a = seed >>> 0;
  const u32 = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  const bytes = (n: number): Buffer => {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = u32() & 0xff;
    return b;
  };
  return { u32, int: (n) => u32() % n, bytes };
}

/** A random RTP packet: 0..15 CSRCs, maybe an extension of 0..8 words, 0..1400 bytes of payload. */
export function randomRtp(r: Prng): Buffer {
  const cc = r.int(16);
  const x = r.int(2);
  const extWords = r.int(9);
  const payload = r.int(5) === 0 ? r.int(16) : r.int(1401);
  const h = 12 + 4 * cc + (x ? 4 + 4 * extWords : 0);
  const p = r.bytes(h + payload);
  p[0] = 0x80 | (x << 4) | cc | (p[0] & 0x20);
  if (x) p.writeUInt16BE(extWords, 12 + 4 * cc + 2);
  return p;
}

/** What one call did, comparable across implementations: the bytes, undefined, or that it threw. */
export type Outcome = { kind: 'buffer'; hex: string } | { kind: 'undefined' } | { kind: 'throw' };
export function outcome(fn: () => Buffer | undefined): Outcome {
  try {
    const b = fn();
    return b === undefined ? { kind: 'undefined' } : { kind: 'buffer', hex: b.toString('hex') };
  } catch {
    return { kind: 'throw' };
  }
}

/** One way to unprotect a packet, the same for either transform. */
export type Unprotect = (t: SrtpTransform, packet: Buffer) => Buffer | undefined;

/** Both transforms accept each protected packet, and reject every single-bit flip of it. */
export function assertEveryBitFlipRejected(
  ts: SrtpTransform,
  nat: SrtpTransform,
  packets: readonly (readonly [Buffer, Unprotect])[],
  label: string,
): void {
  for (const [buf, un] of packets) {
    assert.ok(un(nat, buf) && un(ts, buf), `${label}: both accept the packet as sent`);
    for (let bit = 0; bit < buf.length * 8; bit++) {
      const f = Buffer.from(buf);
      f[bit >>> 3] ^= 0x80 >>> (bit & 7);
      assert.equal(un(nat, f), undefined, `native accepted bit ${bit} flipped (${label})`);
      assert.equal(un(ts, f), undefined, `TypeScript accepted bit ${bit} flipped (${label})`);
    }
  }
}

type RtpCall = SrtpAddon['protectRtp'];

/**
 * The output buffer one profile's RTP calls write into must be passed, large enough and apart
 * from the packet (adjacent is fine). `wired` is what the TypeScript transform made of
 * protectRtp(pkt, 12, 0x99, 0, 7) under the keys of `ctx`; the addon must write the same bytes,
 * and unprotect them back to `pkt`.
 */
export function assertOutputBufferChecked(
  protect: RtpCall,
  unprotect: RtpCall,
  ctx: object,
  pkt: Buffer,
  wired: Buffer,
  tag: number,
): void {
  assert.throws(() => (protect as (...x: unknown[]) => unknown)(ctx, pkt, 12, 0x99, 0, 7), /needs 7 arguments/);
  assert.throws(() => protect(ctx, pkt, 12, 0x99, 0, 7, 'x' as unknown as Buffer), /output buffer/);
  assert.throws(() => protect(ctx, pkt, 12, 0x99, 0, 7, Buffer.alloc(pkt.length + tag - 1)), RangeError, 'one byte short of packet + tag');
  assert.throws(
    () => unprotect(ctx, wired, 12, 0x99, 0, 7, Buffer.alloc(wired.length - tag - 1)),
    RangeError,
    'one byte short of the RTP packet',
  );
  const area = Buffer.alloc(4 * pkt.length);
  pkt.copy(area, 0);
  const inArea = area.subarray(0, pkt.length);
  for (const at of [0, 1, pkt.length - 1]) {
    assert.throws(
      () => protect(ctx, inArea, 12, 0x99, 0, 7, area.subarray(at, at + pkt.length + tag)),
      /overlaps/,
      `output at ${at} overlaps`,
    );
  }
  assert.equal(
    protect(ctx, inArea, 12, 0x99, 0, 7, area.subarray(pkt.length, 2 * pkt.length + tag)),
    pkt.length + tag,
    'adjacent, not overlapping',
  );
  assert.deepEqual(area.subarray(pkt.length, 2 * pkt.length + tag), wired, 'the same bytes as the TypeScript transform');
  wired.copy(area, 0);
  const wiredInArea = area.subarray(0, wired.length);
  assert.throws(() => unprotect(ctx, wiredInArea, 12, 0x99, 0, 7, area.subarray(5, 5 + pkt.length)), /overlaps/);
  assert.equal(unprotect(ctx, wiredInArea, 12, 0x99, 0, 7, area.subarray(wired.length, wired.length + pkt.length)), pkt.length);
  assert.deepEqual(area.subarray(wired.length, wired.length + pkt.length), pkt);
}

/**
 * One random RTP packet and one random RTCP packet (random SSRC, ROC near or anywhere below 2^32,
 * seq, 31-bit SRTCP index) through both transforms in all four directions: protect gives the
 * same bytes, and each unprotects what the other protected. Returns the packets, for the
 * profile's own further checks.
 */
export function crossCheckRandomPackets(r: Prng, ts: SrtpTransform, nat: SrtpTransform, i: number) {
  const pkt = randomRtp(r);
  const h = rtpHeaderLength(pkt);
  assert.ok(h >= 12);
  const [ssrc, roc, seq] = [r.u32(), r.int(4) === 0 ? 0xffffffff - r.int(3) : r.u32(), r.int(65536)];
  const a = ts.protectRtp(pkt, h, ssrc, roc, seq)!;
  const b = nat.protectRtp(pkt, h, ssrc, roc, seq)!;
  assert.equal(b.toString('hex'), a.toString('hex'), `protectRtp #${i}`);
  assert.deepEqual(nat.unprotectRtp(a, h, ssrc, roc, seq), pkt, `unprotectRtp #${i}`);
  assert.deepEqual(ts.unprotectRtp(b, h, ssrc, roc, seq), pkt);
  assert.equal(nat.unprotectRtp(a, h, ssrc, (roc + 1) >>> 0, seq), undefined, 'the ROC is authenticated');

  const rtcp = r.bytes(8 + r.int(1400));
  const index = r.int(4) === 0 ? 0x7fffffff - r.int(3) : r.u32() & 0x7fffffff;
  const c = ts.protectRtcp(rtcp, ssrc, index)!;
  const d = nat.protectRtcp(rtcp, ssrc, index)!;
  assert.equal(d.toString('hex'), c.toString('hex'), `protectRtcp #${i}`);
  const eIndex = c.readUInt32BE(ts.srtcpTrailerOffset(c.length));
  assert.equal(eIndex, (0x80000000 | index) >>> 0, 'E=1 and the index in the trailer');
  assert.deepEqual(nat.unprotectRtcp(c, ssrc, eIndex), rtcp, `unprotectRtcp #${i}`);
  assert.deepEqual(ts.unprotectRtcp(d, ssrc, eIndex), rtcp);
  return { rtp: { pkt, wire: a, h, ssrc, roc, seq }, rtcp: { rtcp, wire: c, ssrc, index } };
}
