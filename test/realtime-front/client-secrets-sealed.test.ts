// realtime-front/client-secrets.ts: an ek_ secret opens on any holder of the keyring until its
// expiry (wall clock injected) and never after; a flipped bit, another keyring, a routing token
// or a truncated text are refused without throwing; two secrets never repeat; a session config
// too large to seal goes to the bounded in-memory store and the secret stays under 4 KiB.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, mint as mintToken } from '../../src/core/token/index.ts';
import { ClientSecrets, MAX_SEALED_CHARS, MAX_STORED_SESSIONS } from '../../src/transceiver/realtime-front/client-secrets.ts';

const keyring = Keyring.generate(seededRng('ring-a'), 3);
const T0 = 1_800_000_000_000;

test('a secret opens on another replica with the same keyring until it expires, with its session', () => {
  const a = new ClientSecrets({ keyring, rng: seededRng('a') });
  const b = new ClientSecrets({ keyring: Keyring.parse(keyring.toString()), rng: seededRng('b') });
  const session = { model: 'gpt-realtime', instructions: 'hi', audio: { output: { voice: 'marin' } } };
  const s = a.mint(session, 60, T0)!;
  assert.match(s.value, /^ek_[A-Za-z0-9_-]+$/);
  assert.equal(s.expiresAt, T0 / 1000 + 60);
  assert.deepEqual(b.open(s.value, T0 + 59_999), { ok: true, session, expiresAt: s.expiresAt });
  assert.deepEqual(b.open(s.value, T0 + 60_000), { ok: false, rejection: 'expired' });
  assert.deepEqual(a.open(s.value, T0 + 3_600_000), { ok: false, rejection: 'expired' });
});

test('forged, truncated, other-keyring and routing-token texts are refused without throwing', () => {
  const a = new ClientSecrets({ keyring, rng: seededRng('a') });
  const s = a.mint({}, 600, T0)!.value;
  const bytes = Buffer.from(s.slice(3), 'base64url');
  for (let i = 2; i < bytes.length; i += 7) {
    const f = Buffer.from(bytes);
    f[i] ^= 1;
    assert.deepEqual(a.open('ek_' + f.toString('base64url'), T0), { ok: false, rejection: 'forged' }, `bit flipped in byte ${i}`);
  }
  const otherKey = Keyring.generate(seededRng('ring-b'), 3);
  assert.deepEqual(new ClientSecrets({ keyring: otherKey, rng: seededRng('o') }).open(s, T0), { ok: false, rejection: 'forged' });
  const otherId = Keyring.generate(seededRng('ring-b'), 9);
  assert.deepEqual(new ClientSecrets({ keyring: otherId, rng: seededRng('o') }).open(s, T0), { ok: false, rejection: 'unknown_key' });
  const token = mintToken({ family: 'IPv4', address: '10.0.0.1', port: 3478 }, keyring, T0, seededRng('t'));
  for (const text of [
    'ek_',
    s.slice(0, 30),
    `ek_${token.ufrag}`,
    `ek_${Buffer.from(token.ufrag, 'base64').toString('base64url')}`,
    s + '!',
    'sk-123',
    '',
  ])
    assert.equal(a.open(text, T0).ok, false, text);
});

test('secrets never repeat and carry at least 128 random bits', () => {
  const a = new ClientSecrets({ keyring, rng: seededRng('r') });
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) seen.add(a.mint({ same: true }, 600, T0)!.value);
  assert.equal(seen.size, 200);
});

test('a session too large to seal goes to the in-memory store: the secret stays under 4 KiB; the store is bounded', () => {
  const a = new ClientSecrets({ keyring, rng: seededRng('big') });
  const big = { instructions: 'x'.repeat(10_000) };
  const s = a.mint(big, 10, T0)!;
  assert.ok(s.value.length <= MAX_SEALED_CHARS, String(s.value.length));
  assert.deepEqual(a.open(s.value, T0), { ok: true, session: big, expiresAt: s.expiresAt });
  const other = new ClientSecrets({ keyring, rng: seededRng('other') });
  assert.deepEqual(other.open(s.value, T0), { ok: false, rejection: 'not_stored' }, 'only the replica that minted it holds it');
  for (let i = 1; i < MAX_STORED_SESSIONS; i++) assert.ok(a.mint(big, 10, T0));
  assert.equal(a.mint(big, 10, T0), undefined, 'full');
  assert.ok(a.mint({ small: 1 }, 10, T0), 'small sessions need no store');
  assert.ok(a.mint(big, 10, T0 + 10_000), 'expired entries are swept');
  assert.equal(a.storedSessions(T0 + 10_000), 1);
});
