// calls/call-quality.ts: the simplified E-model (Cole & Rosenbluth 2001 over ITU-T G.107) and the
// per-call quality GET and the log line show. Known points of the formulas, checked by hand:
// R 93.2 → MOS 4.41 (G.107's default R), R 50 → 2.58, delay and loss impairments at the values
// G.107/G.113 give, and how a call's stats become a quality (worse direction's loss, no audio: no MOS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { callQuality, estimateMos, mosFromR, rFactor } from '../../src/transceiver/calls/call-quality.ts';
import type { SessionStats } from '../../src/transceiver/calls/call-types.ts';

const near = (a: number, b: number, eps = 0.01): void => assert.ok(Math.abs(a - b) <= eps, `${a} ≈ ${b}`);

test('G.107 Annex B: R → MOS at known points, clamped to 1..4.5', () => {
  near(mosFromR(93.2), 4.41);
  near(mosFromR(50), 2.58);
  near(mosFromR(80), 4.02);
  assert.equal(mosFromR(0), 1);
  assert.equal(mosFromR(-5), 1);
  assert.equal(mosFromR(Number.NaN), 1);
  assert.equal(mosFromR(120), 4.5);
});

test('delay impairment: 0.024·d below 177.3 ms, plus 0.11·(d − 177.3) above; loss: Ie,eff = 95·Ppl/(Ppl + 25.1)', () => {
  near(rFactor(100, 0), 93.2 - 2.4);
  near(rFactor(300, 0), 93.2 - (7.2 + 0.11 * 122.7));
  near(rFactor(0, 5), 93.2 - (95 * 5) / 30.1);
  near(rFactor(0, 100), 93.2 - (95 * 100) / 125.1);
});

test('a clean call scores about 4.4; more loss, jitter or RTT scores less', () => {
  const clean = estimateMos(20, 1, 0);
  near(clean.mos, 4.39, 0.02);
  assert.ok(estimateMos(20, 1, 0.05).mos < clean.mos - 0.5, 'five per cent loss');
  assert.ok(estimateMos(20, 30, 0).mos < clean.mos, 'jitter buffer delay');
  assert.ok(estimateMos(600, 1, 0).mos < 3.6, 'a 600 ms round trip');
  assert.equal(estimateMos(undefined, 1, 0).mos, estimateMos(0, 1, 0).mos, 'unknown RTT counts as 0');
});

const stats = (o: Partial<SessionStats>): SessionStats => ({
  packetsReceived: 0,
  bytesReceived: 0,
  packetsSent: 0,
  bytesSent: 0,
  packetsLost: 0,
  jitterMs: 0,
  rttMs: undefined,
  remoteFractionLost: undefined,
  rtcpSent: 0,
  rtcpReceived: 0,
  framesDropped: 0,
  packetsDropped: 0,
  ...o,
});

test("a call's quality: loss ratio of the client's stream, the worse direction for the MOS, no MOS before audio", () => {
  const none = callQuality(stats({}), undefined);
  assert.equal(none.mos, undefined);
  assert.equal(none.lossRatio, 0);
  assert.equal(none.setupMs, undefined);
  const q = callQuality(stats({ packetsReceived: 950, packetsLost: 50, jitterMs: 3.456, rttMs: 41.26 }), 123.4);
  assert.equal(q.lossRatio, 0.05);
  assert.equal(q.jitterMs, 3.46);
  assert.equal(q.rttMs, 41.3);
  assert.equal(q.setupMs, 123);
  near(q.mos!, Math.round(estimateMos(41.26, 3.456, 0.05).mos * 100) / 100, 0.001);
  const worseDown = callQuality(stats({ packetsReceived: 1000, remoteFractionLost: 0.1 }), 100);
  assert.equal(worseDown.remoteLossRatio, 0.1);
  near(worseDown.mos!, Math.round(estimateMos(undefined, 0, 0.1).mos * 100) / 100, 0.001);
});
