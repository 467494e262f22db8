// RFC 4571 framing: frames survive any split of the stream into chunks; the deframer holds at
// most one partial frame; oversize and empty frames are errors, never buffered.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Rfc4571Deframer, RFC4571_MAX_FRAME, frameRfc4571 } from '../../../src/core/framing/rfc4571.ts';

const packets = fc.array(fc.uint8Array({ minLength: 1, maxLength: 1500 }), { minLength: 0, maxLength: 20 });

test('frames come back whole and in order whatever the chunk boundaries (property)', () => {
  fc.assert(
    fc.property(packets, fc.array(fc.integer({ min: 1, max: 4000 }), { minLength: 1, maxLength: 50 }), (pkts, cuts) => {
      const stream = Buffer.concat(pkts.map((p) => frameRfc4571(Buffer.from(p))));
      const d = new Rfc4571Deframer(1500);
      const got: Buffer[] = [];
      let at = 0;
      let k = 0;
      while (at < stream.length) {
        const n = cuts[k++ % cuts.length];
        const r = d.push(stream.subarray(at, at + n));
        assert.ok('frames' in r);
        got.push(...r.frames);
        at += n;
        assert.ok(d.buffered <= 2 + 1500);
      }
      assert.equal(d.buffered, 0);
      assert.deepEqual(
        got.map((b) => b.toString('hex')),
        pkts.map((p) => Buffer.from(p).toString('hex')),
      );
    }),
  );
});

test('one byte at a time: the length prefix itself may be split', () => {
  const d = new Rfc4571Deframer(100);
  const stream = Buffer.concat([frameRfc4571(Buffer.from('abc')), frameRfc4571(Buffer.from('de'))]);
  const got: string[] = [];
  for (const b of stream) {
    const r = d.push(Buffer.from([b]));
    assert.ok('frames' in r);
    got.push(...r.frames.map((f) => f.toString()));
  }
  assert.deepEqual(got, ['abc', 'de']);
});

test('a frame longer than the limit is an error as soon as its length is read; nothing of it is held', () => {
  const d = new Rfc4571Deframer(1500);
  const r = d.push(Buffer.from([0x05, 0xdd])); // 1501
  assert.deepEqual(r, { error: 'frame_too_large' });
  assert.ok('frames' in new Rfc4571Deframer(1500).push(Buffer.from([0x05, 0xdc, 1])), 'a 1500-byte frame is within the limit');
});

test('a zero-length frame is an error (no STUN, DTLS, RTP or RTCP packet is empty)', () => {
  const d = new Rfc4571Deframer(1500);
  assert.deepEqual(d.push(Buffer.from([0, 0, 0, 1, 7])), { error: 'empty_frame' });
});

test("frames returned are the caller's own (not views of the chunk)", () => {
  const d = new Rfc4571Deframer(10);
  const chunk = frameRfc4571(Buffer.from('hello'));
  const r = d.push(chunk);
  assert.ok('frames' in r);
  chunk.fill(0);
  assert.equal(r.frames[0].toString(), 'hello');
});

test('the framer refuses empty and oversize packets', () => {
  assert.throws(() => frameRfc4571(Buffer.alloc(0)), RangeError);
  assert.throws(() => frameRfc4571(Buffer.alloc(RFC4571_MAX_FRAME + 1)), RangeError);
  assert.equal(frameRfc4571(Buffer.alloc(RFC4571_MAX_FRAME)).readUInt16BE(0), RFC4571_MAX_FRAME);
  assert.throws(() => new Rfc4571Deframer(0), RangeError);
  assert.throws(() => new Rfc4571Deframer(RFC4571_MAX_FRAME + 1), RangeError);
});
