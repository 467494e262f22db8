// RFC 3550 Appendix A.1/A.3/A.8 receiver statistics and §6.4.1 LSR/DLSR/RTT on synthetic
// streams whose loss and jitter are known in advance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ntpFromUnixMs, ntpMiddle32, roundTripMs, rttUnits, RtpReceiverStats } from '../../../src/core/rtp/index.ts';

const OPUS = 48000;
const FRAME_MS = 20;
const FRAME_TS = 960;

test('A.3: every 10th packet lost → cumulative 100, fraction 25/256', () => {
  const s = new RtpReceiverStats(OPUS);
  for (let i = 0; i < 1000; i++) if (i % 10 !== 5) s.onPacket(1000 + i, i * FRAME_TS, i * FRAME_MS);
  const rb = s.reportBlock(7, 20000);
  assert.equal(rb.ssrc, 7);
  assert.equal(rb.cumulativeLost, 100);
  assert.equal(rb.fractionLost, Math.floor((100 * 256) / 1000));
  assert.equal(rb.highestSeq, 1999);
  assert.equal(rb.jitter, 0, 'perfectly paced arrivals have no jitter');
});

test('A.3: fraction lost covers only the interval since the previous report', () => {
  const s = new RtpReceiverStats(OPUS);
  let seq = 0;
  for (; seq < 100; seq++) s.onPacket(seq, seq * FRAME_TS, seq * FRAME_MS);
  assert.equal(s.reportBlock(1, 2000).fractionLost, 0);
  for (; seq < 200; seq++) if (seq % 2 === 0) s.onPacket(seq, seq * FRAME_TS, seq * FRAME_MS);
  const rb = s.reportBlock(1, 4000);
  assert.equal(rb.fractionLost, Math.floor((49 * 256) / 99), '49 of 99 expected were lost');
  assert.equal(rb.cumulativeLost, 49);
  assert.equal(s.reportBlock(1, 4001).fractionLost, 0, 'nothing new expected: 0');
});

test('A.8: arrival delay alternating 0/10 ms gives jitter → 10 ms (480 units at 48 kHz)', () => {
  const s = new RtpReceiverStats(OPUS);
  for (let i = 0; i < 600; i++) s.onPacket(i, i * FRAME_TS, i * FRAME_MS + (i % 2 ? 10 : 0));
  const rb = s.reportBlock(1, 12000);
  assert.ok(Math.abs(rb.jitter - 480) <= 1, `jitter ${rb.jitter}`);
  assert.ok(Math.abs(s.snapshot().jitterMs - 10) < 0.05);
});

test('A.8: a constant network delay and an RTP timestamp wrap add no jitter', () => {
  const s = new RtpReceiverStats(OPUS);
  const ts0 = 0xffffffff - 100 * FRAME_TS;
  for (let i = 0; i < 300; i++) s.onPacket(i, (ts0 + i * FRAME_TS) >>> 0, 5000 + i * FRAME_MS);
  assert.equal(s.reportBlock(1, 1).jitter, 0);
});

test('A.1: the extended highest sequence number counts cycles across 65535 → 0', () => {
  const s = new RtpReceiverStats(OPUS);
  for (let i = 0; i < 100; i++) s.onPacket((65500 + i) & 0xffff, i * FRAME_TS, i * FRAME_MS);
  const rb = s.reportBlock(1, 2000);
  assert.equal(rb.highestSeq, 65500 + 99);
  assert.equal(rb.cumulativeLost, 0);
});

test('A.1: reordered and duplicated packets count as received; cumulative lost can go negative', () => {
  const s = new RtpReceiverStats(OPUS);
  for (const seq of [1, 2, 4, 3, 5, 5, 6]) s.onPacket(seq, seq * FRAME_TS, seq * FRAME_MS);
  const rb = s.reportBlock(1, 200);
  assert.equal(rb.highestSeq, 6);
  assert.equal(rb.cumulativeLost, -1, '6 expected, 7 received (one duplicate)');
  assert.equal(rb.fractionLost, 0);
});

test('A.1: a large jump is ignored once, and two sequential packets resynchronise', () => {
  const s = new RtpReceiverStats(OPUS);
  for (let i = 0; i < 10; i++) s.onPacket(i, i * FRAME_TS, i * FRAME_MS);
  assert.equal(s.onPacket(40000, 0, 300), false);
  assert.equal(s.onPacket(40001, FRAME_TS, 320), true);
  s.onPacket(40002, 2 * FRAME_TS, 340);
  const rb = s.reportBlock(1, 400);
  assert.equal(rb.highestSeq, 40002);
  assert.equal(rb.cumulativeLost, 0);
});

test('§6.4.1: LSR is the middle 32 bits of the last SR, DLSR the delay since it in 1/65536 s', () => {
  const s = new RtpReceiverStats(OPUS);
  s.onPacket(1, 0, 0);
  assert.deepEqual([s.reportBlock(1, 10).lsr, s.reportBlock(1, 10).dlsr], [0, 0], 'no SR yet');
  s.onSenderReport({ seconds: 0x00012345, fraction: 0x67890000 }, 1000);
  const rb = s.reportBlock(1, 1500);
  assert.equal(rb.lsr, 0x23456789);
  assert.equal(rb.dlsr, 32768);
});

test('§6.4.1 Figure 2: A 0xb7108000, LSR 0xb7052000, DLSR 0x00054000 → RTT 6.125 s', () => {
  assert.equal(rttUnits(0xb7108000, 0xb7052000, 0x00054000), 0x00062000);
  assert.equal(rttUnits(0xb7108000, 0xb7052000, 0x00054000) / 65536, 6.125);
});

test('RTT from our SR to their report block: 80 ms network + 200 ms held at the peer', () => {
  const sentAt = Date.UTC(2026, 0, 1, 12, 0, 0, 123);
  const lsr = ntpMiddle32(ntpFromUnixMs(sentAt));
  const dlsr = Math.round(0.2 * 65536);
  const rtt = roundTripMs({ lsr, dlsr }, sentAt + 280)!;
  assert.ok(Math.abs(rtt - 80) < 0.1, `rtt ${rtt}`);
  const s = new RtpReceiverStats(OPUS);
  assert.equal(s.onReportBlock({ lsr: 0, dlsr: 0 }, sentAt), undefined, 'LSR 0: no SR received yet');
  assert.equal(s.onReportBlock({ lsr, dlsr }, sentAt + 100), undefined, 'negative: refused');
  s.onReportBlock({ lsr, dlsr }, sentAt + 280);
  assert.ok(Math.abs(s.lastRttMs! - 80) < 0.1);
});

test('NTP conversion: Unix epoch is NTP second 2208988800, half a second is fraction 2^31', () => {
  assert.deepEqual(ntpFromUnixMs(0), { seconds: 2208988800, fraction: 0 });
  assert.deepEqual(ntpFromUnixMs(1500), { seconds: 2208988801, fraction: 0x80000000 });
});
