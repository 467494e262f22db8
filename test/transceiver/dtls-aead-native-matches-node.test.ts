// The native AES-128-GCM for DTLS 1.2 records (native/src/srtp_native.c aeadSeal/aeadOpen via
// src/transceiver/media/dtls-aead-native.ts) against the GCM specification's known answer and,
// record by record, against the node:crypto path it replaces in src/core/dtls/record.ts: records
// sealed by one open with the other, byte-identical, at every size up to 2^14; every bit flip of a
// sealed record is rejected by both; hostile arguments; and a DTLS handshake with the native AEAD
// on one side only carries data both ways. (OpenSSL interop: test/core/dtls/openssl-suites.test.ts.)
// Vector: McGrew & Viega, "The Galois/Counter Mode of Operation (GCM)", test case 4 (AES-128,
// 96-bit IV, 20-byte AAD, 60-byte plaintext), also NIST's gcmEncryptExtIV128 set.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AeadRecordCipher, ContentType, DTLS12, parseRecords } from '../../src/core/dtls/record.ts';
import type { RecordAeadFactory } from '../../src/core/dtls/index.ts';
import { NativeAesGcmRecordAead, nativeRecordAeadFactory } from '../../src/transceiver/media/dtls-aead-native.ts';
import { bothConnected, drive, eventsOfType, makePair } from '../core/dtls/harness.ts';
import { addon, hex, prng, skipWithoutAddon as skip } from './helpers/srtp-cross-check.ts';

const GCM128 = { aead: 'aes-128-gcm', explicitNonceLength: 8 } as const;

test('GCM test case 4 (AES-128, 96-bit IV, AAD): the addon seals to the known ciphertext and tag and opens it', { skip }, () => {
  const key = hex('feffe9928665731c6d6a8f9467308308');
  const iv = hex('cafebabefacedbaddecaf888');
  const aad = hex('feedfacedeadbeeffeedfacedeadbeefabaddad2');
  const pt = hex(`d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72
                  1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39`);
  const ct = hex(`42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e
                  21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091`);
  const tag = hex('5bc94fbc3221a5db94fae95ae7121a47');
  const aead = new NativeAesGcmRecordAead(addon(), key);
  const out = Buffer.alloc(3 + pt.length + 16, 0xee);
  assert.equal(aead.seal(iv, aad, pt, out, 3), true);
  assert.equal(out.subarray(3).toString('hex'), Buffer.concat([ct, tag]).toString('hex'));
  assert.equal(out.subarray(0, 3).toString('hex'), 'eeeeee', 'nothing written before the offset');
  assert.equal(aead.open(iv, aad, Buffer.concat([ct, tag]))?.toString('hex'), pt.toString('hex'));
  assert.equal(aead.open(iv, Buffer.from(aad).fill(0, 0, 1), Buffer.concat([ct, tag])), undefined, 'other AAD');
});

test(
  'records sealed natively open with node:crypto and the reverse, byte-identical, 0 B to 2^14 B; every bit flip is rejected by both',
  { skip },
  () => {
    const r = prng(14);
    const factory = nativeRecordAeadFactory(addon());
    for (let i = 0; i < 300; i++) {
      const key = r.bytes(16);
      const iv = r.bytes(4);
      const native = new AeadRecordCipher(GCM128, key, iv, factory);
      const node = new AeadRecordCipher(GCM128, key, iv);
      const size = i === 0 ? 0 : i === 1 ? 16384 : r.int(1300);
      const plaintext = r.bytes(size);
      const epoch = 1 + r.int(3);
      const seq = r.int(2 ** 32);
      const a = native.seal(ContentType.applicationData, DTLS12, epoch, seq, plaintext);
      const b = node.seal(ContentType.applicationData, DTLS12, epoch, seq, plaintext);
      assert.equal(a.toString('hex'), b.toString('hex'), `record ${i} (${size} B) differs`);
      const [rec] = parseRecords(a);
      assert.equal(node.open(rec)?.toString('hex'), plaintext.toString('hex'));
      assert.equal(native.open(rec)?.toString('hex'), plaintext.toString('hex'));
      // A key's contexts are made at first use: one that never sealed opens, one that never opened seals.
      assert.equal(new AeadRecordCipher(GCM128, key, iv, factory).open(rec)?.toString('hex'), plaintext.toString('hex'));
      if (i < 3) {
        for (let bit = 13 * 8; bit < a.length * 8; bit += i === 1 ? 997 : 1) {
          const bad = Buffer.from(a);
          bad[bit >> 3] ^= 1 << (bit & 7);
          const [badRec] = parseRecords(bad);
          assert.equal(native.open(badRec), undefined, `native opened a record with bit ${bit} flipped`);
          assert.equal(node.open(badRec), undefined, `node opened a record with bit ${bit} flipped`);
        }
      }
    }
  },
);

