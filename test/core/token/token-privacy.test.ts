// The clear token reveals nothing about the destination: no address bytes, no family (IPv4
// and IPv6 tokens have the same length), and tokens for the same destination look unrelated.
// The ICE password is keyed: it differs per token and per key, and fits RFC 8839 ice-pwd.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring, derivePassword, mint, open } from '../../../src/core/token/index.ts';
import { T0, V4, V6, decode, ring, secret } from './helpers.ts';

test('IPv4 and IPv6 tokens have the same length (the family is hidden)', () => {
  const kr = ring(1);
  const rng = seededRng('len');
  assert.equal(mint(V4, kr, T0, rng).ufrag.length, mint(V6, kr, T0, rng).ufrag.length);
});

test('the clear token contains neither the address bytes nor its text', () => {
  const kr = ring(1);
  const rng = seededRng('clear');
  for (let i = 0; i < 200; i++) {
    const t = mint(V4, kr, T0, rng);
    assert.equal(decode(t.ufrag).includes(Buffer.from([10, 1, 2, 3])), false);
    assert.equal(t.ufrag.includes('10.1.2.3'), false);
    const t6 = mint(V6, kr, T0, rng);
    assert.equal(decode(t6.ufrag).includes(Buffer.from('20010db885a3', 'hex')), false);
  }
});

test('tokens for the same destination and second share only the header', () => {
  const kr = ring(1);
  const rng = seededRng('unrelated');
  const first = decode(mint(V4, kr, T0, rng).ufrag);
  const seen = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const b = decode(mint(V4, kr, T0, rng).ufrag);
    assert.deepEqual(b.subarray(0, 2), first.subarray(0, 2)); // version, key id: clear by design
    let same = 0;
    for (let j = 2; j < b.length; j++) if (b[j] === first[j]) same++;
    // 46 random-looking bytes agree by chance in ~0.18 places; 8 would be a leak.
    assert.ok(same < 8, `token ${i} shares ${same} bytes with the first`);
    seen.add(b.toString('hex'));
  }
  assert.equal(seen.size, 500);
});

test('derived password: 24 ice-chars, equals what mint returned, differs per token', () => {
  const kr = ring(1);
  const rng = seededRng('pwd');
  const pwds = new Set<string>();
  for (let i = 0; i < 500; i++) {
    const t = mint(V4, kr, T0, rng);
    assert.match(t.pwd, /^[A-Za-z0-9+/]{22,256}$/);
    assert.equal(t.pwd.length, 24);
    assert.equal(derivePassword(t.ufrag, kr), t.pwd);
    pwds.add(t.pwd);
  }
  assert.equal(pwds.size, 500);
});

test('derived password differs per key: same ufrag, same id, other secret → other password', () => {
  const t = mint(V4, ring(1), T0, seededRng(1));
  const other = new Keyring([{ id: 1, secret: secret('other') }]);
  const pwd = derivePassword(t.ufrag, other);
  assert.ok(pwd !== undefined && pwd !== t.pwd);
});

test('derived password needs the key: same ufrag under key ids 1 and 2 of one ring gives different passwords', () => {
  const kr = ring(1, 2);
  const a = mint(V4, kr, T0, seededRng(2));
  const b = Buffer.from(a.ufrag, 'base64');
  b[1] = 2; // same bytes, other key id: the header names the password key
  const other = b.toString('base64');
  assert.notEqual(derivePassword(other, kr), a.pwd);
  assert.equal(a.ufrag.includes(a.pwd), false);
  assert.deepEqual(open(other, kr, T0), { ok: false, reason: 'bad_tag' });
});
