// Issue #19's admission key of a source address (http/admission-limits.ts): a dotted IPv4 address
// is its own key without being turned into bytes and back (issue #18: it is asked before every
// answer). The shortcut must give the key the bytes would: the same text for every canonical
// address, IPv4-mapped IPv6 as its IPv4, and anything else as before.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientOfIp } from '../../src/transceiver/http/admission-limits.ts';
import { ipToBytes, isIpv4 } from '../../src/core/address.ts';
import { seededRng } from '../../src/core/rng.ts';

/** The key as it was made before the shortcut: from the address's bytes. */
function keyFromBytes(ip: string): string {
  const bytes = ipToBytes(ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip);
  if (!bytes) return `ip:${ip}`;
  if (bytes.length === 4) return `ip:${bytes.join('.')}`;
  return `ip6:${bytes.subarray(0, 8).toString('hex')}/64`;
}

test('a dotted IPv4 address (and its IPv4-mapped form) is keyed as its bytes would key it', () => {
  const rng = seededRng('client-of-ip');
  const fixed = ['0.0.0.0', '127.0.0.1', '255.255.255.255', '10.0.0.9', '192.168.100.200', '1.2.3.4'];
  const random = Array.from({ length: 2000 }, () => [...rng.bytes(4)].join('.'));
  for (const ip of [...fixed, ...random]) {
    assert.equal(isIpv4(ip), true, ip);
    assert.equal(clientOfIp(ip), `ip:${ip}`, ip);
    assert.equal(clientOfIp(ip), keyFromBytes(ip), ip);
    assert.equal(clientOfIp(`::ffff:${ip}`), `ip:${ip}`, ip);
  }
});

test('other text is keyed as before: IPv6 by its /64, non-canonical or broken text as itself', () => {
  const cases = [
    '2001:db8:1:2:aaaa::1',
    '::1',
    '::',
    'fe80::1',
    '::ffff:7f00:1',
    '01.2.3.4',
    '1.2.3.256',
    '1.2.3',
    '1.2.3.4.5',
    ' 1.2.3.4',
    '1.2.3.4\n',
    '::ffff:1.2.3.999',
    'unknown',
    '',
  ];
  for (const ip of cases) assert.equal(clientOfIp(ip), keyFromBytes(ip), JSON.stringify(ip));
  assert.equal(clientOfIp('01.2.3.4'), 'ip:01.2.3.4');
  assert.equal(isIpv4('1.2.3.4\n'), false);
});
