import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isIP } from 'node:net';
import fc from 'fast-check';
import { bytesToIp, ipToBytes, parseAddress, formatAddress } from '../../src/core/address.ts';

test('IPv4 and IPv6 text round-trips through bytes in canonical form', () => {
  assert.deepEqual([...ipToBytes('127.0.0.7')!], [127, 0, 0, 7]);
  assert.equal(bytesToIp(ipToBytes('2001:db8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(bytesToIp(ipToBytes('::1')!), '::1');
  assert.equal(bytesToIp(ipToBytes('::')!), '::');
  assert.equal(bytesToIp(ipToBytes('::ffff:10.0.0.1')!), '::ffff:10.0.0.1');
  assert.equal(bytesToIp(ipToBytes('fe80::1:2')!), 'fe80::1:2');
});

test('rejects what is not a literal IP', () => {
  for (const bad of [
    '',
    '1.2.3',
    '1.2.3.256',
    '01.2.3.4',
    'a::b::c',
    '1:2:3:4:5:6:7:8:9',
    'localhost',
    ':::',
    '1::2:3:4:5:6:7:8',
    'g::1',
  ]) {
    assert.equal(ipToBytes(bad), undefined, bad);
  }
});

test('agrees with node:net on random IPv6 bytes', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 16, maxLength: 16 }), (b) => {
      const text = bytesToIp(b);
      assert.equal(isIP(text), 6);
      assert.deepEqual([...ipToBytes(text)!], [...b]);
    }),
    { numRuns: 2000 },
  );
});

test('parses and formats HOST:PORT', () => {
  assert.deepEqual(parseAddress('127.0.0.1:3478'), { address: '127.0.0.1', port: 3478, family: 'IPv4' });
  assert.deepEqual(parseAddress('[::1]:9'), { address: '::1', port: 9, family: 'IPv6' });
  assert.equal(parseAddress('127.0.0.1:65536'), undefined);
  assert.equal(parseAddress('example.com:80'), undefined);
  assert.equal(formatAddress({ address: '::1', port: 9, family: 'IPv6' }), '[::1]:9');
});
