// RFC 4733 key presses out of the peer's RTP sender: one packet per 20 ms slot with the event's
// start timestamp (§2.5.1.2: the marker bit on the first), the duration so far growing by one
// frame (960 ticks), the final duration sent 3 times with E set (§2.5.1.4), a 60 ms pause before
// the next key; durationMs sets the tone length; the audio timeline goes on after the keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { parseRtp } from '../../../src/core/rtp/rtp-packet.ts';
import type { RtpPacket } from '../../../src/core/rtp/rtp-packet.ts';
import { parseTelephoneEvent } from '../../../src/core/rtp/index.ts';
import { DTMF_MAX_QUEUED, RtpSender } from '../../../src/core/peer/index.ts';

const OPUS = 111;
const TE = 101;

function drive(a: RtpSender, until: number): { at: number; p: RtpPacket }[] {
  const out: { at: number; p: RtpPacket }[] = [];
  for (let due = a.due(); due !== undefined && due <= until; due = a.due()) {
    const pkt = a.tick(due);
    if (!pkt) continue;
    const p = parseRtp(pkt);
    assert.ok('header' in p);
    out.push({ at: due, p });
  }
  return out;
}

for (const [durationMs, toneSlots] of [
  [undefined, 5],
  [60, 3],
  [400, 20],
] as const) {
  test(`a key press of ${durationMs ?? 'the default 100'} ms: ${toneSlots} tone packets, the last sent 3 times with E, one timestamp, marker first`, () => {
    const a = new RtpSender({ ssrc: 1, payloadType: OPUS, rng: seededRng(7) });
    assert.equal(a.queueDtmf('5#', TE, 0, durationMs), true);
    const te = drive(a, 5000).filter((s) => s.p.header.payloadType === TE);
    const byTs = Map.groupBy(te, (s) => s.p.header.timestamp);
    assert.equal(byTs.size, 2, 'one timestamp per press');
    const presses = [...byTs.values()];
    for (const [i, press] of presses.entries()) {
      const events = press.map((s) => parseTelephoneEvent(s.p.payload)!);
      assert.equal(press.length, toneSlots + 2);
      assert.deepEqual(
        events.map((e) => e.event),
        press.map(() => (i === 0 ? 5 : 11)),
      );
      assert.deepEqual(
        press.map((s) => s.p.header.marker),
        press.map((_, j) => j === 0),
      );
      assert.deepEqual(
        events.map((e) => e.duration),
        press.map((_, j) => Math.min(j + 1, toneSlots) * 960),
      );
      assert.deepEqual(
        events.map((e) => e.end),
        press.map((_, j) => j >= toneSlots - 1),
      );
      // One packet per 20 ms slot, sequence numbers consecutive.
      assert.ok(
        press.every(
          (s, j) =>
            j === 0 ||
            (s.at - press[j - 1].at === 20 && s.p.header.sequenceNumber === ((press[j - 1].p.header.sequenceNumber + 1) & 0xffff)),
        ),
      );
    }
    // The second press starts after the first's packets and a 60 ms pause (3 silent slots).
    const gap = presses[1][0].at - presses[0].at(-1)!.at;
    assert.equal(gap, 80);
  });
}

test('audio queued behind key presses goes on after them, and the presses past the bound are refused', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: OPUS, rng: seededRng(8) });
  assert.equal(a.queueDtmf('1', TE, 0), true);
  for (let i = 0; i < 20; i++) a.enqueue(Buffer.from([i]), 0);
  const sent = drive(a, 2000);
  const types = sent.map((s) => s.p.header.payloadType);
  assert.equal(types.filter((t) => t === TE).length, 7);
  assert.ok(types.lastIndexOf(TE) < types.indexOf(OPUS), 'audio after the key');
  assert.equal(a.queueDtmf('1'.repeat(DTMF_MAX_QUEUED), TE, 3000), true);
  assert.equal(a.queueDtmf('2', TE, 3000), false);
  assert.equal(a.dtmfQueued, DTMF_MAX_QUEUED);
});
