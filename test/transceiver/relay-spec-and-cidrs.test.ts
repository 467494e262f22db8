// `--relays` and `--relay-cidrs` parsing: what is advertised, what sources are trusted, and the
// messages a bad value gets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { advertisedAddresses, formatRelaySpec, parseRelaySpec } from '../../src/transceiver/relays/relay-spec.ts';
import { CidrSet, LOOPBACK_CIDRS } from '../../src/core/cidr.ts';
import { formatAddress } from '../../src/core/address.ts';

test('a comma list is one unnamed location, in order; IPv6 in brackets', () => {
  const spec = parseRelaySpec('203.0.113.7:3478, [2001:db8::7]:3478');
  assert.deepEqual(advertisedAddresses(spec).map(formatAddress), ['203.0.113.7:3478', '[2001:db8::7]:3478']);
  assert.equal(formatRelaySpec(spec), '203.0.113.7:3478,[2001:db8::7]:3478');
});

test('named locations parse (eu=…;us=…) and are advertised in the order written, deduplicated', () => {
  const spec = parseRelaySpec('eu=198.51.100.1:3478,198.51.100.2:3478;us=203.0.113.1:3478,198.51.100.1:3478');
  assert.deepEqual(
    spec.locations.map((l) => l.name),
    ['eu', 'us'],
  );
  assert.deepEqual(advertisedAddresses(spec).map(formatAddress), ['198.51.100.1:3478', '198.51.100.2:3478', '203.0.113.1:3478']);
});

test('bad relay specs say why', () => {
  assert.throws(() => parseRelaySpec(''), /no relay address/);
  assert.throws(() => parseRelaySpec('relay.example.com:3478'), /literal IP/);
  assert.throws(() => parseRelaySpec('1.2.3.4:3478,'), /empty address/);
  assert.throws(() => parseRelaySpec('0.0.0.0:3478'), /unspecified/);
  assert.throws(() => parseRelaySpec('1.2.3.4:0'), /port 0/);
  assert.throws(() => parseRelaySpec('EU=1.2.3.4:3478'), /NAME=HOST:PORT/);
  assert.throws(() => parseRelaySpec('eu=1.2.3.4:3478;eu=1.2.3.5:3478'), /twice/);
});

test('CIDR sets: loopback default, prefixes, IPv4-mapped sources, bare IPs', () => {
  const lo = CidrSet.parse(LOOPBACK_CIDRS);
  assert.ok(lo.has('127.0.0.1'));
  assert.ok(lo.has('127.255.0.9'));
  assert.ok(lo.has('::1'));
  assert.ok(lo.has('::ffff:127.0.0.1'));
  assert.ok(!lo.has('10.0.0.1'));
  assert.ok(!lo.has('::2'));
  const nets = CidrSet.parse('10.0.0.0/8,fd00::/8,192.0.2.5');
  assert.ok(nets.has('10.200.1.1'));
  assert.ok(nets.has('fd12:3456::1'));
  assert.ok(nets.has('192.0.2.5'));
  assert.ok(!nets.has('192.0.2.6'));
  assert.ok(!nets.has('not an ip'));
  assert.ok(CidrSet.parse('0.0.0.0/0').has('8.8.8.8'));
});

test('bad CIDRs say why', () => {
  assert.throws(() => CidrSet.parse('10.0.0.0/33'), /prefix length must be 0..32/);
  assert.throws(() => CidrSet.parse('10.0.0/8'), /not an IP/);
  assert.throws(() => CidrSet.parse('10.0.0.0/8,,'), /empty item/);
});
