// The relay's two first-check verifiers (src/relay/first-check.ts) agree: the addon's checkFirst
// (native/src/first_check.h) gives the TypeScript open() + derivePassword() + checkIntegrity()'s
// answer — the same drop reason, or the same destination and issue time — for minted tokens of
// several keys and both families, at times around their validity, and for thousands of
// mutations of tokens, packets and times; and each refusal a relay counts is the one expected.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { seededRng } from '../../src/core/rng.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, Keyring, mint } from '../../src/core/token/index.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { loadNativeAddon } from '../../src/relay/datapath-native.ts';
import { nativeFirstCheck, typescriptFirstCheck } from '../../src/relay/first-check.ts';
import type { FirstCheckResult } from '../../src/relay/first-check.ts';
import { stunCheck, v4 } from './helpers.ts';

const addon = loadNativeAddon();
if (addon instanceof Error) throw addon;

const rng = seededRng('first-check-agreement');
const ring = new Keyring([
  { id: 3, secret: rng.bytes(32) },
  { id: 0, secret: rng.bytes(48) },
  { id: 255, secret: rng.bytes(32) },
]);
/** A ring that knows only key 3: tokens of keys 0 and 255 are unknown to it. */
const oneKey = new Keyring([{ id: 3, secret: ring.get(3)!.exportSecret() }]);
const options = { lifetimeMs: 3_600_000, clockSkewMs: 30_000 };
const NOW = 1_800_000_000_000;

const verifiers = [ring, oneKey].flatMap((k) => [
  { ts: typescriptFirstCheck(k), native: nativeFirstCheck(addon, k) },
  { ts: typescriptFirstCheck(k, options), native: nativeFirstCheck(addon, k, options) },
]);

const v6: TransportAddress = { address: '2001:db8::7', port: 40000, family: 'IPv6' };
const dests = [v4('10.1.2.3', 7000), v4('127.0.0.1', 1), v4('255.255.255.255', 65535), v6];

function minted(keyIndex: number, dest: TransportAddress, issuedAt: number): { ufrag: string; pwd: string } {
  const k = ring.keys[keyIndex];
  const minting = new Keyring([{ id: k.id, secret: k.exportSecret() }]);
  return mint(dest, minting, issuedAt, rng);
}

function agree(packet: Buffer, ufrag: string, now: number): FirstCheckResult[] {
  const results: FirstCheckResult[] = [];
  for (const v of verifiers) {
    const a = v.ts.verify(packet, ufrag, now);
    const b = v.native.verify(packet, ufrag, now);
    assert.deepEqual(b, a, `ufrag ${JSON.stringify(ufrag)} at ${now}`);
    results.push(a);
  }
  return results;
}

test('the native verifier is the one the addon gives, and its keys are not a relay handle', () => {
  assert.equal(nativeFirstCheck(addon, ring).kind, 'native');
  const keys = addon.checkKeys([[1, Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32)]]);
  // A keys handle is refused where a relay handle is expected, and the other way round.
  assert.throws(() => addon.flows(keys), TypeError);
  assert.throws(() => addon.checkFirst({}, Buffer.alloc(20), 'abcd', NOW, 1, 1, Buffer.alloc(23)), TypeError);
  assert.throws(() => addon.checkKeys([[1, Buffer.alloc(31), Buffer.alloc(32), Buffer.alloc(32)]]), TypeError);
  assert.throws(
    () =>
      addon.checkKeys([
        [1, Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32)],
        [1, Buffer.alloc(32), Buffer.alloc(32), Buffer.alloc(32)],
      ]),
    TypeError,
  );
  assert.throws(() => addon.checkFirst(keys, Buffer.alloc(20), 'abcd', NOW, 1, 1, Buffer.alloc(22)), TypeError);
});

test('valid checks: the same destination and issue time, for every key and both families', () => {
  for (let k = 0; k < ring.keys.length; k++) {
    for (const dest of dests) {
      const { ufrag, pwd } = minted(k, dest, NOW - 5_000);
      const [full] = agree(stunCheck(ufrag, pwd), ufrag, NOW);
      assert.deepEqual(full, { ok: true, destination: dest, issuedAt: NOW - 5_000 });
    }
  }
});

