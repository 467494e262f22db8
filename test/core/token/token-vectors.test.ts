// Known-answer vectors pin the wire format (relays and transceivers of different builds must
// agree), and an independent re-implementation from docs/token.md checks the construction
// is exactly what the docs say: HKDF sub-keys, tag = HMAC-SHA256(header ‖ plaintext)[0..16),
// AES-256-CTR with iv = tag, pwd = HMAC-SHA256(pwdKey, ufrag)[0..18).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCipheriv, createHmac, hkdfSync } from 'node:crypto';
import type { Rng } from '../../../src/core/rng.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { Keyring, mint, open } from '../../../src/core/token/index.ts';

const master = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const keyring = new Keyring([{ id: 7, secret: master }]);
const nonce = Buffer.from('a1a2a3a4a5a6a7', 'hex');
const fixedRng: Rng = { bytes: (n) => Buffer.from(nonce.subarray(0, n)) };
const now = 1_700_000_000_000;

const vectors: { dest: TransportAddress; ufrag: string; pwd: string }[] = [
  {
    dest: { address: '192.0.2.1', port: 3478, family: 'IPv4' },
    ufrag: 'AQebH4f9Pl8VNXHf+x3Z99TxvGed4WzkN2J3bCcQX8EOpFdFHowO5mHJJMM5u7vE',
    pwd: '0D6kmBAR7rqoVPWI15/nN52w',
  },
  {
    dest: { address: '2001:db8::1', port: 3478, family: 'IPv6' },
    ufrag: 'AQfrK0Z5/EYjmq/vxA3Qrt7oNHQITkuQDeZTZvtqBR4pyEYzrzEx1A7R5CGJtxwy',
    pwd: '6dXgi2vG2wvuxZXorn5A0L5v',
  },
];

function subKey(info: string): Buffer {
  return Buffer.from(hkdfSync('sha256', master, 'parley routing token', info, 32));
}

function byHand(dest: TransportAddress): { ufrag: string; pwd: string } {
  const ip =
    dest.family === 'IPv4'
      ? Buffer.concat([Buffer.from(dest.address.split('.').map(Number)), Buffer.alloc(12)])
      : Buffer.from('20010db8000000000000000000000001', 'hex');
  const port = Buffer.alloc(2);
  port.writeUInt16BE(dest.port);
  const time = Buffer.alloc(4);
  time.writeUInt32BE(now / 1000);
  const plaintext = Buffer.concat([Buffer.from([dest.family === 'IPv4' ? 4 : 6]), ip, port, time, nonce]);
  const header = Buffer.from([1, 7]);
  const tag = createHmac('sha256', subKey('parley token v1 hmac-sha256'))
    .update(Buffer.concat([header, plaintext]))
    .digest()
    .subarray(0, 16);
  const ciphertext = createCipheriv('aes-256-ctr', subKey('parley token v1 aes-256-ctr'), tag).update(plaintext);
  const ufrag = Buffer.concat([header, tag, ciphertext]).toString('base64');
  const pwd = createHmac('sha256', subKey('parley ice-pwd v1 hmac-sha256')).update(ufrag).digest().subarray(0, 18).toString('base64');
  return { ufrag, pwd };
}

for (const v of vectors) {
  test(`${v.dest.family} token equals an independent implementation of docs/token.md`, () => {
    const t = mint(v.dest, keyring, now, fixedRng);
    assert.deepEqual({ ufrag: t.ufrag, pwd: t.pwd }, byHand(v.dest));
  });

  test(`${v.dest.family} known-answer vector (wire format v1 is frozen)`, () => {
    const t = mint(v.dest, keyring, now, fixedRng);
    assert.equal(t.ufrag, v.ufrag);
    assert.equal(t.pwd, v.pwd);
    const r = open(v.ufrag, keyring, now);
    assert.ok(r.ok);
    assert.deepEqual(r.destination, v.dest);
  });
}
