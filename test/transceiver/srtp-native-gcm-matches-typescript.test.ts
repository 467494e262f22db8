// The native SRTP_AEAD_AES_128_GCM transform (native/src/srtp_native.c, RFC 7714) against the
// RFC's vectors and, byte for byte, against the TypeScript transform it replaces
// (src/core/srtp/transform-aes-gcm.ts): thousands of random packets in all four directions with
// both SRTCP E flags, every single-bit flip of protected packets, and hostile arguments (short
// packets, header lengths past either end, out-of-range ROC/seq/index, the other profile's
// context) where both must agree on undefined / throw / the same bytes.
// Vector provenance: as in test/core/srtp/rfc-vectors.test.ts (RFC 7714 §16.1.1 SRTP, §17.1
// SRTCP encrypted, §17.3 SRTCP authenticated only; session key and salt given directly).
import { createCipheriv } from 'node:crypto';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SrtpSession, type DirectionKeys, type SessionKeys, type SrtpTransform } from '../../src/core/srtp/index.ts';
import { AesGcmTransform } from '../../src/core/srtp/transform-aes-gcm.ts';
import {
  nativeSrtpTransformFactory,
  NativeAesCmHmacSha1Transform,
  NativeAesGcmTransform,
} from '../../src/transceiver/media/srtp-native.ts';
import { rtcpRr, rtp } from '../core/srtp/helpers.ts';
import {
  addon,
  assertEveryBitFlipRejected,
  assertOutputBufferChecked,
  crossCheckRandomPackets,
  hex,
  outcome,
  prng,
  skipWithoutAddon as skip,
  type Prng,
} from './helpers/srtp-cross-check.ts';

const GCM = 'SRTP_AEAD_AES_128_GCM';
const TAG = 16;
const E = 0x80000000;

function randomKeys(r: Prng): DirectionKeys {
  const half = (): SessionKeys => ({ encKey: r.bytes(16), authKey: Buffer.alloc(0), salt: r.bytes(12) });
  return { rtp: half(), rtcp: half() };
}

function both(keys: DirectionKeys): { ts: SrtpTransform; nat: SrtpTransform } {
  return { ts: new AesGcmTransform(keys.rtp, keys.rtcp), nat: new NativeAesGcmTransform(addon(), keys) };
}

/**
 * An SRTCP packet with E = 0 (RFC 7714 §9.3: the whole RTCP packet || E+index is AAD, nothing
 * is encrypted), sealed with node:crypto directly: neither transform can send one.
 */
function sealE0(k: SessionKeys, rtcp: Buffer, ssrc: number, index: number): Buffer {
  const iv = Buffer.from(k.salt); // §9.1: (00 00 || SSRC || 00 00 || 0 || index) XOR salt
  iv.writeUInt32BE((iv.readUInt32BE(2) ^ ssrc) >>> 0, 2);
  iv.writeUInt32BE((iv.readUInt32BE(8) ^ index) >>> 0, 8);
  const word = Buffer.alloc(4);
  word.writeUInt32BE(index, 0);
  const c = createCipheriv('aes-128-gcm', k.encKey, iv, { authTagLength: TAG });
  c.setAAD(Buffer.concat([rtcp, word]));
  c.final();
  return Buffer.concat([rtcp, c.getAuthTag(), word]);
}

const K_7714 = { encKey: hex('000102030405060708090a0b0c0d0e0f'), authKey: Buffer.alloc(0), salt: hex('517569642070726f2071756f') };
const RTP_7714 = hex(`8040f17b8041f8d35501a0b247616c6c696120657374206f6d6e697320646976697361
  20696e207061727465732074726573`);
const SRTP_7714 = hex(`8040f17b8041f8d35501a0b2f24de3a3fb34de6cacba861c9d7e4bcabe633bd50d294e6f
  42a5f47a51c7d19b36de3adf8833899d7f27beb16a9152cf765ee4390cce`);
const RTCP_7714 = hex(`81c8000d4d6172734e5450314e545032525450200000042a0000e9304c756e61
  deadbeefdeadbeefdeadbeefdeadbeefdeadbeef`);
