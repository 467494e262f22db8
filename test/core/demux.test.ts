// RFC 7983 / RFC 9443 first-byte demultiplexing, checked over every byte value, and the
// RFC 5761 §4 RTP/RTCP split.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { classify, classifyPacket, isRtcp, type PacketKind } from '../../src/core/demux.ts';

/** The RFC 9443 §3 table, written independently of the implementation as explicit ranges. */
const TABLE: Array<[number, number, PacketKind]> = [
  [0, 3, 'stun'],
  [16, 19, 'zrtp'],
  [20, 63, 'dtls'],
  [64, 79, 'turn-channel'],
  [80, 127, 'quic'],
  [128, 191, 'rtp'],
  [192, 255, 'quic'],
];

test('RFC 7983 §7 / RFC 9443 §3: every first byte 0..255 maps to the table, the rest is unknown', () => {
  const counts = new Map<PacketKind, number>();
  for (let b = 0; b <= 255; b++) {
    const row = TABLE.find(([lo, hi]) => b >= lo && b <= hi);
    const kind = classify(b);
    assert.equal(kind, row ? row[2] : 'unknown', `byte ${b}`);
    counts.set(kind, (counts.get(kind) ?? 0) + 1);
  }
  assert.deepEqual(Object.fromEntries(counts), { stun: 4, unknown: 12, zrtp: 4, dtls: 44, 'turn-channel': 16, quic: 48 + 64, rtp: 64 });
});

test('boundaries: 3/4, 15/16, 19/20, 63/64, 79/80, 127/128, 191/192, 255', () => {
  assert.deepEqual([3, 4, 15, 16, 19, 20, 63, 64, 79, 80, 127, 128, 191, 192, 255].map(classify), [
    'stun',
    'unknown',
    'unknown',
    'zrtp',
    'zrtp',
    'dtls',
    'dtls',
    'turn-channel',
    'turn-channel',
    'quic',
    'quic',
    'rtp',
    'rtp',
    'quic',
    'quic',
  ]);
});

test('values that are not a byte are unknown', () => {
  for (const v of [-1, 256, 1.5, NaN, Infinity]) assert.equal(classify(v), 'unknown');
});

test('classifyPacket uses the first byte; an empty datagram is unknown', () => {
  assert.equal(classifyPacket(Buffer.alloc(0)), 'unknown');
  assert.equal(classifyPacket(Buffer.from([0x00, 0x01])), 'stun');
  assert.equal(classifyPacket(Buffer.from([22, 0xfe, 0xfd])), 'dtls'); // DTLS 1.2 handshake
  assert.equal(classifyPacket(Buffer.from([0x80, 111])), 'rtp'); // RTP, Opus PT 111
  assert.equal(classifyPacket(Buffer.from([0xc3, 0, 0, 0, 1])), 'quic'); // QUIC v1 Initial
});

test('RFC 5761 §4: second byte 192..223 is RTCP, everything else RTP', () => {
  for (let b1 = 0; b1 <= 255; b1++) {
    assert.equal(isRtcp(Buffer.from([0x80, b1])), b1 >= 192 && b1 <= 223, `second byte ${b1}`);
  }
  assert.equal(isRtcp(Buffer.from([0x81, 200, 0, 6])), true, 'SR with RC=1');
  assert.equal(isRtcp(Buffer.from([0x80, 111 | 0x80])), false, 'RTP Opus with marker bit (239)');
});

test('isRtcp needs two bytes and RTP version 2', () => {
  assert.equal(isRtcp(Buffer.from([0x80])), false);
  assert.equal(isRtcp(Buffer.alloc(0)), false);
  assert.equal(isRtcp(Buffer.from([0x40, 200])), false);
  assert.equal(isRtcp(Buffer.from([0xc0, 200])), false);
});
