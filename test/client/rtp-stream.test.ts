// RTP bookkeeping of the client: RFC 3550 A.3 loss across sequence wrap and reordering, RTT from
// a report block's LSR/DLSR (§6.4.1), packet stamping (+960 per frame, marker on the first),
// and the recorder placing packets by timestamp so a lost packet becomes 20 ms of silence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ntpMiddle, RtpReceiveCounter, RtpSender, RTCP_RR, rttFromRtcp } from '../../src/client/rtp-stream.ts';
import { encodeTone, Recorder } from '../../src/client/audio.ts';

test('loss counts gaps across the 16-bit wrap and ignores late packets', () => {
  const c = new RtpReceiveCounter();
  for (const seq of [65533, 65534, 65535, 1, 2, 0, 4]) c.record(seq, 10);
  assert.equal(c.packets, 7);
  assert.equal(c.expected, 8); // 65533 … 65535, 0 … 4
  assert.equal(c.lost, 1); // seq 3
});

test('RTT = now − LSR − DLSR from a Receiver Report block about our SSRC', () => {
  const ssrc = 0xdeadbeef;
  const rr = Buffer.alloc(32);
  rr[0] = 0x81;
  rr[1] = RTCP_RR;
  rr.writeUInt16BE(7, 2);
  rr.writeUInt32BE(1, 4);
  rr.writeUInt32BE(ssrc, 8);
  rr.writeUInt32BE(ntpMiddle(10_000), 24); // LSR: our SR left at t = 10 s
  rr.writeUInt32BE(Math.round(0.05 * 65536), 28); // DLSR: held 50 ms at the peer
  const rtt = rttFromRtcp(rr, ssrc, 10_080);
  assert.ok(rtt !== undefined && Math.abs(rtt - 30) < 0.1, String(rtt));
  assert.equal(rttFromRtcp(rr, 42, 10_080), undefined, 'a block about another SSRC');
  assert.equal(rttFromRtcp(rr.subarray(0, 20), ssrc, 10_080), undefined, 'truncated');
});

test('the sender stamps +960 per frame, marker on the first packet only; skip moves time, not sequence', () => {
  const s = new RtpSender(7, 111, 65535, 100);
  const a = s.packet(Buffer.from([1]));
  const b = s.packet(Buffer.from([2]));
  assert.equal(a[1], 0x80 | 111);
  assert.equal(b[1], 111);
  assert.equal(b.readUInt16BE(2), 0);
  assert.equal(b.readUInt32BE(4) - a.readUInt32BE(4), 960);
  s.skip(2);
  const c = s.packet(Buffer.from([3]));
  assert.equal(c.readUInt16BE(2), 1);
  assert.equal(c.readUInt32BE(4) - b.readUInt32BE(4), 3 * 960);
});

test('the recorder leaves silence where a packet is missing and keeps the total length', () => {
  const frames = encodeTone(440, 0.1); // 5 frames
  const r = new Recorder();
  for (const [i, f] of frames.entries()) if (i !== 2) r.add(1000 + i * 960, f);
  const pcm = r.toPcm();
  assert.equal(pcm.samples.length, 5 * 960);
  const gap = pcm.samples.subarray(2 * 960, 3 * 960);
  assert.ok(gap.every((v) => v === 0));
});
