// Run alone, after the other test files (`*.alone.ts`, package.json test:unit): it bounds a live
// call's echo RTT under SDP bombs, and beside another test file on this 2-core machine the RTT
// measured the other file (CI p50 15 → 58 ms under bombs while alone it moves < 10 ms).
// Issue #19 attack 6, the SDP bomb: a 64 KiB offer with thousands of m-sections used to cost tens
// of milliseconds of the event loop that also carries every call's media (an O(n²) lookup in the
// answer builder). The offer's size, lines, m-sections and attributes are now checked in one
// linear pass before parsing (src/core/sdp/limits.ts), and the answer is built in linear time.
// Shown two ways: the bomb's parse+answer cost is bounded, and a live echo call through
// `parley dev` keeps its receive ratio and echo RTT while two clients keep posting bombs.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { DEFAULT_SDP_LIMITS, SdpErrorCode, analyzeOffer, buildAnswer } from '../../src/core/sdp/index.ts';
import { startDev } from '../e2e/helpers.ts';
import type { DevStack } from '../e2e/helpers.ts';
import { runParleyLoad } from '../e2e/load-process.ts';

const AUDIO = [
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=mid:0',
  'a=ice-ufrag:abcd',
  'a=ice-pwd:abcdefghijklmnopqrstuvwx',
  'a=fingerprint:sha-256 AB:CD:EF:01',
  'a=setup:actpass',
  'a=rtcp-mux',
  'a=rtpmap:111 opus/48000/2',
];

/** A valid audio offer followed by `extra` tiny m-sections: the bomb's shape (~11 bytes a section). */
function bomb(extra: number): string {
  const lines = ['v=0', 'o=- 1 1 IN IP4 127.0.0.1', 's=-', 't=0 0', ...AUDIO];
  for (let i = 0; i < extra; i++) lines.push(`m=x 0 a ${i % 10}`);
  return lines.join('\r\n') + '\r\n';
}

const BOMB = bomb(5_300);

function medianMs(fn: () => void, runs = 9): number {
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b)[Math.floor(runs / 2)];
}

test('a 64 KiB offer with thousands of m-sections is refused before parsing, in well under a millisecond or two', () => {
  assert.ok(BOMB.length <= 64 * 1024, `the bomb fits the HTTP body cap (${BOMB.length} bytes)`);
  const r = analyzeOffer(BOMB);
  assert.equal(r.ok, false);
  assert.equal(!r.ok && r.error.code, SdpErrorCode.tooLarge);
  assert.match(!r.ok ? r.error.message : '', /more than 32 m-sections/);
  const ms = medianMs(() => analyzeOffer(BOMB));
  console.log(`bomb (${BOMB.length} bytes, 5301 m-sections): refused in ${ms.toFixed(3)} ms (median of 9)`);
  assert.ok(ms < 2, `refusing the bomb took ${ms.toFixed(2)} ms`);
});

test('lines and attributes per section are limited too', () => {
  const manyAttrs = bomb(0) + Array.from({ length: 300 }, (_, i) => `a=x-${i}`).join('\r\n') + '\r\n';
  const r = analyzeOffer(manyAttrs);
  assert.equal(!r.ok && r.error.code, SdpErrorCode.tooLarge);
  const manyLines = analyzeOffer(bomb(0), { ...DEFAULT_SDP_LIMITS, maxLines: 10 });
  assert.equal(!manyLines.ok && manyLines.error.code, SdpErrorCode.tooLarge);
  assert.equal(analyzeOffer(bomb(31)).ok, true, '32 m-sections are still answered');
});

test('answer building is linear in the number of m-sections (no per-section search)', () => {
  const wide = { ...DEFAULT_SDP_LIMITS, maxMediaSections: 1e6, maxLines: 1e7, maxBytes: 1e8 };
  const answerTime = (extra: number): number => {
    const r = analyzeOffer(bomb(extra), wide);
    assert.ok(r.ok, !r.ok ? r.error.message : '');
    const params = {
      offer: r.offer,
      iceUfrag: 'ufrag',
      icePwd: 'p'.repeat(22),
      fingerprint: { algorithm: 'sha-256', value: 'AB:CD' },
      candidates: [{ address: '127.0.0.1', port: 3478, family: 'IPv4' as const }],
      ssrc: 1,
      cname: 'c',
      sessionId: '1',
      streamId: 's',
    };
    return medianMs(() => buildAnswer(params), 5);
  };
  answerTime(2_000); // warm up
  const small = answerTime(4_000);
  const large = answerTime(16_000);
  console.log(`answer with 4 000 sections ${small.toFixed(2)} ms, 16 000 sections ${large.toFixed(2)} ms`);
  // Linear: 4× the sections ≈ 4× the time; quadratic would be ≈ 16×.
  assert.ok(large < small * 8, `4× the sections took ${(large / small).toFixed(1)}× the time`);
});

