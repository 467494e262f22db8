// Cross-checks SrtpSession against a second, deliberately naive implementation written straight
// from the RFC text with a fresh cipher per packet: AES-128-CTR (RFC 3711 §4.1.1) + HMAC-SHA1
// (§4.2.1) for AES-CM, and AES-128-GCM (RFC 7714 §8-9). Random packets, random sizes, across a
// sequence wrap, with fast-check; keys come from our KDF (which the B.3 vector pins).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac } from 'node:crypto';
import fc from 'fast-check';
import { deriveSessionKeys, SrtpSession, type SessionKeys } from '../../../src/core/srtp/index.ts';

function naiveCmRtp(k: SessionKeys, packet: Buffer, roc: number): Buffer {
  const ssrc = packet.readUInt32BE(8);
  const seq = packet.readUInt16BE(2);
  const iv = Buffer.alloc(16);
  k.salt.copy(iv);
  const x = Buffer.alloc(16);
  x.writeUInt32BE(ssrc, 4);
  x.writeUInt32BE(roc, 8);
  x.writeUInt16BE(seq, 12);
  for (let i = 0; i < 16; i++) iv[i] ^= x[i];
  const enc = createCipheriv('aes-128-ctr', k.encKey, iv).update(packet.subarray(12));
  const body = Buffer.concat([packet.subarray(0, 12), enc]);
  const rocB = Buffer.alloc(4);
  rocB.writeUInt32BE(roc);
  const tag = createHmac('sha1', k.authKey).update(body).update(rocB).digest().subarray(0, 10);
  return Buffer.concat([body, tag]);
}

function naiveCmRtcp(k: SessionKeys, packet: Buffer, index: number): Buffer {
  const iv = Buffer.alloc(16);
  k.salt.copy(iv);
  iv.writeUInt32BE((iv.readUInt32BE(4) ^ packet.readUInt32BE(4)) >>> 0, 4);
  iv.writeUInt32BE((iv.readUInt32BE(10) ^ index) >>> 0, 10);
  const enc = createCipheriv('aes-128-ctr', k.encKey, iv).update(packet.subarray(8));
  const e = Buffer.alloc(4);
  e.writeUInt32BE((0x80000000 | index) >>> 0);
  const body = Buffer.concat([packet.subarray(0, 8), enc, e]);
  return Buffer.concat([body, createHmac('sha1', k.authKey).update(body).digest().subarray(0, 10)]);
}

function naiveGcmRtp(k: SessionKeys, packet: Buffer, roc: number): Buffer {
  const x = Buffer.alloc(12);
  x.writeUInt32BE(packet.readUInt32BE(8), 2);
  x.writeUInt32BE(roc, 6);
  x.writeUInt16BE(packet.readUInt16BE(2), 10);
  for (let i = 0; i < 12; i++) x[i] ^= k.salt[i];
  const c = createCipheriv('aes-128-gcm', k.encKey, x);
  c.setAAD(packet.subarray(0, 12));
  const ct = Buffer.concat([c.update(packet.subarray(12)), c.final()]);
  return Buffer.concat([packet.subarray(0, 12), ct, c.getAuthTag()]);
}

const master = { key: Buffer.alloc(16, 7), salt: Buffer.alloc(14, 9) };
const masterGcm = { key: Buffer.alloc(16, 7), salt: Buffer.alloc(12, 9) };
const rtpArb = fc.record({
  startSeq: fc.integer({ min: 65000, max: 65535 }),
  ssrc: fc.integer({ min: 0, max: 0xffffffff }),
  payloads: fc.array(fc.uint8Array({ minLength: 0, maxLength: 300 }), { minLength: 1, maxLength: 40 }),
});

