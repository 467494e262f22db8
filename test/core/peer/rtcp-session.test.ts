// The peer's RTCP session (RFC 3550 §6): RR before we have sent and SR after, each with SDES
// CNAME; the SR's RTP timestamp extrapolated to the NTP instant (§6.4.1); RTT from the report
// block the far end sends about us (A − LSR − DLSR); reports at a randomised interval
// (§6.3.1); a new far-end SSRC restarts the statistics; BYE at the end (§6.6).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { seededRng } from '../../../src/core/rng.ts';
import { parseRtcpCompound } from '../../../src/core/rtp/index.ts';
import type { RtcpPacket } from '../../../src/core/rtp/index.ts';
import { RtcpSession } from '../../../src/core/peer/index.ts';
import type { SenderInfo } from '../../../src/core/peer/index.ts';

const silent: SenderInfo = { packetsSent: 0, octetsSent: 0, lastTimestamp: 0, lastSentAt: undefined };
const parse = (b: Buffer): RtcpPacket[] => {
  const p = parseRtcpCompound(b);
  assert.ok(Array.isArray(p));
  return p;
};

test("RTT from our SR and the report block about us in the far end's SR (LSR/DLSR, RFC 3550 §6.4.1)", () => {
  const a = new RtcpSession({ ssrc: 1, cname: 'a', rng: seededRng('a') });
  const b = new RtcpSession({ ssrc: 2, cname: 'b', rng: seededRng('b') });
  const sentA: SenderInfo = { packetsSent: 1, octetsSent: 10, lastTimestamp: 100, lastSentAt: 1_000 };
  b.onRtp(1, 0, 100, 1_000);
  b.onRtcp(parse(a.report(1_000, sentA)), 1_010); // our SR takes 10 ms to arrive
  a.onRtp(2, 0, 100, 1_040);
  a.onRtcp(parse(b.report(1_060, sentA)), 1_070); // held 50 ms at the far end, 10 ms back
  assert.ok(a.rttMs !== undefined && Math.abs(a.rttMs - 20) < 0.1, String(a.rttMs));
  assert.equal(b.rttMs, undefined, 'no block about b yet');
  assert.equal(a.received, 1);
  assert.equal(a.remoteFractionLost, 0);
});

test('RR with SDES CNAME before we have sent anything, SR after; the SR timestamp is extrapolated to now', () => {
  const s = new RtcpSession({ ssrc: 7, cname: 'me', rng: seededRng('rr') });
  const [rr, sdes] = parse(s.report(0, silent));
  assert.equal(rr.type, 'rr');
  assert.ok(sdes.type === 'sdes' && sdes.chunks[0].items[0].text === 'me');
  const [sr] = parse(s.report(100, { packetsSent: 5, octetsSent: 50, lastTimestamp: 48_000, lastSentAt: 80 }));
  assert.ok(sr.type === 'sr');
  assert.equal(sr.rtpTimestamp, 48_000 + 960, '20 ms after the last frame at 48 kHz');
  assert.equal(sr.packetCount, 5);
  assert.equal(sr.octetCount, 50);
  assert.equal(s.sent, 2);
});

test('reports start at start() + firstReportMs, then every [0.5, 1.5] × interval; BYE ends them', () => {
  const s = new RtcpSession({ ssrc: 7, cname: 'me', rng: seededRng('interval'), intervalMs: 1000, firstReportMs: 20 });
  assert.equal(s.due(), undefined);
  s.start(5_000);
  assert.equal(s.due(), 5_020);
  let now = 5_020;
  for (let i = 0; i < 50; i++) {
    s.report(now, silent);
    const gap = s.due()! - now;
    assert.ok(gap >= 500 && gap <= 1500, `gap ${gap}`);
    now = s.due()!;
  }
  const bye = parse(s.bye(now, silent, 'hangup')).find((p) => p.type === 'bye');
  assert.ok(bye && bye.type === 'bye' && bye.reason === 'hangup' && bye.ssrcs[0] === 7);
  assert.equal(s.due(), undefined);
});

test('a new far-end SSRC restarts the receive statistics instead of mixing two streams', () => {
  const s = new RtcpSession({ ssrc: 7, cname: 'me', rng: seededRng('ssrc') });
  for (let i = 0; i < 10; i++) s.onRtp(100, i, i * 960, i * 20);
  assert.equal(s.recv.snapshot().received, 10);
  s.onRtp(200, 5000, 0, 300);
  assert.equal(s.remoteSsrc, 200);
  assert.equal(s.recv.snapshot().received, 1);
});
