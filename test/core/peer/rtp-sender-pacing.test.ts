// The peer's outbound pacing and RTP stamping (RFC 3550 §5.1, RFC 7587 §4.2): one frame per
// 20 ms, seq +1, timestamp +960, marker on the first frame and after silence, oldest frame
// dropped when full; a source is asked once per slot and told of slots skipped after a stall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { parseRtp } from '../../../src/core/rtp/rtp-packet.ts';
import type { RtpPacket } from '../../../src/core/rtp/rtp-packet.ts';
import { RtpSender } from '../../../src/core/peer/index.ts';
import type { AudioSource } from '../../../src/core/peer/index.ts';

function rtp(buf: Buffer | undefined): RtpPacket {
  assert.ok(buf);
  const p = parseRtp(buf);
  assert.ok('header' in p);
  return p;
}

/** Runs the pacing loop like the endpoint would: fire at due(), collect what is sent. */
function drive(a: RtpSender, until: number): { at: number; p: RtpPacket }[] {
  const out: { at: number; p: RtpPacket }[] = [];
  for (let due = a.due(); due !== undefined && due <= until; due = a.due()) {
    const pkt = a.tick(due);
    if (pkt) out.push({ at: due, p: rtp(pkt) });
  }
  return out;
}

test('a burst of 5 frames goes out one per 20 ms, seq +1, ts +960, marker only on the first', () => {
  const a = new RtpSender({ ssrc: 0xdeadbeef, payloadType: 111, rng: seededRng(1) });
  for (let i = 0; i < 5; i++) a.enqueue(Buffer.from([i]), 1000);
  const sent = drive(a, 2000);
  assert.deepEqual(
    sent.map((s) => s.at),
    [1000, 1020, 1040, 1060, 1080],
  );
  assert.deepEqual(
    sent.map((s) => s.p.header.marker),
    [true, false, false, false, false],
  );
  for (let i = 1; i < 5; i++) {
    assert.equal(sent[i].p.header.sequenceNumber, (sent[i - 1].p.header.sequenceNumber + 1) & 0xffff);
    assert.equal(sent[i].p.header.timestamp, (sent[i - 1].p.header.timestamp + 960) >>> 0);
  }
  assert.equal(sent[0].p.header.ssrc, 0xdeadbeef);
  assert.equal(sent[0].p.header.payloadType, 111);
  assert.deepEqual(
    sent.map((s) => s.p.payload[0]),
    [0, 1, 2, 3, 4],
  );
  assert.equal(a.due(), undefined, 'idle when the queue is empty');
  assert.equal(a.packetsSent, 5);
  assert.equal(a.octetsSent, 5);
});

test('after 1 s of silence: marker set, timestamp advanced by the elapsed frames, seq +1', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(2) });
  a.enqueue(Buffer.from([1]), 0);
  const [first] = drive(a, 0);
  a.enqueue(Buffer.from([2]), 1000);
  const [second] = drive(a, 1000);
  assert.equal(second.p.header.marker, true);
  assert.equal(second.p.header.timestamp, (first.p.header.timestamp + 50 * 960) >>> 0);
  assert.equal(second.p.header.sequenceNumber, (first.p.header.sequenceNumber + 1) & 0xffff);
});

test('frames queued faster than real time wait for their slot (echo at 50 packets/s stays paced)', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(3) });
  a.enqueue(Buffer.from([1]), 0);
  drive(a, 0);
  a.enqueue(Buffer.from([2]), 5);
  assert.equal(a.due(), 20, 'not before the next 20 ms slot');
});

test('an idle stream keeps its grid: frames that come late (one, or three at once after a stall) go at once on their own slots, and the next on time', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(30) });
  a.enqueue(Buffer.from([0]), 0);
  const [first] = drive(a, 0);
  // 12 ms late: its slot stays 20, so the frame after it, on time at 40, is due at once.
  a.enqueue(Buffer.from([1]), 32);
  assert.equal(a.due(), 20);
  const late = a.tick(32);
  a.enqueue(Buffer.from([2]), 40);
  assert.equal(a.due(), 40, 'the grid did not move to the late frame');
  a.tick(40);
  // Three frames handled together 45 ms after their first slot (an event loop that stalled).
  for (const b of [3, 4, 5]) a.enqueue(Buffer.from([b]), 105);
  const burst = [];
  for (let due = a.due(); due !== undefined && due <= 105; due = a.due()) burst.push(rtp(a.tick(105)));
  assert.equal(burst.length, 3, 'no frame of the stall waits behind another');
  assert.equal(burst[2].header.timestamp, (rtp(late).header.timestamp + 4 * 960) >>> 0, 'on slots 60, 80, 100: no gap, no marker');
  assert.ok(burst.every((p) => !p.header.marker));
  a.enqueue(Buffer.from([6]), 120);
  assert.equal(a.due(), 120);
  assert.equal(first.p.header.marker, true);
});