test('each refusal is counted as its own reason, by both verifiers', () => {
  const dest = dests[0];
  const { ufrag, pwd } = minted(0, dest, NOW);
  const check = stunCheck(ufrag, pwd);
  const reason = (packet: Buffer, u: string, now = NOW): string => {
    const r = agree(packet, u, now)[0];
    return r.ok ? 'verified' : r.reason;
  };
  assert.equal(reason(check, ufrag), 'verified');
  // A forged tag: one ciphertext character changed.
  const forged = ufrag.slice(0, 40) + (ufrag[40] === 'A' ? 'B' : 'A') + ufrag.slice(41);
  assert.equal(reason(stunCheck(forged, pwd), forged), 'token_bad_tag');
  assert.equal(reason(stunCheck(ufrag, 'x'.repeat(24)), ufrag), 'bad_integrity');
  assert.equal(reason(check, ufrag, NOW + DEFAULT_TOKEN_LIFETIME_MS), 'token_expired');
  assert.equal(reason(check, ufrag, NOW - DEFAULT_CLOCK_SKEW_MS - 1000), 'token_not_yet_valid');
  assert.equal(reason(check, ufrag, Number.NaN), 'token_not_yet_valid');
  assert.equal(reason(check, ufrag.slice(0, 60)), 'token_bad_tag');
  assert.equal(reason(check, `${ufrag}A`), 'token_malformed');
  assert.equal(reason(check, 'ab-d'), 'token_malformed');
  assert.equal(reason(check, 'AAAA'), 'token_unsupported_version');
  assert.equal(reason(check, 'AQqq'), 'token_unknown_key');
  assert.equal(reason(check.subarray(0, check.length - 4), ufrag), 'bad_integrity');
  const t = minted(1, dest, NOW);
  assert.deepEqual(
    agree(stunCheck(t.ufrag, t.pwd), t.ufrag, NOW).map((r) => (r.ok ? 'ok' : r.reason)),
    ['ok', 'ok', 'token_unknown_key', 'token_unknown_key'],
  );
});

test('thousands of mutated tokens, packets and times: the same answer', () => {
  const base = dests.flatMap((dest, i) => {
    const t = minted(i % ring.keys.length, dest, NOW - i * 1_000_000);
    return [{ ...t, packet: stunCheck(t.ufrag, t.pwd) }];
  });
  const times = [NOW, NOW - 60_000, NOW + options.lifetimeMs, NOW + DEFAULT_TOKEN_LIFETIME_MS - 3_000_000, NOW - 40_000, NOW + 1e12];
  const iceChar = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'.split(''));
  fc.assert(
    fc.property(
      fc.nat(base.length - 1),
      fc.nat(times.length - 1),
      fc.integer({ min: -3_000_000, max: 3_000_000 }),
      fc.nat(63),
      iceChar,
      fc.nat(200),
      fc.nat(255),
      fc.nat(4),
      (b, ti, dt, ci, ch, pi, pv, mode) => {
        const { ufrag, packet } = base[b];
        let u = ufrag;
        let p = packet;
        if (mode === 0 || mode === 4) u = ufrag.slice(0, ci) + ch + ufrag.slice(ci + 1);
        if (mode === 1 || mode === 4) {
          p = Buffer.from(packet);
          p[pi % p.length] = pv;
        }
        if (mode === 2) u = ufrag.slice(0, ci);
        if (mode === 3) p = packet.subarray(0, pi % packet.length);
        agree(p, u, times[ti] + dt);
      },
    ),
    { numRuns: 4000 },
  );
});

test('random ufrags and random STUN-shaped packets: the same answer', () => {
  const { ufrag, packet } = (() => {
    const t = minted(0, dests[0], NOW);
    return { ...t, packet: stunCheck(t.ufrag, t.pwd) };
  })();
  fc.assert(
    fc.property(fc.string({ maxLength: 80 }), fc.uint8Array({ maxLength: 300 }), (text, bytes) => {
      agree(packet, text, NOW);
      agree(Buffer.from(bytes), ufrag, NOW);
      // A STUN header and random attributes after it.
      const framed = Buffer.concat([packet.subarray(0, 20), Buffer.from(bytes)]);
      framed.writeUInt16BE(bytes.length, 2);
      agree(framed, ufrag, NOW);
    }),
    { numRuns: 3000 },
  );
});
