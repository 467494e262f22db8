// The native STUN MESSAGE-INTEGRITY (native/src/stun_native.c through
// src/transceiver/media/stun-integrity-native.ts) against RFC 5769's vectors (short-term §2.1–§2.3,
// long-term §2.4 with its MD5 key), against node:crypto's HMAC (src/core/stun/raw.ts
// nodeStunIntegrity) on seeded random messages and keys (a key longer than SHA-1's block
// included), on hostile arguments (wrong types, offsets outside the message or not on an
// attribute boundary, oversized keys: TypeError/RangeError, never a crash or a read past the
// end), and in an ICE-lite agent answering a client that signs with node:crypto. Also run under
// ASan/UBSan by `npm run test:native-asan`.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { IceLiteAgent } from '../../src/core/ice/ice-lite-agent.ts';
import { connectivityCheck, PEER_REFLEXIVE_PRIORITY } from '../../src/core/ice/binding-request.ts';
import { seededRng } from '../../src/core/rng.ts';
import { decodeStun, nodeStunIntegrity, sealStun, StunDecodeError, verifyMessageIntegrity } from '../../src/core/stun/index.ts';
import { loadStunIntegrityAddon } from '../../src/transceiver/media/stun-integrity-native.ts';
import type { StunIntegrityAddon } from '../../src/transceiver/media/stun-integrity-native.ts';
import * as V from '../core/stun/rfc5769-vectors.ts';

const loaded = loadStunIntegrityAddon();
const skip = loaded instanceof Error && process.env.CI !== 'true' ? 'the native STUN addon is not built' : false;
function addon(): StunIntegrityAddon {
  if (loaded instanceof Error) assert.fail(`CI=true but the native STUN addon is not usable: ${loaded.message}`);
  return loaded;
}

function integrityOffset(msg: Buffer): number {
  const m = decodeStun(msg);
  assert.ok(!(m instanceof StunDecodeError));
  return m.integrityOffset;
}

const LONG_TERM_KEY = createHash('md5').update(`${V.LONG_TERM_USERNAME}:${V.LONG_TERM_REALM}:${V.LONG_TERM_PASSWORD_PREPARED}`).digest();

test('RFC 5769 §2.1–§2.4: every sample message verifies, and signing its unsealed prefix reproduces it byte for byte', { skip }, () => {
  const a = addon();
  for (const v of [V.SAMPLE_REQUEST, V.SAMPLE_IPV4_RESPONSE, V.SAMPLE_IPV6_RESPONSE]) {
    assert.equal(verifyMessageIntegrity(v, V.SHORT_TERM_PASSWORD, a), true);
    assert.equal(verifyMessageIntegrity(v, `${V.SHORT_TERM_PASSWORD}x`, a), false);
    const off = integrityOffset(v);
    // The vectors' padding bytes are not zeros: only their own prefix reproduces them.
    const prefix = Buffer.from(v.subarray(0, off));
    prefix.writeUInt16BE(off - 20, 2);
    assert.deepEqual(sealStun(prefix, { integrityKey: V.SHORT_TERM_PASSWORD, fingerprint: true, integrity: a }), v);
  }
  const long = V.SAMPLE_LONG_TERM_REQUEST;
  assert.equal(verifyMessageIntegrity(long, LONG_TERM_KEY, a), true);
  const off = integrityOffset(long);
  const prefix = Buffer.from(long.subarray(0, off));
  prefix.writeUInt16BE(off - 20, 2);
  assert.deepEqual(sealStun(prefix, { integrityKey: LONG_TERM_KEY, integrity: a }), long);
  // Any flipped bit of what the HMAC covers, or of the HMAC, fails (not the length field, bytes 2–3:
  // §14.5 hashes the length MESSAGE-INTEGRITY would give it in its place).
  for (const i of [0, 1, 4, 8, 19, 20, off - 1, off + 4, off + 23]) {
    const bad = Buffer.from(long);
    bad[i] ^= 1;
    assert.equal(a.verify(bad, off, LONG_TERM_KEY), false, `byte ${i}`);
  }
});

