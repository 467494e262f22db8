// The native SRTP_AES128_CM_HMAC_SHA1_80 transform (native/src/srtp_native.c) against RFC 3711
// vectors and, byte for byte, against the TypeScript transform it replaces: thousands of random
// packets in all four directions, every single-bit flip of some protected packets, and hostile
// arguments (short packets, header lengths past the end, out-of-range ROC/seq, a foreign
// context object) where both must agree on undefined / throw / the same bytes.
// Vector provenance: as in test/core/srtp/rfc-vectors.test.ts (RFC 3711 B.2, B.3; libsrtp
// srtp_driver packets).
import { createHmac } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deriveSessionKeys, SrtpSession, type DirectionKeys, type SrtpTransform } from '../../src/core/srtp/index.ts';
import { AesCmHmacSha1Transform } from '../../src/core/srtp/transform-aes-cm.ts';
import { rtpHeaderLength } from '../../src/core/rtp/header-length.ts';
import { loadSrtpAddon, nativeSrtpTransformFactory, NativeAesCmHmacSha1Transform, type SrtpAddon } from '../../src/transceiver/srtp-native.ts';
import { rtp } from '../core/srtp/helpers.ts';

const CM = 'SRTP_AES128_CM_HMAC_SHA1_80';
const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');
const loaded = loadSrtpAddon();
const skip = loaded instanceof Error && process.env.CI !== 'true' ? 'the native SRTP addon is not built' : false;

function addon(): SrtpAddon {
  if (loaded instanceof Error) assert.fail(`CI=true but the native SRTP addon is not usable: ${loaded.message}`);
  return loaded;
}