let dev: DevStack;
before(async () => {
  // Admission limits off the way (test/transceiver/free-sessions.test.ts checks them): every bomb reaches the SDP check.
  dev = await startDev([], 30_000, { PARLEY_OFFERS_PER_SECOND: '100000', PARLEY_OFFER_BURST: '100000' });
});
after(async () => {
  await dev?.stop();
});

interface LoadReport {
  connected: number;
  receiveRatio: number;
  packetsSent: number;
  echoRttMs: { p50: number; p99: number };
}

async function oneCall(): Promise<LoadReport> {
  const r = await runParleyLoad(dev.ready.signaling, ['--json', '--calls', '1', '--seconds', '5'], 45_000);
  assert.equal(r.code, 0, `${r.out}\n${r.err}\n${dev.log()}`);
  return JSON.parse(r.out) as LoadReport;
}

/**
 * Posts a bomb every 20 ms (50 a second, as the attack) until `stop` is set; returns how
 * many were answered 400. Paced, so that what is measured is the server's cost per bomb and not
 * three processes racing for this machine's two cores.
 */
async function postBombs(stop: { done: boolean }): Promise<number> {
  let refused = 0;
  while (!stop.done) {
    const next = performance.now() + 20;
    const res = await fetch(dev.ready.signaling, {
      method: 'POST',
      headers: { 'content-type': 'application/sdp' },
      body: BOMB,
      signal: AbortSignal.timeout(5_000),
    });
    await res.text();
    if (res.status === 400) refused++;
    await sleep(Math.max(0, next - performance.now()));
  }
  return refused;
}

test('a live call keeps its media cadence and echo RTT while two clients post SDP bombs', { timeout: 120_000 }, async () => {
  const quiet = await oneCall();
  const stop = { done: false };
  const bombers = [postBombs(stop), postBombs(stop)];
  const bombed = await oneCall().finally(() => (stop.done = true));
  const refused = (await Promise.all(bombers)).reduce((a, b) => a + b, 0);
  // A quiet call after the bombs too: another test file starting on the other core during the
  // bombed call (CI runs two at once) raises that call's RTT by itself; when it is still running
  // after, the second quiet call shows it, and the bombed call is compared with the worse of the two.
  const after = await oneCall();
  const line = (r: LoadReport): string =>
    `receive ratio ${r.receiveRatio.toFixed(3)} of ${r.packetsSent}, echo RTT p50 ${r.echoRttMs.p50.toFixed(1)} p99 ${r.echoRttMs.p99.toFixed(1)} ms`;
  console.log(`quiet: ${line(quiet)}\nbombed (${refused} bombs refused 400): ${line(bombed)}\nquiet after: ${line(after)}`);
  const base = { p50: Math.max(quiet.echoRttMs.p50, after.echoRttMs.p50), p99: Math.max(quiet.echoRttMs.p99, after.echoRttMs.p99) };
  assert.ok(refused > 200, `the bombers got through only ${refused} posts`);
  assert.equal(bombed.connected, 1);
  assert.ok(bombed.receiveRatio >= Math.min(quiet.receiveRatio, 1) - 0.02, `receive ratio fell: ${line(quiet)} → ${line(bombed)}`);
  // Refusing a bomb is a few µs, but reading two clients' 64 KiB bodies back to back is real work on
  // the same event loop, and the two bombing clients run in this process on the same two cores; on
  // one quiet machine p50 moved by < 5 ms, on another (2026-12-07, the code of two different days
  // alike, this file run alone) p50 by 9–21 ms and p99 by 11–26 ms. Before the limits it was tens
  // of ms of stall per bomb (issue #19): at 100 bombs a second that is a loop stalled most of the
  // time, RTTs of hundreds of ms and a falling receive ratio, far beyond these bounds.
  assert.ok(bombed.echoRttMs.p50 <= base.p50 + 40, `echo RTT p50 rose: ${line(quiet)} → ${line(bombed)} → ${line(after)}`);
  assert.ok(bombed.echoRttMs.p99 <= base.p99 + 50, `echo RTT p99 rose: ${line(quiet)} → ${line(bombed)} → ${line(after)}`);
});
