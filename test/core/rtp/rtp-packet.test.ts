// RTP header codec (RFC 3550 §5.1, §5.3.1) and RFC 8285 extension elements.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import {
  encodeExtensionElements,
  encodeRtp,
  parseExtensionElements,
  parseRtp,
  rtpHeaderLength,
  RtpParseError,
  type RtpPacket,
} from '../../../src/core/rtp/index.ts';

const ok = (r: RtpPacket | RtpParseError): RtpPacket => {
  assert.ok(!(r instanceof RtpParseError), r instanceof RtpParseError ? r.reason : '');
  return r as RtpPacket;
};

test('RFC 3550 §5.1: decodes every fixed-header field of a hand-built packet', () => {
  const b = Buffer.from('80e0fffe12345678cafebabe010203', 'hex');
  const p = ok(parseRtp(b));
  assert.deepEqual(p.header, {
    marker: true,
    payloadType: 96,
    sequenceNumber: 0xfffe,
    timestamp: 0x12345678,
    ssrc: 0xcafebabe,
    csrcs: [],
    extension: undefined,
  });
  assert.deepEqual([...p.payload], [1, 2, 3]);
  assert.equal(p.paddingLength, 0);
});

test('round trip with CSRCs, one-byte extension elements and padding', () => {
  const extension = encodeExtensionElements([
    { id: 1, data: Buffer.from([0x80 | 0x2a]) },
    { id: 3, data: Buffer.from([1, 2, 3]) },
  ]);
  assert.equal(extension.profile, 0xbede);
  const wire = encodeRtp({
    header: { marker: false, payloadType: 111, sequenceNumber: 7, timestamp: 960, ssrc: 1, csrcs: [2, 3], extension },
    payload: Buffer.from('opus'),
    paddingLength: 3,
  });
  assert.equal(wire[0], 0x80 | 0x20 | 0x10 | 2);
  assert.equal(rtpHeaderLength(wire), 12 + 8 + 4 + 8);
  const p = ok(parseRtp(wire));
  assert.deepEqual(p.header.csrcs, [2, 3]);
  assert.equal(p.payload.toString(), 'opus');
  assert.equal(p.paddingLength, 3);
  const els = parseExtensionElements(p.header.extension!);
  assert.deepEqual(els, [
    { id: 1, data: Buffer.from([0xaa]) },
    { id: 3, data: Buffer.from([1, 2, 3]) },
  ]);
  assert.deepEqual(encodeRtp({ header: p.header, payload: p.payload, paddingLength: 3 }), wire);
});

test('RFC 8285 §4.3: two-byte form for ids over 14, empty or long elements, with appbits', () => {
  const ext = encodeExtensionElements(
    [
      { id: 200, data: Buffer.alloc(0) },
      { id: 2, data: Buffer.alloc(40, 9) },
    ],
    5,
  );
  assert.equal(ext.profile, 0x1005);
  assert.deepEqual(parseExtensionElements(ext), [
    { id: 200, data: Buffer.alloc(0) },
    { id: 2, data: Buffer.alloc(40, 9) },
  ]);
});

test('RFC 8285 §4.2: one-byte padding bytes are skipped and id 15 stops parsing', () => {
  const ext = { profile: 0xbede, data: Buffer.from([0x00, 0x10, 0xaa, 0x00, 0xf0, 0x21, 1, 2, 0]) };
  assert.deepEqual(parseExtensionElements(ext), [{ id: 1, data: Buffer.from([0xaa]) }]);
  assert.equal(parseExtensionElements({ profile: 0x1234, data: Buffer.alloc(4) }), undefined);
  const bad = parseExtensionElements({ profile: 0xbede, data: Buffer.from([0x13, 1, 2, 0]) });
  assert.ok(bad instanceof RtpParseError && bad.reason === 'bad_extension');
  const bad2 = parseExtensionElements({ profile: 0x1000, data: Buffer.from([5, 9, 1, 2]) });
  assert.ok(bad2 instanceof RtpParseError && bad2.reason === 'bad_extension');
});

