// Signatures of forwarded call requests (src/transceiver/http/forward-auth.ts): valid for the one
// method and request target they were made for, for FORWARD_VALID_MS, under any key of the
// shared keyring (rotation); anything else — another target, method, keyring, a flipped
// character, an expired or far-future expiry, malformed text — is refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { FORWARD_VALID_MS, ForwardAuth } from '../../src/transceiver/http/forward-auth.ts';

const NOW = 1_790_000_000_000;
const old = Keyring.generate(seededRng('forward-old'), 1);
const next = Keyring.generate(seededRng('forward-next'), 2);
const TARGET = '/v1/realtime/calls/rtc_abc';

test('a signature verifies for its method and target until it expires', () => {
  const auth = new ForwardAuth(old);
  const sig = auth.sign('DELETE', TARGET, NOW);
  assert.match(sig, /^v1\.1\.\d+\.[A-Za-z0-9_-]{43}$/);
  assert.equal(auth.verify(sig, 'DELETE', TARGET, NOW), true);
  assert.equal(auth.verify(sig, 'DELETE', TARGET, NOW + FORWARD_VALID_MS), true);
  assert.equal(auth.verify(sig, 'DELETE', TARGET, NOW + FORWARD_VALID_MS + 1), false, 'expired');
  assert.equal(auth.verify(sig, 'GET', TARGET, NOW), false, 'another method');
  assert.equal(auth.verify(sig, 'DELETE', `${TARGET}/hangup`, NOW), false, 'another target');
  assert.equal(auth.verify(sig, 'DELETE', `${TARGET}?x=1`, NOW), false, 'the query is signed too');
});

test('every single-character change of a signature is refused', () => {
  const auth = new ForwardAuth(old);
  const sig = auth.sign('GET', TARGET, NOW);
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.';
  for (let i = 0; i < sig.length; i++) {
    for (const c of alphabet) {
      if (c === sig[i]) continue;
      const changed = sig.slice(0, i) + c + sig.slice(i + 1);
      assert.equal(auth.verify(changed, 'GET', TARGET, NOW), false, changed);
    }
  }
  for (let n = 0; n < sig.length; n++) assert.equal(auth.verify(sig.slice(0, n), 'GET', TARGET, NOW), false);
});

test('key rotation: a replica with [next, old] accepts what old signs; other keyrings refuse', () => {
  const signer = new ForwardAuth(old);
  const rotated = new ForwardAuth(
    new Keyring([
      ...next.keys.map((k) => ({ id: k.id, secret: k.exportSecret() })),
      ...old.keys.map((k) => ({ id: k.id, secret: k.exportSecret() })),
    ]),
  );
  const sig = signer.sign('GET', TARGET, NOW);
  assert.equal(rotated.verify(sig, 'GET', TARGET, NOW), true);
  assert.match(rotated.sign('GET', TARGET, NOW), /^v1\.2\./, 'signs with its first (minting) key');
  assert.equal(new ForwardAuth(next).verify(sig, 'GET', TARGET, NOW), false, 'unknown key id');
  const sameIdOtherSecret = Keyring.generate(seededRng('forward-impostor'), 1);
  assert.equal(new ForwardAuth(sameIdOtherSecret).verify(sig, 'GET', TARGET, NOW), false, 'same id, other secret');
});

test('malformed headers and far-future expiries are refused', () => {
  const auth = new ForwardAuth(old);
  const sig = auth.sign('GET', TARGET, NOW + 10 * 60_000);
  assert.equal(auth.verify(sig, 'GET', TARGET, NOW), false, 'expiry too far ahead (clock skew bound)');
  for (const bad of [undefined, '', '1', 'v1', 'v1...', `v2${sig.slice(2)}`, `${sig}=`, `${sig} `, `v1.999.${NOW}.${'A'.repeat(43)}`]) {
    assert.equal(auth.verify(bad, 'GET', TARGET, NOW), false, String(bad));
  }
});
