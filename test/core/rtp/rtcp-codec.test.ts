// RTCP SR, RR, SDES, BYE and compound packets (RFC 3550 §6.1, §6.4-§6.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeRtcpCompound, parseRtcpCompound, RtpParseError, type RtcpPacket } from '../../../src/core/rtp/index.ts';

const block = { ssrc: 0xdeadbeef, fractionLost: 64, cumulativeLost: -3, highestSeq: 0x1fffe, jitter: 120, lsr: 0x12345678, dlsr: 65536 };

const compound: RtcpPacket[] = [
  {
    type: 'sr',
    ssrc: 1,
    ntpSeconds: 0xe8000000,
    ntpFraction: 0x80000000,
    rtpTimestamp: 48000,
    packetCount: 50,
    octetCount: 8000,
    reports: [block],
  },
  { type: 'sdes', chunks: [{ ssrc: 1, items: [{ type: 1, text: 'parley@example' }] }] },
  { type: 'bye', ssrcs: [1], reason: 'hangup' },
];

test('RFC 3550 §6.1: SR + SDES(CNAME) + BYE compound round-trips', () => {
  const wire = encodeRtcpCompound(compound);
  assert.equal(wire.length % 4, 0);
  assert.deepEqual(parseRtcpCompound(wire), compound);
});

test('RFC 3550 §6.4.1: SR layout is bit-exact (header, sender info, report block)', () => {
  const wire = encodeRtcpCompound([compound[0]]);
  assert.equal(
    wire.toString('hex'),
    '81c8000c' +
      '00000001' +
      'e8000000' +
      '80000000' +
      '0000bb80' +
      '00000032' +
      '00001f40' +
      'deadbeef' +
      '40' +
      'fffffd' +
      '0001fffe' +
      '00000078' +
      '12345678' +
      '00010000',
  );
});

test('RR with several report blocks, RR with none, BYE without reason, SDES with several chunks and items', () => {
  const pkts: RtcpPacket[] = [
    { type: 'rr', ssrc: 9, reports: [block, { ...block, ssrc: 2, cumulativeLost: 0x7fffff }] },
    { type: 'rr', ssrc: 9, reports: [] },
    {
      type: 'sdes',
      chunks: [
        {
          ssrc: 9,
          items: [
            { type: 1, text: 'abc' },
            { type: 6, text: 'parley ☎' },
          ],
        },
        { ssrc: 10, items: [] },
      ],
    },
    { type: 'bye', ssrcs: [9, 10] },
  ];
  assert.deepEqual(parseRtcpCompound(encodeRtcpCompound(pkts)), pkts);
});

test('reduced-size RTCP (RFC 5506) and unknown types (e.g. RTPFB) are carried, not refused', () => {
  const pkts: RtcpPacket[] = [{ type: 'other', packetType: 205, count: 15, body: Buffer.alloc(12, 1) }];
  assert.deepEqual(parseRtcpCompound(encodeRtcpCompound(pkts)), pkts);
});

test('RFC 3550 A.2: padding is only allowed on the last packet of a compound', () => {
  const rr = encodeRtcpCompound([{ type: 'rr', ssrc: 1, reports: [] }]);
  const padded = Buffer.concat([rr, Buffer.from([0, 0, 0, 4])]);
  padded[0] |= 0x20;
  padded.writeUInt16BE(2, 2);
  assert.deepEqual(parseRtcpCompound(padded), [{ type: 'rr', ssrc: 1, reports: [] }]);
  const r = parseRtcpCompound(Buffer.concat([padded, rr]));
  assert.ok(r instanceof RtpParseError && r.reason === 'bad_compound');
});

test('malformed RTCP gives typed reasons', () => {
  const cases: [string, string][] = [
    ['80c9', 'too_short'],
    ['40c9000000000001', 'bad_version'],
    ['80c90005 00000001', 'bad_length'],
    ['81c90001 00000001', 'bad_rtcp_body'], // RR claims one block that is not there
    ['81c80001 00000001', 'bad_rtcp_body'], // SR without sender info
    ['81ca0001 00000001', 'bad_rtcp_body'], // SDES chunk without end
    ['81ca0002 00000001 0105', 'bad_length'], // length says 12 bytes, 10 present
    ['82cb0001 00000001', 'bad_rtcp_body'], // BYE claims 2 SSRCs
    ['81cb0002 00000001 09616200', 'bad_rtcp_body'], // BYE reason longer than the packet
    ['80c90001 00000001 80', 'bad_length'], // trailing partial header
  ];
  for (const [hex, reason] of cases) {
    const r = parseRtcpCompound(Buffer.from(hex.replace(/ /g, ''), 'hex'));
    assert.ok(r instanceof RtpParseError, hex);
    assert.equal(r.reason, reason, hex);
  }
});

test('property: parsing random and mutated RTCP never throws and never reads past the input', () => {
  const good = encodeRtcpCompound(compound);
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(), fc.integer({ min: 0, max: 255 }), (junk, at, v) => {
      const mutated = Buffer.from(good);
      mutated[at % mutated.length] = v;
      for (const input of [Buffer.from(junk), mutated]) {
        // A view into a larger buffer: anything read past `input` would be the 0xee guard bytes.
        const host = Buffer.alloc(input.length + 64, 0xee);
        input.copy(host);
        const view = host.subarray(0, input.length);
        const r = parseRtcpCompound(view);
        if (r instanceof RtpParseError) continue;
        assertWithin(r, host.byteOffset, host.byteOffset + input.length);
      }
    }),
    { numRuns: 5000 },
  );
});

/** Every Buffer in a parse result is a view inside [start, end) and every number is finite. */
function assertWithin(v: unknown, start: number, end: number): void {
  if (Buffer.isBuffer(v)) {
    assert.ok(v.byteOffset >= start && v.byteOffset + v.length <= end, 'view past the input');
  } else if (typeof v === 'number') {
    assert.ok(Number.isFinite(v));
  } else if (v && typeof v === 'object') {
    for (const x of Object.values(v)) assertWithin(x, start, end);
  }
}