test('malformed headers give typed reasons', () => {
  const cases: [string, string][] = [
    ['8000', 'too_short'],
    ['400000000000000000000000', 'bad_version'],
    ['820000000000000000000000 00000001', 'bad_csrc'],
    ['900000000000000000000000 bede', 'bad_extension'],
    ['900000000000000000000000 bede0002 00000000', 'bad_extension'],
    ['a00000000000000000000000 0000', 'bad_padding'],
    ['a00000000000000000000000 0005', 'bad_padding'],
    ['a00000000000000000000000', 'bad_padding'],
  ];
  for (const [hex, reason] of cases) {
    const r = parseRtp(Buffer.from(hex.replace(/ /g, ''), 'hex'));
    assert.ok(r instanceof RtpParseError, hex);
    assert.equal(r.reason, reason, hex);
    assert.equal(r.code, `ERR_RTP_${reason.toUpperCase()}`);
  }
});

test('property: parse is total on random bytes and agrees with rtpHeaderLength', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 80 }), (u) => {
      const b = Buffer.from(u);
      if (b.length > 0) b[0] = (b[0] & 0x3f) | 0x80; // mostly version 2, to reach the deeper paths
      const r = parseRtp(b);
      const h = rtpHeaderLength(b);
      if (r instanceof RtpParseError) return;
      assert.ok(h >= 12 && h <= b.length);
      assert.equal(r.payload.byteOffset - b.byteOffset, h);
      assert.ok(r.payload.byteOffset + r.payload.length + r.paddingLength - b.byteOffset === b.length);
      if (r.header.extension) {
        const e = parseExtensionElements(r.header.extension);
        if (Array.isArray(e)) for (const el of e) assert.ok(el.data.byteOffset + el.data.length <= b.byteOffset + b.length);
      }
    }),
    { numRuns: 5000 },
  );
});

test('property: encode → parse round-trips arbitrary headers', () => {
  const arb = fc.record({
    marker: fc.boolean(),
    payloadType: fc.integer({ min: 0, max: 127 }),
    sequenceNumber: fc.integer({ min: 0, max: 0xffff }),
    timestamp: fc.integer({ min: 0, max: 0xffffffff }),
    ssrc: fc.integer({ min: 0, max: 0xffffffff }),
    csrcs: fc.array(fc.integer({ min: 0, max: 0xffffffff }), { maxLength: 15 }),
    els: fc.option(
      fc.uniqueArray(fc.record({ id: fc.integer({ min: 1, max: 255 }), data: fc.uint8Array({ maxLength: 20 }) }), {
        selector: (e) => e.id,
        maxLength: 5,
      }),
    ),
    payload: fc.uint8Array({ maxLength: 200 }),
    pad: fc.integer({ min: 0, max: 255 }),
  });
  fc.assert(
    fc.property(arb, (a) => {
      const elements = a.els?.map((e) => ({ id: e.id, data: Buffer.from(e.data) }));
      const extension = elements ? encodeExtensionElements(elements) : undefined;
      const header = {
        marker: a.marker,
        payloadType: a.payloadType,
        sequenceNumber: a.sequenceNumber,
        timestamp: a.timestamp,
        ssrc: a.ssrc,
        csrcs: a.csrcs,
        extension,
      };
      const p = ok(parseRtp(encodeRtp({ header, payload: a.payload, paddingLength: a.pad })));
      assert.deepEqual({ ...p.header, extension: undefined }, { ...header, extension: undefined });
      assert.deepEqual([...p.payload], [...a.payload]);
      assert.equal(p.paddingLength, a.pad);
      if (elements) assert.deepEqual(parseExtensionElements(p.header.extension!), elements);
    }),
    { numRuns: 1000 },
  );
});
