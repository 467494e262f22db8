// Known-answer tests. Vector provenance:
// - RFC 3711 Appendix B.2 (AES-CM keystream) and B.3 (key derivation), as transcribed in several
//   independent public SRTP test suites (the RFC text itself was not retrievable here).
// - RFC 7714 §16.1.1 (SRTP AEAD_AES_128_GCM) and §17.1 / §17.3 (SRTCP, encrypted / auth-only),
//   session key and salt given directly; same transcription caveat, four sources agree.
// - libsrtp test/srtp_driver.c AES_CM_128_HMAC_SHA1_80 SRTP and SRTCP packets (as replayed by
//   jitsi-srtp's SrtpValidationTest), end to end through SrtpSession incl. key derivation.
// - AEAD KDF with a 12-byte salt: a value cross-checked against webrtc-rs/pion in a public test.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AesCmKeystream } from '../../../src/core/srtp/aes-cm.ts';
import { deriveSessionKeys, srtpPrf } from '../../../src/core/srtp/kdf.ts';
import { AesGcmTransform } from '../../../src/core/srtp/transform-aes-gcm.ts';
import { SrtpSession } from '../../../src/core/srtp/index.ts';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

test('RFC 3711 B.2: AES-CM keystream for session key 2B7E…, salt F0F1…FD', () => {
  const ks = new AesCmKeystream(hex('2B7E151628AED2A6ABF7158809CF4F3C'));
  const iv = hex('F0F1F2F3F4F5F6F7F8F9FAFBFCFD0000');
  const out = Buffer.alloc(48);
  assert.ok(ks.xor(iv, Buffer.alloc(48), 0, 48, out, 0));
  assert.equal(
    out.toString('hex'),
    hex(`E03EAD0935C95E80E166B16DD92B4EB4
    D23513162B02D0F72A43A2FE4A5F97AB 41E95B3BB0A2E8DD477901E4FCA894C0`).toString('hex'),
  );
});

test('RFC 3711 B.3: key derivation of cipher key, salt and auth key', () => {
  const keys = deriveSessionKeys(
    'SRTP_AES128_CM_HMAC_SHA1_80',
    hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
    hex('0EC675AD498AFEEBB6960B3AABE6'),
  );
  assert.equal(keys.rtp.encKey.toString('hex'), 'c61e7a93744f39ee10734afe3ff7a087');
  assert.equal(keys.rtp.salt.toString('hex'), '30cbbc08863d8c85d49db34a9ae1');
  assert.equal(keys.rtp.authKey.toString('hex'), 'cebe321f6ff7716b6fd4ab49af256a156d38baa4');
});

test('RFC 3711 §4.3: SRTCP labels 3/4/5 on the B.3 master key (libsrtp-compatible values)', () => {
  const keys = deriveSessionKeys(
    'SRTP_AES128_CM_HMAC_SHA1_80',
    hex('E1F97A0D3E018BE0D64FA32C06DE4139'),
    hex('0EC675AD498AFEEBB6960B3AABE6'),
  );
  assert.equal(keys.rtcp.encKey.toString('hex'), '4c1aa45a81f73d61c800bbb00fbb1eaa');
  assert.equal(keys.rtcp.authKey.toString('hex'), '8d54534feb49ae8e7993a6bd0b844fc323a93dfd');
  assert.equal(keys.rtcp.salt.toString('hex'), '9581c7ad87b3e530bf3e4454a8b3');
});

test('RFC 7714 §11: the KDF pads a 12-byte GCM salt on the right (agrees with webrtc-rs)', () => {
  const key = Buffer.from(Array.from({ length: 16 }, (_, i) => i));
  const salt = Buffer.from(Array.from({ length: 12 }, (_, i) => 0x40 + i));
  assert.equal(srtpPrf(key, salt, 2, 12).toString('hex'), '1fcd5d561e66dc49ec1c3ccb');
  assert.equal(deriveSessionKeys('SRTP_AEAD_AES_128_GCM', key, salt).rtp.salt.toString('hex'), '1fcd5d561e66dc49ec1c3ccb');
});

const GCM_KEY = { encKey: hex('000102030405060708090a0b0c0d0e0f'), authKey: Buffer.alloc(0), salt: hex('517569642070726f2071756f') };
const RTP_7714 = hex('8040f17b 8041f8d3 5501a0b2 47616c6c 69612065 7374206f 6d6e6973 20646976 69736120 696e2070 61727465 73207472 6573');
const SRTP_7714 = hex(`8040f17b 8041f8d3 5501a0b2 f24de3a3 fb34de6c acba861c 9d7e4bca be633bd5 0d294e6f 42a5f47a
  51c7d19b 36de3adf 8833899d 7f27beb1 6a9152cf 765ee439 0cce`);
