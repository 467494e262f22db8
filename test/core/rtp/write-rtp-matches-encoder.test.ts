// writeRtp (the send path's fixed-header writer) produces exactly what the general RTP encoder
// in src/core/rtp produces for the same fields, and what parseRtp reads back (RFC 3550 §5.1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRtp, parseRtp, writeRtp } from '../../../src/core/rtp/index.ts';
import { seededRng } from '../../../src/core/rng.ts';

test('writeRtp equals encodeRtp for random headers and payloads, and parses back', () => {
  const rng = seededRng('write-rtp');
  for (let i = 0; i < 500; i++) {
    const r = rng.bytes(12);
    const marker = (r[0] & 1) === 1;
    const payloadType = r[1] & 0x7f;
    const seq = r.readUInt16BE(2);
    const timestamp = r.readUInt32BE(4);
    const ssrc = r.readUInt32BE(8);
    const payload = rng.bytes(r[0] % 200);
    const ours = writeRtp(marker, payloadType, seq, timestamp, ssrc, payload);
    assert.deepEqual(ours, encodeRtp({ header: { marker, payloadType, sequenceNumber: seq, timestamp, ssrc, csrcs: [] }, payload }));
    const back = parseRtp(ours);
    assert.ok('header' in back);
    assert.equal(back.header.sequenceNumber, seq);
    assert.equal(back.header.timestamp, timestamp);
    assert.equal(back.header.ssrc, ssrc);
    assert.deepEqual(Buffer.from(back.payload), payload);
  }
});