/** mulberry32: seeded, so a failure repeats. */
function prng(seed: number): { u32: () => number; int: (n: number) => number; bytes: (n: number) => Buffer } {
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

function randomKeys(r: ReturnType<typeof prng>): DirectionKeys {
  const half = () => ({ encKey: r.bytes(16), authKey: r.bytes(20), salt: r.bytes(14) });
  return { rtp: half(), rtcp: half() };
}

/** A random RTP packet: 0..15 CSRCs, maybe an extension of 0..8 words, 0..1400 bytes of payload. */
function randomRtp(r: ReturnType<typeof prng>): Buffer {
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

type Outcome = { kind: 'buffer'; hex: string } | { kind: 'undefined' } | { kind: 'throw'; name: string };
function outcome(fn: () => Buffer | undefined): Outcome {
  try {
    const b = fn();
    return b === undefined ? { kind: 'undefined' } : { kind: 'buffer', hex: b.toString('hex') };
  } catch (err) {
    return { kind: 'throw', name: (err as Error).name };
  }
}

function both(keys: DirectionKeys): { ts: SrtpTransform; nat: SrtpTransform } {
  return { ts: new AesCmHmacSha1Transform(keys.rtp, keys.rtcp), nat: new NativeAesCmHmacSha1Transform(addon(), keys) };
}

test('RFC 3711 B.2: the native AES-CM keystream for session key 2B7E…, salt F0F1…FD', { skip }, () => {
  const k = { encKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'), authKey: Buffer.alloc(20), salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD') };
  const t = new NativeAesCmHmacSha1Transform(addon(), { rtp: k, rtcp: k });
  // headerLength 0, SSRC 0, index 0: the IV is the salt, the output is payload XOR keystream.
  const out = t.protectRtp(Buffer.alloc(48), 0, 0, 0, 0)!;
  assert.equal(out.subarray(0, 48).toString('hex'), hex(`E03EAD0935C95E80E166B16DD92B4EB4
    D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0`).toString('hex'));
});

const LIBSRTP_KEY = { key: hex('e1f97a0d3e018be0d64fa32c06de4139'), salt: hex('0ec675ad498afeebb6960b3aabe6') };
const LIBSRTP_RTP = hex('800f1234decafbad cafebabe abababab abababababababab abababab');
const LIBSRTP_SRTP = hex('800f1234decafbad cafebabe 4e55dc4c e79978d88ca4d215 949d2402 b78d6acc99ea179b8dbb');
const LIBSRTP_RTCP = hex('81c8000bcafebabe abababababababab abababababababab');
const LIBSRTP_SRTCP = hex('81c8000bcafebabe 7128035be487b9bd bef89041f977a5a8 80000001 993e08cd54d6c1230798');

test('RFC 3711 B.3 keys → libsrtp srtp_driver SRTP and SRTCP packets through SrtpSession with the native transform', { skip }, () => {
  const keys = deriveSessionKeys(CM, LIBSRTP_KEY.key, LIBSRTP_KEY.salt);
  assert.equal(keys.rtp.encKey.toString('hex'), 'c61e7a93744f39ee10734afe3ff7a087', 'B.3 cipher key');
  const createTransform = nativeSrtpTransformFactory(addon());
  assert.ok(createTransform(CM, keys) instanceof NativeAesCmHmacSha1Transform);
  assert.equal(createTransform('SRTP_AEAD_AES_128_GCM', keys), undefined, 'GCM stays in TypeScript');
  const tx = new SrtpSession(CM, LIBSRTP_KEY, LIBSRTP_KEY, { createTransform });
  assert.equal(tx.protectRtp(LIBSRTP_RTP).toString('hex'), LIBSRTP_SRTP.toString('hex'));
  tx.protectRtcp(LIBSRTP_RTCP);
  assert.equal(tx.protectRtcp(LIBSRTP_RTCP).toString('hex'), LIBSRTP_SRTCP.toString('hex'));
  const rx = new SrtpSession(CM, LIBSRTP_KEY, LIBSRTP_KEY, { createTransform });
  assert.equal((rx.unprotectRtp(LIBSRTP_SRTP) as Buffer).toString('hex'), LIBSRTP_RTP.toString('hex'));
  assert.equal((rx.unprotectRtcp(LIBSRTP_SRTCP) as Buffer).toString('hex'), LIBSRTP_RTCP.toString('hex'));
});

test('a native client session and a TypeScript server session talk both ways', { skip }, () => {
  const createTransform = nativeSrtpTransformFactory(addon());
  const km = Buffer.alloc(60, 7);
  const nativeClient = SrtpSession.fromDtls(CM, km, 'client', { createTransform });
  const tsServer = SrtpSession.fromDtls(CM, km, 'server');
  for (let seq = 65530; seq < 65540; seq++) {
    const pkt = rtp(seq);
    assert.deepEqual(tsServer.unprotectRtp(nativeClient.protectRtp(pkt)), pkt);
    assert.deepEqual(nativeClient.unprotectRtp(tsServer.protectRtp(pkt)), pkt);
  }
  assert.equal(nativeClient.dump().recvRtp[0].roc, 1, 'the ROC rolled over in TypeScript state');
});

test('4000 random RTP and RTCP packets: native and TypeScript give identical bytes in all four directions', { skip }, () => {
  const r = prng(3711);
  let pair_ = both(randomKeys(r));
  for (let i = 0; i < 4000; i++) {
    if (i % 100 === 0) pair_ = both(randomKeys(r));
    const { ts, nat } = pair_;
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
    assert.deepEqual(nat.unprotectRtcp(c, ssrc, eIndex), rtcp, `unprotectRtcp #${i}`);
    assert.deepEqual(ts.unprotectRtcp(d, ssrc, eIndex), rtcp);
    // E = 0 as the caller read it: authenticated, returned without decryption, by both.
    assert.deepEqual(nat.unprotectRtcp(c, ssrc, index), ts.unprotectRtcp(c, ssrc, index));
  }
});

test('every single-bit flip of a protected RTP and RTCP packet is rejected by both transforms', { skip }, () => {
  const r = prng(80);
  const { ts, nat } = both(randomKeys(r));
  for (let n = 0; n < 12; n++) {
    const pkt = rtp(r.int(65536), r.u32(), r.bytes(n * 7));
    const [roc, seq] = [r.u32(), pkt.readUInt16BE(2)];
    const wire = ts.protectRtp(pkt, 12, pkt.readUInt32BE(8), roc, seq)!;
    const rtcp = r.bytes(8 + n * 5);
    const index = r.u32() & 0x7fffffff;
    const swire = ts.protectRtcp(rtcp, 0x1234, index)!;
    for (const [buf, un] of [
      [wire, (t: SrtpTransform, b: Buffer) => t.unprotectRtp(b, 12, pkt.readUInt32BE(8), roc, seq)],
      [swire, (t: SrtpTransform, b: Buffer) => t.unprotectRtcp(b, 0x1234, (0x80000000 | index) >>> 0)],
    ] as const) {
      assert.ok(un(nat, buf) && un(ts, buf));
      for (let bit = 0; bit < buf.length * 8; bit++) {
        const f = Buffer.from(buf);
        f[bit >>> 3] ^= 0x80 >>> (bit & 7);
        assert.equal(un(nat, f), undefined, `native accepted bit ${bit} flipped (packet ${n})`);
        assert.equal(un(ts, f), undefined, `TypeScript accepted bit ${bit} flipped (packet ${n})`);
      }
    }
  }
});

test('hostile arguments: native and TypeScript agree on undefined, throw or the same bytes, and never crash', { skip }, () => {
  const r = prng(5);
  const keys = randomKeys(r);
  const { ts, nat } = both(keys);
  const pkt = rtp(7, 0x99, r.bytes(40));
  const wire = ts.protectRtp(pkt, 12, 0x99, 0, 7)!;
  const swire = ts.protectRtcp(pkt, 0x99, 3)!;
  // 12 bytes whose last 10 are a valid tag over the first 2: too short for the index word, yet
  // authentic; the TypeScript transform throws (a negative allocation), so must the native one.
  const head = Buffer.from([0x80, 0xc8]);
  const forged = Buffer.concat([head, createHmac('sha1', keys.rtcp.authKey).update(head).digest().subarray(0, 10)]);
  const cases: [string, (t: SrtpTransform) => Buffer | undefined][] = [];
  for (const len of [0, 1, 5, 9, 10, 11, 12, 13, 20, 22]) {
    const b = Buffer.from(wire.subarray(0, len));
    cases.push([`unprotectRtp ${len} bytes`, (t) => t.unprotectRtp(b, 12, 0x99, 0, 7)]);
    cases.push([`unprotectRtcp ${len} bytes`, (t) => t.unprotectRtcp(Buffer.from(swire.subarray(0, len)), 0x99, 0x80000003)]);
    cases.push([`protectRtp ${len} bytes, header 12`, (t) => t.protectRtp(b, 12, 0x99, 0, 7)]);
    cases.push([`protectRtcp ${len} bytes`, (t) => t.protectRtcp(b, 0x99, 3)]);
  }
  for (const h of [0, 11, 52, 53, 1000, -1]) {
    cases.push([`protectRtp header ${h}`, (t) => t.protectRtp(pkt, h, 0x99, 0, 7)]);
    cases.push([`unprotectRtp header ${h}`, (t) => t.unprotectRtp(wire, h, 0x99, 0, 7)]);
  }
  cases.push(['protectRtp roc 2^32', (t) => t.protectRtp(pkt, 12, 0x99, 2 ** 32, 7)]);
  cases.push(['protectRtp roc -1', (t) => t.protectRtp(pkt, 12, 0x99, -1, 7)]);
  cases.push(['unprotectRtp roc -1', (t) => t.unprotectRtp(wire, 12, 0x99, -1, 7)]);
  cases.push(['protectRtcp index 2^31 + 5', (t) => t.protectRtcp(pkt, 0x99, 2 ** 31 + 5)]);
  cases.push(['unprotectRtcp E=0', (t) => t.unprotectRtcp(swire, 0x99, 3)]);
  cases.push(['unprotectRtcp forged 12 bytes', (t) => t.unprotectRtcp(forged, 0x99, 0x80000003)]);
  for (const [name, fn] of cases) {
    const a = outcome(() => fn(ts));
    const b = outcome(() => fn(nat));
    assert.deepEqual(b.kind === 'throw' ? { kind: 'throw' } : b, a.kind === 'throw' ? { kind: 'throw' } : a, name);
  }
  const a = addon();
  const out = Buffer.alloc(pkt.length + 10);
  assert.throws(() => a.protectRtp({}, pkt, 12, 1, 0, 0, out), /bad context/);
  const one = Buffer.alloc(1);
  assert.throws(() => a.create(one, one, one, one, one, one), /16-byte cipher keys/);
  assert.throws(() => a.create(Buffer.alloc(16), Buffer.alloc(20), Buffer.alloc(13), Buffer.alloc(16), Buffer.alloc(20), Buffer.alloc(14)), /14-byte salts/);
  assert.throws(() => a.unprotectRtp(Buffer.alloc(8) as unknown as object, pkt, 12, 1, 0, 0, out), /bad context/);

  // The output buffer the RTP calls write into: present, large enough, and apart from the packet.
  const ctx = a.create(keys.rtp.encKey, keys.rtp.authKey, keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.authKey, keys.rtcp.salt);
  const wired = Buffer.from(ts.protectRtp(pkt, 12, 0x99, 0, 7)!);
  assert.throws(() => (a.protectRtp as (...x: unknown[]) => unknown)(ctx, pkt, 12, 0x99, 0, 7), /needs 7 arguments/);
  assert.throws(() => a.protectRtp(ctx, pkt, 12, 0x99, 0, 7, 'x' as unknown as Buffer), /output buffer/);
  assert.throws(() => a.protectRtp(ctx, pkt, 12, 0x99, 0, 7, Buffer.alloc(pkt.length + 9)), RangeError, 'one byte short of packet + tag');
  assert.throws(() => a.unprotectRtp(ctx, wired, 12, 0x99, 0, 7, Buffer.alloc(wired.length - 11)), RangeError, 'one byte short of the RTP packet');
  const area = Buffer.alloc(4 * pkt.length);
  pkt.copy(area, 0);
  const inArea = area.subarray(0, pkt.length);
  for (const at of [0, 1, pkt.length - 1]) {
    assert.throws(() => a.protectRtp(ctx, inArea, 12, 0x99, 0, 7, area.subarray(at, at + pkt.length + 10)), /overlaps/, `output at ${at} overlaps`);
  }
  assert.equal(a.protectRtp(ctx, inArea, 12, 0x99, 0, 7, area.subarray(pkt.length, 2 * pkt.length + 10)), pkt.length + 10, 'adjacent, not overlapping');
  assert.deepEqual(area.subarray(pkt.length, 2 * pkt.length + 10), wired, 'the same bytes as the TypeScript transform');
  wired.copy(area, 0);
  assert.throws(() => a.unprotectRtp(ctx, area.subarray(0, wired.length), 12, 0x99, 0, 7, area.subarray(5, 5 + wired.length - 10)), /overlaps/);
  assert.equal(a.unprotectRtp(ctx, area.subarray(0, wired.length), 12, 0x99, 0, 7, area.subarray(wired.length, 2 * wired.length - 10)), pkt.length);
  assert.deepEqual(area.subarray(wired.length, wired.length + pkt.length), pkt);
  const forgedOut = Buffer.alloc(wired.length - 10, 0xee);
  wired[20] ^= 1;
  assert.equal(a.unprotectRtp(ctx, wired, 12, 0x99, 0, 7, forgedOut), undefined, 'a forged packet');
  assert.ok(forgedOut.every((b) => b === 0xee), 'a forged packet writes nothing');
});