test('the same HMAC as node:crypto on random messages, offsets and keys (empty, 64, 65 and 1024 bytes, string or bytes)', { skip }, () => {
  const a = addon();
  const rng = seededRng('stun-integrity');
  for (let i = 0; i < 300; i++) {
    const attrs = 4 * (rng.bytes(1)[0] % 40);
    const msg = rng.bytes(20 + attrs + 24 + 8 * (i & 1));
    const off = 20 + attrs;
    const n = [0, 1, 22, 64, 65, 200, 1024][i % 7];
    const key = i % 3 === 0 ? rng.bytes(n) : rng.bytes(n).toString('base64').slice(0, n);
    const mine = Buffer.from(msg);
    const theirs = Buffer.from(msg);
    a.sign(mine, off, key);
    nodeStunIntegrity.sign(theirs, off, key);
    assert.deepEqual(mine, theirs, `message ${i}`);
    assert.equal(a.verify(theirs, off, key), true);
    assert.equal(nodeStunIntegrity.verify(mine, off, key), true);
  }
  // A non-ASCII password is hashed as its UTF-8 bytes, as node:crypto hashes a string.
  const msg = Buffer.alloc(64, 7);
  a.sign(msg, 20, 'pässwörd-\u30de');
  assert.equal(nodeStunIntegrity.verify(msg, 20, Buffer.from('pässwörd-\u30de', 'utf8')), true);
});

test('hostile arguments throw TypeError or RangeError before any byte is read or written', { skip }, () => {
  const a = addon();
  const msg = Buffer.alloc(68);
  const before = Buffer.from(msg);
  const f = a as unknown as Record<'sign' | 'verify', (...args: unknown[]) => unknown>;
  for (const name of ['sign', 'verify'] as const) {
    for (const args of [[], [msg, 20], ['text', 20, 'k'], [new Uint16Array(34), 20, 'k'], [msg, '20', 'k'], [msg, 20, 5], [msg, 20, {}]])
      assert.throws(() => f[name](...args), TypeError, `${name}(${args.length} args)`);
    for (const off of [-4, 0, 16, 21, 22.5, NaN, Infinity, 48, 1e20])
      assert.throws(() => f[name](msg, off, 'k'), RangeError, `${name} at ${off}`);
    assert.throws(() => f[name](msg, 20, 'k'.repeat(1025)), RangeError);
    assert.throws(() => f[name](msg, 20, Buffer.alloc(1025)), RangeError);
    // A view: its own bounds count, not its ArrayBuffer's.
    assert.throws(() => f[name](Buffer.alloc(200).subarray(10, 50), 20, 'k'), RangeError);
  }
  assert.deepEqual(msg, before);
  // The last valid offset works.
  a.sign(msg, 44, 'k');
  assert.equal(a.verify(msg, 44, 'k'), true);
});

test(
  'an ICE-lite agent on the native HMAC verifies a node:crypto-signed check, and its request back and answer verify with node:crypto',
  { skip },
  () => {
    const client = { address: '203.0.113.7', port: 50000, family: 'IPv4' } as const;
    const agent = new IceLiteAgent({
      localUfrag: 'srvU',
      localPwd: 'server-password-0123456789',
      remoteUfrag: 'cliU',
      remotePwd: 'client-password-0123456789',
      rng: seededRng('agent'),
      integrity: addon(),
    });
    const check = connectivityCheck({
      transactionId: Buffer.alloc(12, 1),
      localUfrag: 'cliU',
      remoteUfrag: 'srvU',
      remotePwd: 'server-password-0123456789',
      priority: PEER_REFLEXIVE_PRIORITY,
      role: { controlling: true, tieBreaker: 5n },
      useCandidate: true,
    });
    // Twice: the first pays for the request back only (issue #19), the second for the answer.
    assert.equal(agent.handle(check, client, 0), true);
    assert.equal(agent.handle(check, client, 1), true);
    const sent: Buffer[] = [];
    for (let t = agent.pollTransmit(); t; t = agent.pollTransmit()) sent.push(t.data);
    const request = sent.find((d) => d.readUInt16BE(0) === 0x0001);
    const answer = sent.find((d) => d.readUInt16BE(0) === 0x0101);
    assert.ok(request && answer);
    assert.equal(verifyMessageIntegrity(request, 'client-password-0123456789'), true);
    assert.equal(verifyMessageIntegrity(answer, 'server-password-0123456789'), true);
  },
);
