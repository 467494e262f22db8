// The relay ⇄ transceiver header (docs/wire-format.md): layout, round trip, total decoding, and
// the one client key both processes compute from it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientKeyOfAddress, clientKeyOfHeader } from '../../src/contracts/client-key.ts';
import {
  RELAY_HEADER_LENGTH,
  decodeRelayHeader,
  encodeRelayHeader,
  isRelayHeader,
  isTcpRelayHeader,
} from '../../src/contracts/relay-header.ts';

const v4 = { address: '203.0.113.7', port: 50000, family: 'IPv4' as const };
const v6 = { address: '2001:db8::1', port: 3478, family: 'IPv6' as const };

test('IPv4 client on an IPv6 public address: exact bytes and round trip', () => {
  const h = encodeRelayHeader(v4, v6);
  assert.equal(h.length, RELAY_HEADER_LENGTH);
  assert.equal(h.subarray(0, 8).toString('hex'), '50520102c350' + '0d96');
  assert.equal(h.subarray(8, 24).toString('hex'), 'cb007107' + '00'.repeat(12));
  assert.equal(h.subarray(24, 40).toString('hex'), '20010db8' + '00'.repeat(11) + '01');
  assert.deepEqual(decodeRelayHeader(h), { client: v4, public: v6, transport: 'udp' });
  assert.deepEqual(decodeRelayHeader(encodeRelayHeader(v6, v4)), { client: v6, public: v4, transport: 'udp' });
});

test('decoding is total: short, wrong magic, version, flags or dirty IPv4 padding are rejected', () => {
  const h = encodeRelayHeader(v4, v4);
  assert.equal(decodeRelayHeader(h.subarray(0, 39)), undefined);
  for (const [i, v] of [
    [0, 0x51],
    [2, 2],
    [3, 4],
    [20, 1],
  ] as const) {
    const bad = Buffer.from(h);
    bad[i] = v;
    assert.equal(decodeRelayHeader(bad), undefined, `byte ${i}`);
  }
  for (let n = 0; n < 2000; n++) {
    const junk = Buffer.from(Array.from({ length: n % 64 }, (_, i) => (i * 37 + n) & 0xff));
    decodeRelayHeader(junk);
  }
  assert.equal(isRelayHeader(Buffer.concat([h, Buffer.from('payload')])), true);
});

test('one client key from header bytes and from an address; distinct clients, distinct keys', () => {
  const clients = [
    v4,
    v6,
    { ...v4, port: 50001 },
    { ...v6, port: 3479 },
    { address: '0.0.0.1', port: 0, family: 'IPv4' as const },
    { address: '::', port: 0, family: 'IPv6' as const },
  ];
  const keys = clients.map((c) => {
    const fromHeader = clientKeyOfHeader(encodeRelayHeader(c, v6));
    assert.equal(clientKeyOfHeader(encodeRelayHeader(c, v4)), fromHeader, 'the public address is not part of the key');
    assert.equal(clientKeyOfAddress(c), fromHeader, `${c.address}:${c.port}`);
    return fromHeader;
  });
  assert.equal(new Set(keys).size, clients.length);
  assert.equal(typeof keys[0], 'number', 'IPv4: a number, no string per datagram');
  assert.equal(clientKeyOfAddress({ address: 'relay.example', port: 1, family: 'IPv4' }), undefined);
});

test("version 2 is version 1 plus the TCP bit: a TCP client's header, and only that, is version 2", () => {
  const h = encodeRelayHeader(v4, v6, 'tcp');
  assert.equal(h.subarray(0, 4).toString('hex'), '50520206', 'version 2, flags: public IPv6 + TCP');
  assert.deepEqual(decodeRelayHeader(h), { client: v4, public: v6, transport: 'tcp' });
  assert.equal(isTcpRelayHeader(h), true);
  assert.equal(isTcpRelayHeader(encodeRelayHeader(v4, v6)), false);
  assert.equal(encodeRelayHeader(v4, v4)[2], 1, 'UDP stays version 1');
  const v1WithTcpBit = Buffer.from(encodeRelayHeader(v4, v4));
  v1WithTcpBit[3] |= 4;
  assert.equal(isRelayHeader(v1WithTcpBit), false, 'version 1 knows no TCP bit');
  const v2WithoutTcpBit = Buffer.from(h);
  v2WithoutTcpBit[3] &= ~4;
  assert.equal(isRelayHeader(v2WithoutTcpBit), false, 'version 2 is only for TCP clients');
  const unknownBit = Buffer.from(h);
  unknownBit[3] |= 8;
  assert.equal(isRelayHeader(unknownBit), false);
});

test('a TCP client is another client than the same address over UDP, with one key from header and address', () => {
  for (const c of [v4, v6, { address: '0.0.0.0', port: 0, family: 'IPv4' as const }]) {
    const udp = clientKeyOfHeader(encodeRelayHeader(c, v4));
    const tcp = clientKeyOfHeader(encodeRelayHeader(c, v4, 'tcp'));
    assert.notEqual(tcp, udp, `${c.address}:${c.port}`);
    assert.equal(clientKeyOfAddress(c, 'tcp'), tcp);
    assert.equal(typeof tcp, typeof udp, 'IPv4 TCP keys are numbers too');
  }
});
