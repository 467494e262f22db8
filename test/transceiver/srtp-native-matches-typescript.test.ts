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
import {
  nativeSrtpTransformFactory,
  NativeAesCmHmacSha1Transform,
  NativeAesGcmTransform,
} from '../../src/transceiver/media/srtp-native.ts';
import { rtp } from '../core/srtp/helpers.ts';
import {
  addon,
  assertEveryBitFlipRejected,
  assertOutputBufferChecked,
  crossCheckRandomPackets,
  hex,
  outcome,
  prng,
  skipWithoutAddon,
  type Prng,
} from './helpers/srtp-cross-check.ts';

const CM = 'SRTP_AES128_CM_HMAC_SHA1_80';
const skip = skipWithoutAddon;

function randomKeys(r: Prng): DirectionKeys {
  const half = () => ({ encKey: r.bytes(16), authKey: r.bytes(20), salt: r.bytes(14) });
  return { rtp: half(), rtcp: half() };
}

function both(keys: DirectionKeys): { ts: SrtpTransform; nat: SrtpTransform } {
  return { ts: new AesCmHmacSha1Transform(keys.rtp, keys.rtcp), nat: new NativeAesCmHmacSha1Transform(addon(), keys) };
}

test('RFC 3711 B.2: the native AES-CM keystream for session key 2B7E…, salt F0F1…FD', { skip }, () => {
  const k = { encKey: hex('2B7E151628AED2A6ABF7158809CF4F3C'), authKey: Buffer.alloc(20), salt: hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD') };
  const t = new NativeAesCmHmacSha1Transform(addon(), { rtp: k, rtcp: k });
  // headerLength 0, SSRC 0, index 0: the IV is the salt, the output is payload XOR keystream.
  const out = t.protectRtp(Buffer.alloc(48), 0, 0, 0, 0)!;
  assert.equal(
    out.subarray(0, 48).toString('hex'),
    hex(`E03EAD0935C95E80E166B16DD92B4EB4
    D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0`).toString('hex'),
  );
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
  const gcmKeys = deriveSessionKeys('SRTP_AEAD_AES_128_GCM', LIBSRTP_KEY.key, LIBSRTP_KEY.salt.subarray(0, 12));
  assert.ok(
    createTransform('SRTP_AEAD_AES_128_GCM', gcmKeys) instanceof NativeAesGcmTransform,
    'GCM is native too (srtp-native-gcm-matches-typescript)',
  );
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
    const {
      rtcp: { wire: c, ssrc, index },
    } = crossCheckRandomPackets(r, ts, nat, i);
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
    assertEveryBitFlipRejected(
      ts,
      nat,
      [
        [wire, (t, b) => t.unprotectRtp(b, 12, pkt.readUInt32BE(8), roc, seq)],
        [swire, (t, b) => t.unprotectRtcp(b, 0x1234, (0x80000000 | index) >>> 0)],
      ],
      `packet ${n}`,
    );
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
    assert.deepEqual(b, a, name);
  }
  const a = addon();
  const out = Buffer.alloc(pkt.length + 10);
  assert.throws(() => a.protectRtp({}, pkt, 12, 1, 0, 0, out), /bad context/);
  const one = Buffer.alloc(1);
  assert.throws(() => a.create(one, one, one, one, one, one), /16-byte cipher keys/);
  assert.throws(
    () => a.create(Buffer.alloc(16), Buffer.alloc(20), Buffer.alloc(13), Buffer.alloc(16), Buffer.alloc(20), Buffer.alloc(14)),
    /14-byte salts/,
  );
  assert.throws(() => a.unprotectRtp(Buffer.alloc(8) as unknown as object, pkt, 12, 1, 0, 0, out), /bad context/);

  // The output buffer the RTP calls write into: present, large enough, and apart from the packet.
  const ctx = a.create(keys.rtp.encKey, keys.rtp.authKey, keys.rtp.salt, keys.rtcp.encKey, keys.rtcp.authKey, keys.rtcp.salt);
  const wired = Buffer.from(ts.protectRtp(pkt, 12, 0x99, 0, 7)!);
  assertOutputBufferChecked(a.protectRtp, a.unprotectRtp, ctx, pkt, wired, 10);
  const forgedOut = Buffer.alloc(wired.length - 10, 0xee);
  wired[20] ^= 1;
  assert.equal(a.unprotectRtp(ctx, wired, 12, 0x99, 0, 7, forgedOut), undefined, 'a forged packet');
  assert.ok(
    forgedOut.every((b) => b === 0xee),
    'a forged packet writes nothing',
  );
});