const SRTCP_7714 = hex(`81c8000d4d61727363e94885dcdab67ca727d7662f6b7e997ff5c0f76c06f32dc676a5f1
  730d6fda4ce09b4686303ded0bb9275bc84aa45896cf4d2fc5abf87245d9eade800005d4`);
const SRTCP_AUTH_ONLY_7714 = Buffer.concat([RTCP_7714, hex('841dd9683dd78ec92ae58790125f62b3 000005d4')]);

test('RFC 7714 §16.1.1: native AEAD_AES_128_GCM SRTP encryption and decryption', { skip }, () => {
  const t = new NativeAesGcmTransform(addon(), { rtp: K_7714, rtcp: K_7714 });
  assert.equal(t.protectRtp(RTP_7714, 12, 0x5501a0b2, 0, 0xf17b)!.toString('hex'), SRTP_7714.toString('hex'));
  assert.equal(t.unprotectRtp(SRTP_7714, 12, 0x5501a0b2, 0, 0xf17b)!.toString('hex'), RTP_7714.toString('hex'));
  assert.equal(t.unprotectRtp(SRTP_7714, 12, 0x5501a0b2, 1, 0xf17b), undefined, 'another ROC is another IV');
});

test('RFC 7714 §17.1: native SRTCP encryption (E=1, index 0x5d4) and decryption', { skip }, () => {
  const t = new NativeAesGcmTransform(addon(), { rtp: K_7714, rtcp: K_7714 });
  assert.equal(t.protectRtcp(RTCP_7714, 0x4d617273, 0x5d4)!.toString('hex'), SRTCP_7714.toString('hex'));
  assert.equal(t.unprotectRtcp(SRTCP_7714, 0x4d617273, 0x800005d4)!.toString('hex'), RTCP_7714.toString('hex'));
});

test('RFC 7714 §17.3: native SRTCP authentication only (E=0) verifies, and a changed byte does not', { skip }, () => {
  const t = new NativeAesGcmTransform(addon(), { rtp: K_7714, rtcp: K_7714 });
  assert.equal(
    sealE0(K_7714, RTCP_7714, 0x4d617273, 0x5d4).toString('hex'),
    SRTCP_AUTH_ONLY_7714.toString('hex'),
    'the test sealer agrees with the RFC',
  );
  assert.equal(t.unprotectRtcp(SRTCP_AUTH_ONLY_7714, 0x4d617273, 0x000005d4)!.toString('hex'), RTCP_7714.toString('hex'));
  const wire = Buffer.from(SRTCP_AUTH_ONLY_7714);
  wire[9] ^= 1;
  assert.equal(t.unprotectRtcp(wire, 0x4d617273, 0x000005d4), undefined);
});

test('the factory builds the native GCM transform, and native and TypeScript GCM sessions talk across a ROC rollover', { skip }, () => {
  const createTransform = nativeSrtpTransformFactory(addon());
  const km = Buffer.alloc(56, 9); // RFC 5764 §4.2: 2 × (16-byte key + 12-byte salt)
  const nativeClient = SrtpSession.fromDtls(GCM, km, 'client', { createTransform });
  const tsServer = SrtpSession.fromDtls(GCM, km, 'server');
  const probe = createTransform(GCM, randomKeys(prng(1)));
  assert.ok(probe instanceof NativeAesGcmTransform);
  for (let seq = 65530; seq < 65540; seq++) {
    const pkt = rtp(seq);
    assert.deepEqual(tsServer.unprotectRtp(nativeClient.protectRtp(pkt)), pkt);
    assert.deepEqual(nativeClient.unprotectRtp(tsServer.protectRtp(pkt)), pkt);
    assert.deepEqual(tsServer.unprotectRtcp(nativeClient.protectRtcp(rtcpRr())), rtcpRr());
    assert.deepEqual(nativeClient.unprotectRtcp(tsServer.protectRtcp(rtcpRr(0x55))), rtcpRr(0x55));
  }
  assert.equal(nativeClient.dump().recvRtp[0].roc, 1, 'the ROC rolled over in TypeScript state');
  assert.equal(tsServer.dump().recvRtp[0].roc, 1);
  const replayed = nativeClient.protectRtp(rtp(5));
  assert.deepEqual(tsServer.unprotectRtp(replayed), rtp(5));
  assert.equal((tsServer.unprotectRtp(replayed) as { reason: string }).reason, 'replayed');
});

