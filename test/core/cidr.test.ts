// The one CIDR matcher (src/core/cidr.ts) that the relay's --transceiver-cidrs and the
// transceiver's --relay-cidrs both use: membership by prefix bits (RFC 4632 §3.1, RFC 4291 §2.3),
// IPv4-mapped sources match IPv4 blocks (RFC 4291 §2.5.5.2), and the cached per-packet matcher
// answers exactly as has() does, with a bounded cache.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CidrSet, parseCidr } from '../../src/core/cidr.ts';

/** The first `prefix` bits of a and b are equal (reference, bit by bit). */
function samePrefix(a: number[], b: number[], prefix: number): boolean {
  for (let i = 0; i < prefix; i++) if (((a[i >> 3] >> (7 - (i & 7))) & 1) !== ((b[i >> 3] >> (7 - (i & 7))) & 1)) return false;
  return true;
}

const v4 = (b: number[]): string => b.join('.');

test('parsing keeps the network bits only and says why it refuses', () => {
  assert.deepEqual([...parseCidr('10.1.2.3/8').network], [10, 0, 0, 0]);
  assert.equal(parseCidr(' 192.0.2.5 ').prefix, 32);
  assert.equal(parseCidr('fd00::1/8').network.length, 16);
  assert.throws(() => parseCidr('10.0.0.0/33'), /prefix length must be 0..32/);
  assert.throws(() => parseCidr('fd00::/129'), /prefix length must be 0..128/);
  assert.throws(() => parseCidr('10.0.0.0/8/1'), /prefix length/);
  assert.throws(() => parseCidr('relay.example/8'), /not an IP address/);
  assert.equal(CidrSet.parse('10.0.0.0/8, ::1').toString(), '10.0.0.0/8,::1');
});

test('IPv4 membership agrees with a bit-by-bit reference; the matcher agrees with has()', () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
      fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 4, maxLength: 4 }),
      fc.integer({ min: 0, max: 32 }),
      (net, ip, prefix) => {
        const set = CidrSet.parse(`${v4(net)}/${prefix}`);
        const want = samePrefix(net, ip, prefix);
        assert.equal(set.has(v4(ip)), want);
        assert.equal(set.has(`::ffff:${v4(ip)}`), want, 'IPv4-mapped');
        assert.equal(set.matcher()(v4(ip)), want);
      },
    ),
    { numRuns: 2000 },
  );
});

test('the cached matcher stays bounded and keeps answering right after it is cleared', () => {
  const set = CidrSet.parse('10.0.0.0/8,fd00::/8');
  const allowed = set.matcher(16);
  for (let round = 0; round < 3; round++) {
    for (let i = 0; i < 100; i++) {
      assert.equal(allowed(`10.0.${round}.${i}`), true);
      assert.equal(allowed(`11.0.${round}.${i}`), false);
      assert.equal(allowed(`fd00::${i.toString(16)}`), true);
    }
  }
  assert.equal(allowed('not an ip'), false);
});
