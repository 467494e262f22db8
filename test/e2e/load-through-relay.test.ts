// `parley load` through `parley dev` (what `npm start` runs): 20 concurrent calls from one
// process, one timer, each on its own UDP port through the one relay port; all connect, at least
// 0.99 of the packets sent come back from the echo handler, and the relay created one flow per call;
// with --datachannel, every call's data-channel messages come back too.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { metricSum, startDev } from './helpers.ts';
import { runParleyLoad } from './load-process.ts';
import type { DevStack } from './helpers.ts';

let dev: DevStack;
before(async () => {
  dev = await startDev();
});
after(async () => {
  await dev?.stop();
});

const runLoad = (args: string[]): ReturnType<typeof runParleyLoad> => runParleyLoad(dev.ready.signaling, ['--json', ...args]);

test('20 concurrent calls from one process all connect and get their audio back', { timeout: 90_000 }, async () => {
  const flowsBefore = await metricSum(dev.ready.relayMetrics, 'parley_relay_flows_created_total');
  const r = await runLoad(['--calls', '20', '--ramp-per-sec', '20', '--seconds', '3']);
  assert.equal(r.code, 0, `${r.out}\n${r.err}\n${dev.log()}`);
  const report = JSON.parse(r.out) as {
    connected: number;
    failed: number;
    packetsSent: number;
    framesSkipped: number;
    packetsReceived: number;
    receiveRatio: number;
    lossFraction: number;
    setupMs: { n: number; p50: number; p95: number; max: number };
    echoRttMs: { n: number; p50: number; p99: number };
    lastConnectMs: number;
    packetsSentPerSec: number;
    packetsReceivedPerSec: number;
  };
  assert.equal(report.connected, 20);
  assert.equal(report.failed, 0);
  // Frames are sent or, when this shared machine stalls the client > 500 ms, skipped.
  assert.equal(report.packetsSent + report.framesSkipped, 20 * 150);
  assert.ok(report.packetsSent >= 0.4 * 20 * 150, `sent ${report.packetsSent}: ${r.out}`);
  assert.ok(report.receiveRatio >= 0.99, `received ${report.packetsReceived} of ${report.packetsSent}: ${r.out}`);
  assert.ok(report.lossFraction < 0.01, `loss ${report.lossFraction}`);
  assert.equal(report.setupMs.n, 20);
  assert.ok(report.setupMs.p50 <= report.setupMs.p95 && report.setupMs.p95 <= report.setupMs.max);
  assert.ok(report.lastConnectMs >= report.setupMs.max * 0.5, r.out);
  // Every echoed payload is matched to the frame it came from (the frames are all distinct).
  assert.ok(report.echoRttMs.n >= 0.95 * report.packetsReceived, `echo RTT samples ${report.echoRttMs.n}: ${r.out}`);
  assert.ok(report.packetsSentPerSec > 0 && report.packetsReceivedPerSec > 0);
  const flows = (await metricSum(dev.ready.relayMetrics, 'parley_relay_flows_created_total')) - flowsBefore;
  assert.ok(flows >= 20, `relay created ${flows} flows`);
});

test(
  '--datachannel: every call sends on a data channel; every message comes back byte-exact, with its RTT',
  { timeout: 90_000 },
  async () => {
    const r = await runLoad(['--calls', '5', '--ramp-per-sec', '10', '--seconds', '2', '--datachannel', 'chat', '--dc-every', '50']);
    assert.equal(r.code, 0, `${r.out}\n${r.err}\n${dev.log()}`);
    const report = JSON.parse(r.out) as {
      connected: number;
      receiveRatio: number;
      dataChannel: { sent: number; received: number; lost: number; mismatched: number; rttMs: { n: number; p50: number } };
    };
    assert.equal(report.connected, 5);
    const d = report.dataChannel;
    assert.ok(d.sent >= 5 * 10, `sent ${d.sent}: ${r.out}`);
    assert.deepEqual([d.received, d.lost, d.mismatched], [d.sent, 0, 0], r.out);
    assert.equal(d.rttMs.n, d.received);
    assert.ok(d.rttMs.p50 > 0, r.out);
    assert.ok(report.receiveRatio >= 0.95, `audio meanwhile: ${r.out}`);
  },
);