test(
  'the native AEAD refuses hostile arguments: a short nonce, overlapping output, a bad context; short input is no plaintext',
  { skip },
  () => {
    const a = addon();
    const ctx = a.aeadCreate(Buffer.alloc(16, 1));
    const nonce = Buffer.alloc(12);
    const pt = Buffer.alloc(100, 2);
    assert.throws(() => a.aeadCreate(Buffer.alloc(32)), /16-byte key/);
    assert.throws(() => a.aeadSeal(ctx, Buffer.alloc(8), Buffer.alloc(13), pt, Buffer.alloc(200), 0), /12 bytes/);
    assert.throws(() => a.aeadSeal(ctx, nonce, Buffer.alloc(13), pt, Buffer.alloc(100), 0), /too small/);
    assert.throws(() => a.aeadSeal(ctx, nonce, Buffer.alloc(13), pt, Buffer.alloc(200), 201), /outOffset/);
    const shared = Buffer.alloc(300);
    assert.throws(() => a.aeadSeal(ctx, nonce, Buffer.alloc(13), shared.subarray(0, 100), shared, 50), /overlaps/);
    assert.throws(
      () =>
        a.aeadSeal(
          a.gcmCreate(Buffer.alloc(16), Buffer.alloc(12), Buffer.alloc(16), Buffer.alloc(12)),
          nonce,
          nonce,
          pt,
          Buffer.alloc(200),
          0,
        ),
      /bad context/,
    );
    assert.equal(a.aeadOpen(ctx, nonce, Buffer.alloc(13), Buffer.alloc(15), Buffer.alloc(16), 0), undefined);
    // A forged record leaves no unverified plaintext behind.
    const out = Buffer.alloc(84, 0x55);
    assert.equal(a.aeadOpen(ctx, nonce, Buffer.alloc(13), Buffer.alloc(100, 7), out, 0), undefined);
    assert.ok(
      out.every((b) => b === 0),
      'the unverified plaintext was wiped',
    );
  },
);

test('the factory takes AES-128-GCM only: AES-256-GCM and ChaCha20-Poly1305 stay with node:crypto', { skip }, () => {
  const f = nativeRecordAeadFactory(addon());
  assert.ok(f('aes-128-gcm', Buffer.alloc(16)) instanceof NativeAesGcmRecordAead);
  assert.equal(f('aes-256-gcm', Buffer.alloc(32)), undefined);
  assert.equal(f('chacha20-poly1305', Buffer.alloc(32)), undefined);
});

test('a DTLS handshake with the native record AEAD on one side only: connected, application data both ways', { skip }, () => {
  const recordAead: RecordAeadFactory = nativeRecordAeadFactory(addon());
  for (const side of ['client', 'server'] as const) {
    const pair = makePair(`native-aead-${side}`, { [side]: { recordAead } });
    pair.client.start(0);
    pair.server.start(0);
    const now = drive(pair, { done: bothConnected(pair) });
    assert.equal(pair.client.state, 'connected');
    assert.equal(pair.server.state, 'connected');
    pair.client.send(Buffer.from('from the client'));
    pair.server.send(Buffer.alloc(1100, 9));
    drive(pair, {
      start: now,
      done: () => eventsOfType(pair.clientEvents, 'data').length > 0 && eventsOfType(pair.serverEvents, 'data').length > 0,
    });
    assert.deepEqual(
      eventsOfType(pair.serverEvents, 'data').map((e) => e.data.toString()),
      ['from the client'],
    );
    assert.deepEqual(
      eventsOfType(pair.clientEvents, 'data').map((e) => e.data.length),
      [1100],
    );
  }
});
