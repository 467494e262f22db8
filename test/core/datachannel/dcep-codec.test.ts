// RFC 8832 §5 message formats: DATA_CHANNEL_OPEN round-trips every channel type with UTF-8
// labels and protocols; the ACK is one byte; decodeDcep is total on arbitrary bytes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { decodeDcep, encodeAck, encodeOpen } from '../../../src/core/datachannel/index.ts';

test('DATA_CHANNEL_OPEN round-trips reliable, partial-by-count and partial-by-time, ordered or not', () => {
  const cases = [
    { ordered: true, priority: 256, label: 'oai-events', protocol: '' },
    { ordered: false, priority: 128, label: 'ünïcødé ✓', protocol: 'json', maxRetransmits: 0 },
    { ordered: true, priority: 512, label: '', protocol: 'p', maxPacketLifeTime: 150 },
  ];
  for (const c of cases) assert.deepEqual(decodeDcep(encodeOpen(c)), { type: 'open', ...c });
  // RFC 8832 §5.1: type 0x81 = PARTIAL_RELIABLE_REXMIT_UNORDERED, reliability parameter in bytes 4..8.
  const wire = encodeOpen(cases[1]);
  assert.equal(wire[0], 0x03);
  assert.equal(wire[1], 0x81);
  assert.deepEqual(decodeDcep(encodeAck()), { type: 'ack' });
});

test('decodeDcep never throws and refuses lengths that do not add up', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 64 }), (u) => {
      const r = decodeDcep(Buffer.from(u));
      if (r?.type === 'open') assert.equal(12 + Buffer.byteLength(r.label) + Buffer.byteLength(r.protocol) <= u.length, true);
    }),
    { numRuns: 5000, seed: 8832 },
  );
  const open = encodeOpen({ ordered: true, priority: 0, label: 'abc', protocol: 'de' });
  assert.equal(decodeDcep(open.subarray(0, open.length - 1)), undefined);
  assert.equal(decodeDcep(Buffer.concat([open, Buffer.from([0])])), undefined);
});