test(
  '4000 random RTP and RTCP packets: native and TypeScript GCM give identical bytes in all four directions, E=1 and E=0',
  { skip },
  () => {
    const r = prng(7714);
    let keys = randomKeys(r);
    let pair = both(keys);
    for (let i = 0; i < 4000; i++) {
      if (i % 100 === 0) pair = both((keys = randomKeys(r)));
      const { ts, nat } = pair;
      const {
        rtp: p,
        rtcp: { rtcp, wire: c, ssrc, index },
      } = crossCheckRandomPackets(r, ts, nat, i);
      assert.equal(nat.unprotectRtp(p.wire, p.h, (p.ssrc ^ 1) >>> 0, p.roc, p.seq), undefined, 'the SSRC is in the IV');
      // E = 0 (RFC 7714 §9.3): authenticated, returned as sent, by both.
      const clear = sealE0(keys.rtcp, rtcp, ssrc, index);
      assert.deepEqual(nat.unprotectRtcp(clear, ssrc, index), rtcp, `unprotectRtcp E=0 #${i}`);
      assert.deepEqual(ts.unprotectRtcp(clear, ssrc, index), rtcp);
      // Read with the other E flag, a packet fails the tag — except a bare 8-byte header, whose
      // AAD is the same either way and which has nothing to encrypt.
      const other = rtcp.length === 8 ? rtcp : undefined;
      assert.deepEqual(nat.unprotectRtcp(c, ssrc, index), other, `E=1 read as E=0 #${i}`);
      assert.deepEqual(ts.unprotectRtcp(c, ssrc, index), other);
      assert.deepEqual(nat.unprotectRtcp(clear, ssrc, (E | index) >>> 0), other, `E=0 read as E=1 #${i}`);
      assert.deepEqual(ts.unprotectRtcp(clear, ssrc, (E | index) >>> 0), other);
    }
  },
);

test('every single-bit flip of a protected RTP packet and an E=1 and E=0 SRTCP packet is rejected by both transforms', { skip }, () => {
  const r = prng(7714 * 2);
  const keys = randomKeys(r);
  const { ts, nat } = both(keys);
  for (let n = 0; n < 12; n++) {
    const pkt = rtp(r.int(65536), r.u32(), r.bytes(n * 7));
    const [roc, seq, ssrc] = [r.u32(), pkt.readUInt16BE(2), pkt.readUInt32BE(8)];
    const wire = ts.protectRtp(pkt, 12, ssrc, roc, seq)!;
    const rtcp = r.bytes(8 + n * 5);
    const index = r.u32() & 0x7fffffff;
    const sealed = ts.protectRtcp(rtcp, 0x1234, index)!;
    const clear = sealE0(keys.rtcp, rtcp, 0x1234, index);
    assertEveryBitFlipRejected(
      ts,
      nat,
      [
        [wire, (t, b) => t.unprotectRtp(b, 12, ssrc, roc, seq)],
        [sealed, (t, b) => t.unprotectRtcp(b, 0x1234, (E | index) >>> 0)],
        [clear, (t, b) => t.unprotectRtcp(b, 0x1234, index)],
      ],
      `packet ${n}`,
    );
  }
});