test('the queue holds about a second; the oldest frame is dropped and counted', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(4), maxQueueFrames: 3 });
  for (let i = 0; i < 5; i++) a.enqueue(Buffer.from([i]), 0);
  assert.equal(a.dropped, 2);
  assert.deepEqual(
    drive(a, 100).map((s) => s.p.payload[0]),
    [2, 3, 4],
  );
});

test('with a pull source the 20 ms clock keeps running; gaps in what it returns set the marker', () => {
  let n = 0;
  const source: AudioSource = { pull: () => (n++ === 3 ? undefined : Buffer.from([n])) };
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(5), source });
  a.start(0);
  const sent = drive(a, 100);
  assert.deepEqual(
    sent.map((s) => s.at),
    [0, 20, 40, 80, 100],
  );
  assert.deepEqual(
    sent.map((s) => s.p.header.marker),
    [true, false, false, true, false],
  );
  assert.equal(sent[3].p.header.timestamp, (sent[2].p.header.timestamp + 2 * 960) >>> 0);
  assert.equal(a.due(), 120);
});

test('a timer that fires late keeps the media timeline (slots, not firing times) and catches up', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(6) });
  for (let i = 0; i < 3; i++) a.enqueue(Buffer.from([i]), 0);
  const p0 = rtp(a.tick(0));
  const p1 = rtp(a.tick(35)); // slot 20, fired 15 ms late
  assert.equal(p1.header.timestamp, (p0.header.timestamp + 960) >>> 0);
  assert.equal(p1.header.marker, false);
  assert.equal(a.due(), 40);
});

test('a stalled clock skips the missed slots: the source is told, nothing bursts, time jumps with the marker, seq +1', () => {
  const frames = [Buffer.from([0]), Buffer.from([1]), Buffer.from([2])];
  let i = 0;
  let skipped = 0;
  const source: AudioSource = {
    pull: () => frames[i++],
    skip: (n) => {
      skipped += n;
    },
    get done() {
      return i >= frames.length;
    },
  };
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(7), source, maxLagMs: 500 });
  a.start(0);
  const p0 = rtp(a.tick(0));
  assert.equal(a.due(), 20);
  // 40 ms late is within maxLag: the slot is kept (one frame, no gap).
  const p1 = rtp(a.tick(60));
  assert.equal(p1.header.timestamp, (p0.header.timestamp + 960) >>> 0);
  // The slot at 40 fired at 1050: the 50 slots up to 1040 are skipped, one frame goes for it.
  const p2 = rtp(a.tick(1050));
  assert.equal(skipped, 50);
  assert.equal(p2.header.sequenceNumber, (p1.header.sequenceNumber + 1) & 0xffff);
  assert.equal(p2.header.timestamp, (p1.header.timestamp + 51 * 960) >>> 0);
  assert.equal(p2.header.marker, true);
  assert.equal(a.due(), undefined, 'the source is done and nothing is queued: the clock stops');
  assert.equal(a.packetsSent, 3);
});

test('queued frames late by a stall of up to maxCatchUp go at once on their own slots: the queue keeps no lasting delay', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(8) });
  for (let i = 0; i < 30; i++) a.enqueue(Buffer.from([i]), 0);
  const p0 = rtp(a.tick(0));
  // The event loop stalled 400 ms: the 20 slots up to 400 are late; every due frame goes now.
  const burst = [];
  for (let due = a.due(); due !== undefined && due <= 400; due = a.due()) burst.push(rtp(a.tick(400)));
  assert.equal(burst.length, 20);
  burst.forEach((p, i) => {
    assert.equal(p.header.timestamp, (p0.header.timestamp + (i + 1) * 960) >>> 0, 'a contiguous timeline');
    assert.equal(p.header.marker, false);
  });
  assert.equal(a.due(), 420, 'back on the 20 ms slots');
  assert.equal(a.queued, 9);
});

test('a stall longer than maxCatchUp skips slots with frames queued too, as a stall with none', () => {
  const a = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng(9), maxCatchUpMs: 200 });
  for (let i = 0; i < 30; i++) a.enqueue(Buffer.from([i]), 0);
  const p0 = rtp(a.tick(0));
  const p1 = rtp(a.tick(1010));
  assert.equal(p1.header.timestamp, (p0.header.timestamp + 50 * 960) >>> 0);
  assert.equal(p1.header.marker, true);
  assert.equal(a.due(), 1020);
});
