// The client's RTP/RTCP over the core codecs: RTT from its own SR and the peer's report block
// (LSR/DLSR), packet stamping (+960 per frame, marker on the first), and the recorder placing
// packets by timestamp so a lost packet becomes 20 ms of silence.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpStream } from '../../src/client/rtp-stream.ts';
import { encodeTone, Recorder } from '../../src/client/audio.ts';

const stream = (ssrc: number, firstSeq = 0): RtpStream => new RtpStream({ ssrc, cname: `c${ssrc}`, payloadType: 111, firstSeq, firstTimestamp: 100 });

test('RTT from our SR and the report block about us in the peer\'s SR (LSR/DLSR, RFC 3550 §6.4.1)', () => {
  const a = stream(1);
  const b = stream(2);
  b.received(0, 100, a.ssrc, 10, 1_000);
  b.rtcp(a.senderReport(1_000), 1_010); // our SR takes 10 ms to arrive
  a.rtcp(b.senderReport(1_060), 1_070); // held 50 ms at the peer, 10 ms back
  assert.ok(a.rttMs !== undefined && Math.abs(a.rttMs - 20) < 0.1, String(a.rttMs));
  assert.equal(b.rttMs, undefined, 'no block about b yet');
  a.rtcp(Buffer.from([0x80, 201, 0, 9]), 1_080); // truncated: ignored
  assert.ok(Math.abs(a.rttMs! - 20) < 0.1);
});

test('the sender stamps +960 per frame, marker on the first packet only; skip moves time, not sequence', () => {
  const s = stream(7, 65535);
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
