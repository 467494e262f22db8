// CRC32c known answers (RFC 3720 Appendix B.4, the vectors RFC 9260 Appendix A points to, and
// the CRC catalogue's "123456789" check value), and the packet codec: what we build parses back,
// one flipped bit fails the checksum, and parsePacket is total on truncations.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { crc32c } from '../../../src/core/sctp/crc32c.ts';
import { decodeForwardTsn, decodeInit, decodeSack, encodeForwardTsn, encodeInit, encodeSack } from '../../../src/core/sctp/chunks.ts';
import { ChunkType, PacketBuilder, parsePacket } from '../../../src/core/sctp/packet.ts';

test('CRC32c: RFC 3720 B.4 vectors', () => {
  const seq = (n: number, f: (i: number) => number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => f(i)));
  // RFC 3720 lists the CRC bytes as they go on the wire (least significant first).
  const wire = (hex: string): number => Buffer.from(hex.replaceAll(' ', ''), 'hex').readUInt32LE(0);
  assert.equal(crc32c(Buffer.alloc(32, 0)), wire('aa 36 91 8a'));
  assert.equal(crc32c(Buffer.alloc(32, 0xff)), wire('43 ab a8 62'));
  assert.equal(crc32c(seq(32, (i) => i)), wire('4e 79 dd 46'));
  assert.equal(crc32c(seq(32, (i) => 31 - i)), wire('5c db 3f 11'));
  const iscsiRead = Buffer.from(
    '01c00000000000000000000000000000' + '14000000000004000000001400000018' + '28000000000000000200000000000000',
    'hex',
  );
  assert.equal(crc32c(iscsiRead), wire('56 3a 96 d9'));
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
});

test('CRC32c: slice-by-16 agrees with the bytewise definition at every length and offset', () => {
  const bitwise = (b: Buffer): number => {
    let c = 0xffffffff;
    for (const x of b) {
      c ^= x;
      for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
    }
    return ~c >>> 0;
  };
  const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 131 + 7) & 0xff));
  for (let start = 0; start < 17; start++) {
    for (let end = start; end < data.length; end += 7) assert.equal(crc32c(data, start, end), bitwise(data.subarray(start, end)));
  }
});

test('a packet we build parses back; one flipped bit is a bad checksum; truncations are malformed, never a throw', () => {
  const b = new PacketBuilder(1200);
  b.addData(0x03, 42, 1, 0, 51, Buffer.from('hello'));
  b.add(ChunkType.sack, 0, encodeSack({ cumTsn: 7, aRwnd: 1000, gaps: [[2, 3]], duplicates: [5] }));
  const pkt = b.finish(5000, 5000, 0xdeadbeef)!;
  const p = parsePacket(pkt);
  assert.ok(typeof p !== 'string');
  assert.equal(p.verificationTag, 0xdeadbeef);
  assert.deepEqual(
    p.chunks.map((c) => c.type),
    [ChunkType.data, ChunkType.sack],
  );
  assert.deepEqual(decodeSack(p.chunks[1].value), { cumTsn: 7, aRwnd: 1000, gaps: [[2, 3]], duplicates: [5] });
  for (let bit = 0; bit < pkt.length * 8; bit += 13) {
    const bad = Buffer.from(pkt);
    bad[bit >> 3] ^= 1 << (bit & 7);
    assert.equal(parsePacket(bad), 'bad_checksum');
  }
  for (let n = 0; n < pkt.length; n++) assert.equal(typeof parsePacket(pkt.subarray(0, n)), 'string');
});

test('chunk codecs round-trip and refuse malformed values', () => {
  const init = {
    initiateTag: 1,
    aRwnd: 2,
    outboundStreams: 3,
    inboundStreams: 4,
    initialTsn: 5,
    cookie: Buffer.from('cookie!'),
    forwardTsn: true,
    reconfig: true,
  };
  assert.deepEqual(decodeInit(encodeInit(init)), init);
  assert.equal(decodeInit(Buffer.alloc(15)), undefined);
  // usrsctp (Firefox) puts Supported Address Types (12) before Supported Extensions: still read.
  const { cookie: _cookie, ...bare } = init;
  const withAddrTypes = Buffer.concat([
    encodeInit({ ...bare, forwardTsn: false, reconfig: false }).subarray(0, 16),
    Buffer.from('000c00060005' + '0000', 'hex'),
    Buffer.from('800800068200' + '0000', 'hex'),
  ]);
  assert.deepEqual(decodeInit(withAddrTypes), { ...bare, forwardTsn: false, reconfig: true });
  const f = { newCumTsn: 99, streams: [{ streamId: 2, ssn: 7 }] };
  assert.deepEqual(decodeForwardTsn(encodeForwardTsn(f)), f);
  assert.equal(decodeForwardTsn(Buffer.alloc(6)), undefined);
  const sack = encodeSack({
    cumTsn: 1,
    aRwnd: 1,
    gaps: [
      [3, 4],
      [2, 2],
    ],
    duplicates: [],
  });
  assert.equal(decodeSack(sack), undefined, 'gap blocks out of order are refused');
  assert.equal(decodeSack(sack.subarray(0, 14)), undefined, 'counts that overrun are refused');
});
