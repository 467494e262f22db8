// `parley load` through `parley dev`: 20 concurrent calls from one process, one timer, each on
// its own UDP port through the one relay port; all connect, the echo comes back without loss,
// and the relay created one flow per call.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BIN, metricSum, ROOT, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

let dev: DevStack;
before(async () => {
  dev = await startDev();
});
after(async () => {
  await dev?.stop();
});

function runLoad(args: string[]): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, 'load', dev.ready.signaling, '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}

test('20 concurrent calls from one process all connect and get their audio back', { timeout: 90_000 }, async () => {
  const flowsBefore = await metricSum(dev.ready.relayMetrics, 'parley_relay_flows_created_total');
  const r = await runLoad(['--calls', '20', '--rate', '20', '--seconds', '2']);
  assert.equal(r.code, 0, `${r.out}\n${r.err}\n${dev.log()}`);
  const report = JSON.parse(r.out) as { connected: number; failed: number; packetsSent: number; framesSkipped: number; packetsReceived: number; lossFraction: number };
  assert.equal(report.connected, 20);
  assert.equal(report.failed, 0);
  // Frames are sent or, when this shared machine stalls the client > 500 ms, skipped.
  assert.equal(report.packetsSent + report.framesSkipped, 20 * 100);
  assert.ok(report.packetsSent >= 0.4 * 20 * 100, `sent ${report.packetsSent}: ${r.out}`);
  assert.ok(report.packetsReceived >= 0.75 * report.packetsSent, `received ${report.packetsReceived} of ${report.packetsSent}: ${r.out}`);
  assert.ok(report.lossFraction < 0.02, `loss ${report.lossFraction}`);
  const flows = (await metricSum(dev.ready.relayMetrics, 'parley_relay_flows_created_total')) - flowsBefore;
  assert.ok(flows >= 20, `relay created ${flows} flows`);
});