test('hostile arguments: native and TypeScript GCM agree on undefined, throw or the same bytes, and never crash', { skip }, () => {
  const r = prng(12);
  const keys = randomKeys(r);
  const { ts, nat } = both(keys);
  const pkt = rtp(7, 0x99, r.bytes(40));
  const wire = ts.protectRtp(pkt, 12, 0x99, 0, 7)!;
  const swire = ts.protectRtcp(pkt, 0x99, 3)!;
  const clear = sealE0(keys.rtcp, pkt, 0x99, 3);
  const cases: [string, (t: SrtpTransform) => Buffer | undefined][] = [];
  // Lengths 0..tag+1 for RTP; up to past the 28-byte SRTCP minimum (shorter than tag + index
  // throws; 20..27 bytes take the TypeScript transform's clamped slices, which must match).
  for (let len = 0; len <= 30; len++) {
    const b = Buffer.from(wire.subarray(0, len));
    if (len <= TAG + 1) cases.push([`unprotectRtp ${len} bytes`, (t) => t.unprotectRtp(b, 12, 0x99, 0, 7)]);
    if (len <= TAG + 1) cases.push([`protectRtp ${len} bytes, header 12`, (t) => t.protectRtp(b, 12, 0x99, 0, 7)]);
    for (const [sent, src] of [
      ['E=1', swire],
      ['E=0', clear],
    ] as const) {
      const tail = Buffer.from(src.subarray(src.length - len)); // keeps the tag and index word where they were
      cases.push([`unprotectRtcp last ${len} bytes of ${sent}, read E=1`, (t) => t.unprotectRtcp(tail, 0x99, (E | 3) >>> 0)]);
      cases.push([`unprotectRtcp last ${len} bytes of ${sent}, read E=0`, (t) => t.unprotectRtcp(tail, 0x99, 3)]);
    }
    if (len >= 8) cases.push([`protectRtcp ${len} bytes`, (t) => t.protectRtcp(b, 0x99, 3)]);
  }
  // E=0 SRTCP packets of 20..31 bytes that authenticate (under 28 SrtpSession drops them).
  for (let len = 0; len < 12; len++) {
    const short = r.bytes(len);
    const sealed = sealE0(keys.rtcp, short, 0x99, 3);
    cases.push([`unprotectRtcp authentic E=0 ${sealed.length} bytes`, (t) => t.unprotectRtcp(sealed, 0x99, 3)]);
  }
  for (const h of [0, 11, 12, 52, 53, 1000, -1, -16, -20, -wire.length, -1000, 1.5, NaN]) {
    cases.push([`protectRtp header ${h}`, (t) => t.protectRtp(pkt, h, 0x99, 0, 7)]);
    cases.push([`unprotectRtp header ${h}`, (t) => t.unprotectRtp(wire, h, 0x99, 0, 7)]);
    // Sealed with header h by the TypeScript transform (where it can), opened with the same h.
    const own = outcome(() => ts.protectRtp(pkt, h, 0x99, 0, 7));
    if (own.kind === 'buffer') {
      const sealed = Buffer.from(own.hex, 'hex');
      cases.push([`protect then unprotect, header ${h}`, (t) => t.unprotectRtp(sealed, h, 0x99, 0, 7)]);
      cases.push([`protect then unprotect, header ${h} then ${pkt.length}`, (t) => t.unprotectRtp(sealed, pkt.length, 0x99, 0, 7)]);
    }
  }
  // Header 0 seals everything; opened with a negative header that counts back to 0 it
  // authenticates, and then the TypeScript transform's header copy throws.
  const all = ts.protectRtp(pkt, 0, 0x99, 0, 7)!;
  cases.push(['authentic with a negative header', (t) => t.unprotectRtp(all, -all.length, 0x99, 0, 7)]);
  for (const roc of [2 ** 32, 2 ** 32 + 1, -1, 1.5, NaN, 2 ** 53]) {
    cases.push([`protectRtp roc ${roc}`, (t) => t.protectRtp(pkt, 12, 0x99, roc, 7)]);
    cases.push([`unprotectRtp roc ${roc}`, (t) => t.unprotectRtp(wire, 12, 0x99, roc, 7)]);
  }
  for (const seq of [65535, 65536, -1, 2 ** 31, 2 ** 32 + 7, 1.5, NaN, -(2 ** 32) + 7]) {
    cases.push([`protectRtp seq ${seq}`, (t) => t.protectRtp(pkt, 12, 0x99, 0, seq)]);
    cases.push([`unprotectRtp seq ${seq}`, (t) => t.unprotectRtp(wire, 12, 0x99, 0, seq)]);
  }
  for (const ssrc of [-1, 2 ** 32 + 0x99, NaN]) {
    cases.push([`protectRtp ssrc ${ssrc}`, (t) => t.protectRtp(pkt, 12, ssrc, 0, 7)]);
    cases.push([`protectRtcp ssrc ${ssrc}`, (t) => t.protectRtcp(pkt, ssrc, 3)]);
  }
  for (const index of [2 ** 31 + 5, 2 ** 31 - 1, -1, 2 ** 32, 2 ** 32 + 3, 1.5, NaN]) {
    cases.push([`protectRtcp index ${index}`, (t) => t.protectRtcp(pkt, 0x99, index)]);
    cases.push([`unprotectRtcp eIndex ${index}`, (t) => t.unprotectRtcp(swire, 0x99, index)]);
  }
  for (const [name, fn] of cases)
    assert.deepEqual(
      outcome(() => fn(nat)),
      outcome(() => fn(ts)),
      name,
    );
});