function packetsOf(c: { startSeq: number; ssrc: number; payloads: Uint8Array[] }): { pkt: Buffer; roc: number }[] {
  return c.payloads.map((p, i) => {
    const h = Buffer.alloc(12);
    h[0] = 0x80;
    h[1] = 0x60;
    const n = c.startSeq + i * 30; // steps of 30 cross the wrap for most cases
    h.writeUInt16BE(n & 0xffff, 2);
    h.writeUInt32BE(c.ssrc, 8);
    return { pkt: Buffer.concat([h, p]), roc: n >>> 16 };
  });
}

test('AES-CM SRTP agrees with a naive per-packet aes-128-ctr + HMAC-SHA1 implementation', () => {
  const k = deriveSessionKeys('SRTP_AES128_CM_HMAC_SHA1_80', master.key, master.salt);
  fc.assert(
    fc.property(rtpArb, (c) => {
      const s = new SrtpSession('SRTP_AES128_CM_HMAC_SHA1_80', master, master);
      for (const { pkt, roc } of packetsOf(c)) assert.deepEqual(s.protectRtp(pkt), naiveCmRtp(k.rtp, pkt, roc));
    }),
    { numRuns: 200 },
  );
});

test('AES-CM SRTCP agrees with the naive implementation for successive indices', () => {
  const k = deriveSessionKeys('SRTP_AES128_CM_HMAC_SHA1_80', master.key, master.salt);
  fc.assert(
    fc.property(fc.array(fc.uint8Array({ minLength: 8, maxLength: 200 }), { minLength: 1, maxLength: 10 }), (bodies) => {
      const s = new SrtpSession('SRTP_AES128_CM_HMAC_SHA1_80', master, master);
      bodies.forEach((b, i) => {
        const pkt = Buffer.from(b);
        pkt[0] = 0x80;
        pkt.writeUInt32BE(0x12345678, 4);
        assert.deepEqual(s.protectRtcp(pkt), naiveCmRtcp(k.rtcp, pkt, i));
      });
    }),
    { numRuns: 100 },
  );
});

test('AES-GCM SRTP agrees with a naive per-packet aes-128-gcm implementation', () => {
  const k = deriveSessionKeys('SRTP_AEAD_AES_128_GCM', masterGcm.key, masterGcm.salt);
  fc.assert(
    fc.property(rtpArb, (c) => {
      const s = new SrtpSession('SRTP_AEAD_AES_128_GCM', masterGcm, masterGcm);
      for (const { pkt, roc } of packetsOf(c)) assert.deepEqual(s.protectRtp(pkt), naiveGcmRtp(k.rtp, pkt, roc));
    }),
    { numRuns: 200 },
  );
});

test('unprotect never throws on random or mutated bytes (malformed-packet-injection)', () => {
  for (const profile of ['SRTP_AES128_CM_HMAC_SHA1_80', 'SRTP_AEAD_AES_128_GCM'] as const) {
    const m = profile === 'SRTP_AEAD_AES_128_GCM' ? masterGcm : master;
    const tx = new SrtpSession(profile, m, m);
    const good = tx.protectRtp(Buffer.concat([Buffer.from('8060000100000000deadbeef', 'hex'), Buffer.alloc(50, 1)]));
    const goodC = tx.protectRtcp(Buffer.concat([Buffer.from('80c90001deadbeef', 'hex'), Buffer.alloc(24)]));
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(200), fc.integer({ min: 0, max: 255 }), (junk, at, v) => {
        const rx = new SrtpSession(profile, m, m);
        for (const input of [Buffer.from(junk), mutate(good, at, v), mutate(goodC, at, v)]) {
          const a = rx.unprotectRtp(input);
          const b = rx.unprotectRtcp(input);
          assert.ok(Buffer.isBuffer(a) || a.code.startsWith('ERR_SRTP_'));
          assert.ok(Buffer.isBuffer(b) || b.code.startsWith('ERR_SRTP_'));
        }
      }),
      { numRuns: 500 },
    );
  }
});

function mutate(b: Buffer, at: number, v: number): Buffer {
  const c = Buffer.from(b);
  c[at % c.length] = v;
  return c;
}
