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
import { readFileSync } from 'node:fs';
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

/** CPU ms the transceiver (the `parley dev` child that runs it) has used: utime + stime, Linux /proc. */
function transceiverCpuMs(): number {
  const children = readFileSync(`/proc/${dev.pid}/task/${dev.pid}/children`, 'latin1').split(' ').filter(Boolean);
  const pid = children.find((p) => readFileSync(`/proc/${p}/cmdline`, 'latin1').split('\0').includes('transceiver'));
  assert.ok(pid, 'the transceiver process of parley dev');
  const fields = readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1].split(' ');
  // Fields 14 and 15 of proc(5), in clock ticks of 10 ms (USER_HZ is 100 on Linux).
  return (Number(fields[11]) + Number(fields[12])) * 10;
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
  const cpu0 = transceiverCpuMs();
  const quiet = await oneCall();
  const cpu1 = transceiverCpuMs();
  const stop = { done: false };
  const bombers = [postBombs(stop), postBombs(stop)];
  const bombed = await oneCall().finally(() => (stop.done = true));
  const refused = (await Promise.all(bombers)).reduce((a, b) => a + b, 0);
  // What the bombs cost the transceiver: its CPU during the bombed call less that of the quiet one.
  const perBomb = (transceiverCpuMs() - cpu1 - (cpu1 - cpu0)) / refused;
  // A quiet call after the bombs too: another test file starting on the other core during the
  // bombed call (CI runs two at once) raises that call's RTT tail by itself; when it is still
  // running after, the second quiet call shows it, and the bombed p99 is compared with the worse
  // of the two. The median, which such load does not move, is compared with the better one.
  const after = await oneCall();
  const line = (r: LoadReport): string =>
    `receive ratio ${r.receiveRatio.toFixed(3)} of ${r.packetsSent}, echo RTT p50 ${r.echoRttMs.p50.toFixed(1)} p99 ${r.echoRttMs.p99.toFixed(1)} ms`;
  console.log(
    `quiet: ${line(quiet)}\nbombed (${refused} bombs refused 400, ${perBomb.toFixed(2)} ms of transceiver CPU each): ${line(bombed)}\nquiet after: ${line(after)}`,
  );
  assert.ok(refused > 200, `the bombers got through only ${refused} posts`);
  assert.equal(bombed.connected, 1);
  assert.ok(bombed.receiveRatio >= Math.min(quiet.receiveRatio, 1) - 0.02, `receive ratio fell: ${line(quiet)} → ${line(bombed)}`);
  // Refusing a bomb costs the transceiver ~1 ms of CPU (reading 64 KiB through node:http) and each
  // bombing client here ~2 ms: the call's packets are late by a few ms now and then. The echo
  // sends each frame as it comes (core/peer/audio-peer.ts queueAudio), so that shows in the RTT's
  // tail and leaves its median at the path's own delay; a frame held for a grid the latest frame
  // so far had set made a call's median its worst lateness (docs/performance.md, "bomb"). Before
  // #19's limits a bomb stalled the loop tens of ms: RTTs of hundreds of ms.
  // CPU time, not waiting: a busy CI machine does not stretch it the way it stretches RTTs. A
  // refused bomb costs ~1.2 ms here (node:http reading 58 KiB is half of it); parsing the bomb
  // before the limits (issue #19) costs ~10 ms more, which the RTTs below, with their margins
  // for a busy machine, would not show.
  assert.ok(perBomb < 4, `each bomb cost the transceiver ${perBomb.toFixed(2)} ms of CPU`);
  const p50 = Math.min(quiet.echoRttMs.p50, after.echoRttMs.p50);
  const p99 = Math.max(quiet.echoRttMs.p99, after.echoRttMs.p99);
  assert.ok(bombed.echoRttMs.p50 <= p50 + 5, `echo RTT p50 rose: ${line(quiet)} → ${line(bombed)} → ${line(after)}`);
  assert.ok(bombed.echoRttMs.p99 <= p99 + 20, `echo RTT p99 rose: ${line(quiet)} → ${line(bombed)} → ${line(after)}`);
});