const RTCP_7714 = hex(
  '81c8000d 4d617273 4e545031 4e545032 52545020 0000042a 0000e930 4c756e61 deadbeef deadbeef deadbeef deadbeef deadbeef',
);
const SRTCP_7714 = hex(`81c8000d 4d617273 63e94885 dcdab67c a727d766 2f6b7e99 7ff5c0f7 6c06f32d c676a5f1 730d6fda
  4ce09b46 86303ded 0bb9275b c84aa458 96cf4d2f c5abf872 45d9eade 800005d4`);

test('RFC 7714 §16.1.1: AEAD_AES_128_GCM SRTP encryption and decryption', () => {
  const t = new AesGcmTransform(GCM_KEY, GCM_KEY);
  assert.equal(t.protectRtp(RTP_7714, 12, 0x5501a0b2, 0, 0xf17b)!.toString('hex'), SRTP_7714.toString('hex'));
  assert.equal(t.unprotectRtp(SRTP_7714, 12, 0x5501a0b2, 0, 0xf17b)!.toString('hex'), RTP_7714.toString('hex'));
});

test('RFC 7714 §17.1: AEAD_AES_128_GCM SRTCP encryption (E=1, index 0x5d4) and decryption', () => {
  const t = new AesGcmTransform(GCM_KEY, GCM_KEY);
  assert.equal(t.protectRtcp(RTCP_7714, 0x4d617273, 0x5d4)!.toString('hex'), SRTCP_7714.toString('hex'));
  assert.equal(t.unprotectRtcp(SRTCP_7714, 0x4d617273, 0x800005d4)!.toString('hex'), RTCP_7714.toString('hex'));
});

test('RFC 7714 §17.3: AEAD_AES_128_GCM SRTCP authentication only (E=0) verifies', () => {
  const t = new AesGcmTransform(GCM_KEY, GCM_KEY);
  const wire = Buffer.concat([RTCP_7714, hex('841dd9683dd78ec92ae58790125f62b3 000005d4')]);
  assert.equal(t.unprotectRtcp(wire, 0x4d617273, 0x000005d4)!.toString('hex'), RTCP_7714.toString('hex'));
  wire[9] ^= 1;
  assert.equal(t.unprotectRtcp(wire, 0x4d617273, 0x000005d4), undefined);
});

const LIBSRTP_KEY = { key: hex('e1f97a0d3e018be0d64fa32c06de4139'), salt: hex('0ec675ad498afeebb6960b3aabe6') };
const LIBSRTP_RTP = hex('800f1234decafbad cafebabe abababab abababababababab abababab');
const LIBSRTP_SRTP = hex('800f1234decafbad cafebabe 4e55dc4c e79978d88ca4d215 949d2402 b78d6acc99ea179b8dbb');
const LIBSRTP_RTCP = hex('81c8000bcafebabe abababababababab abababababababab');
const LIBSRTP_SRTCP = hex('81c8000bcafebabe 7128035be487b9bd bef89041f977a5a8 80000001 993e08cd54d6c1230798');

test('libsrtp srtp_driver AES_CM_128_HMAC_SHA1_80 SRTP packet, through SrtpSession with key derivation', () => {
  const tx = new SrtpSession('SRTP_AES128_CM_HMAC_SHA1_80', LIBSRTP_KEY, LIBSRTP_KEY);
  assert.equal(tx.protectRtp(LIBSRTP_RTP).toString('hex'), LIBSRTP_SRTP.toString('hex'));
  const rx = new SrtpSession('SRTP_AES128_CM_HMAC_SHA1_80', LIBSRTP_KEY, LIBSRTP_KEY);
  assert.equal((rx.unprotectRtp(LIBSRTP_SRTP) as Buffer).toString('hex'), LIBSRTP_RTP.toString('hex'));
});

test('libsrtp srtp_driver AES_CM_128_HMAC_SHA1_80 SRTCP packet (index 1 = second packet sent)', () => {
  const tx = new SrtpSession('SRTP_AES128_CM_HMAC_SHA1_80', LIBSRTP_KEY, LIBSRTP_KEY);
  const first = tx.protectRtcp(LIBSRTP_RTCP);
  assert.equal(first.readUInt32BE(first.length - 14), 0x80000000, 'RFC 3711 §3.4: index starts at 0, E set');
  assert.equal(tx.protectRtcp(LIBSRTP_RTCP).toString('hex'), LIBSRTP_SRTCP.toString('hex'));
  const rx = new SrtpSession('SRTP_AES128_CM_HMAC_SHA1_80', LIBSRTP_KEY, LIBSRTP_KEY);
  assert.equal((rx.unprotectRtcp(LIBSRTP_SRTCP) as Buffer).toString('hex'), LIBSRTP_RTCP.toString('hex'));
});