test('both GCM transforms refuse SRTCP shorter than its header; native GCM checks contexts and output buffers', { skip }, () => {
  const r = prng(13);
  const keys = randomKeys(r);
  const { ts, nat } = both(keys);
  // RTCP under 8 bytes has no header + sender SSRC for the AAD: both transforms throw
  // RangeError, whatever came before (the TypeScript one once padded its reused AAD buffer with
  // the previous packet's bytes). SrtpSession drops such packets as too short first.
  ts.protectRtcp(rtcpRr(1), 1, 0);
  for (let len = 0; len < 8; len++) {
    for (const t of [ts, nat]) assert.throws(() => t.protectRtcp(Buffer.alloc(len, 0x80), 1, 0), RangeError, `${len} bytes`);
  }

  const a = addon();
  const pkt = rtp(7, 0x99, r.bytes(40));
  const out = Buffer.alloc(pkt.length + TAG);
  const gcm = a.gcmCreate(keys.rtp.encKey, keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.salt);
  const cmKey = { encKey: r.bytes(16), authKey: r.bytes(20), salt: r.bytes(14) };
  const cm = a.create(cmKey.encKey, cmKey.authKey, cmKey.salt, cmKey.encKey, cmKey.authKey, cmKey.salt);
  for (const ctx of [cm, {}, Buffer.alloc(8)]) {
    assert.throws(() => a.gcmProtectRtp(ctx, pkt, 12, 1, 0, 0, out), /bad context/);
    assert.throws(() => a.gcmUnprotectRtp(ctx, pkt, 12, 1, 0, 0, out), /bad context/);
    assert.throws(() => a.gcmProtectRtcp(ctx, pkt, 1, 0), /bad context/);
    assert.throws(() => a.gcmUnprotectRtcp(ctx, pkt, 1, 0), /bad context/);
  }
  assert.throws(() => a.protectRtp(gcm, pkt, 12, 1, 0, 0, out), /bad context/, 'a GCM context is not an AES-CM one');
  assert.throws(() => a.unprotectRtcp(gcm, pkt, 1, 0), /bad context/);
  assert.throws(() => new NativeAesCmHmacSha1Transform(a, keys), /16-byte cipher keys/, 'GCM keys are not AES-CM keys');
  assert.throws(() => a.gcmCreate(keys.rtp.encKey, Buffer.alloc(14), keys.rtcp.encKey, keys.rtcp.salt), /12-byte salts/);
  assert.throws(() => a.gcmCreate(Buffer.alloc(32), keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.salt), /16-byte keys/);
  assert.throws(() => (a.gcmCreate as (...x: unknown[]) => unknown)(keys.rtp.encKey, keys.rtp.salt), /needs 4 buffers/);

  // The output buffer the RTP calls write into: present, large enough, and apart from the packet.
  const wired = Buffer.from(ts.protectRtp(pkt, 12, 0x99, 0, 7)!);
  assertOutputBufferChecked(a.gcmProtectRtp, a.gcmUnprotectRtp, gcm, pkt, wired, TAG);
  // GCM decrypts before the tag is known: a forged packet's unverified plaintext is wiped.
  const forgedOut = Buffer.alloc(pkt.length, 0xee);
  wired[20] ^= 1;
  assert.equal(a.gcmUnprotectRtp(gcm, wired, 12, 0x99, 0, 7, forgedOut), undefined, 'a forged packet');
  assert.ok(
    forgedOut.subarray(0, 12).every((b) => b === 0xee),
    'the header is copied only after the tag verifies',
  );
  assert.ok(
    forgedOut.subarray(12).every((b) => b === 0),
    'the unverified plaintext is zeroed',
  );
  assert.equal(nat.unprotectRtp(wired, 12, 0x99, 0, 7), undefined);
});
