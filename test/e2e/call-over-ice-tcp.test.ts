// ICE-TCP end to end (issue #17) with real processes: `parley dev` (its relay listens on TCP and
// the answer carries a passive TCP candidate) and `parley call --tcp` / `parley load --tcp`,
// which connect to that candidate and carry ICE, DTLS and SRTP in RFC 4571 frames. TCP loses
// nothing: `parley call --tcp` gets back exactly the packets and bytes it sent, and no
// `parley load --tcp` call has a gap in what came back. Without --tcp the same answer is used over UDP (UDP's candidate ranks higher,
// RFC 6544 §4.2) and the relay's TCP port sees no connection. A bad --relay-tcp exits 2 naming it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readWavFile } from '../../src/media/wav.ts';
import { BIN, ROOT, metricSum, recordingHasTone, runCall, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';
import { runParleyLoad } from './load-process.ts';

let dev: DevStack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-ice-tcp-'));
  dev = await startDev();
});

after(async () => {
  await dev?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

const tcpAccepted = (): Promise<number> => metricSum(dev.ready.relayMetrics, 'parley_relay_tcp_accepted_total');

interface CallState {
  readonly state: string;
  readonly stats: Record<string, unknown>;
}

test(
  'parley call --tcp through the relay: the echo holds the tone, and not one packet is lost either way',
  { timeout: 60_000 },
  async () => {
    const wav = join(dir, 'back.wav');
    const acceptedBefore = await tcpAccepted();
    const r = await runCall(dev.ready.signaling, ['--tcp', '--tone', '440', '--seconds', '3', '--record', wav]);
    assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}\n${dev.log()}`);
    const s = r.summary.stats as Record<string, number | string>;
    assert.equal(s.remoteAddress, dev.ready.relayTcp, 'the media path is the relay ICE-TCP address');
    assert.match(r.summary.localAddress as string, /:9$/, 'an active TCP candidate is advertised with port 9 (RFC 6544 §4.5)');
    assert.equal((s.packetsSent as number) + (s.framesSkipped as number), 150);
    // TCP is reliable end to end here (client ⇄ relay by TCP, relay ⇄ transceiver on loopback).
    assert.equal(s.packetsReceived, s.packetsSent, `every packet came back: ${JSON.stringify(s)}`);
    assert.equal(s.bytesReceived, s.bytesSent, 'byte for byte');
    assert.equal(s.packetsLost, 0);
    assert.equal(s.srtpDropped, 0);
    assert.ok((await tcpAccepted()) - acceptedBefore >= 1, 'the relay accepted the connection');
    const state = (await (await fetch(r.summary.location as string)).json()) as CallState;
    assert.equal(state.state, 'closed', JSON.stringify(state));
    const pcm = await readWavFile(wav);
    const check = recordingHasTone(pcm.samples, 440);
    assert.ok(check.found && check.audibleFrames >= 50, JSON.stringify(check));
  },
);

test(
  'parley load --tcp: 10 concurrent calls over ICE-TCP all connect, and no echoed packet is missing from any sequence',
  { timeout: 90_000 },
  async () => {
    const acceptedBefore = await tcpAccepted();
    const r = await runParleyLoad(dev.ready.signaling, ['--json', '--tcp', '--calls', '10', '--ramp-per-sec', '10', '--seconds', '3']);
    assert.equal(r.code, 0, `${r.out}\n${r.err}\n${dev.log()}`);
    const report = JSON.parse(r.out) as {
      connected: number;
      failed: number;
      packetsSent: number;
      packetsReceived: number;
      packetsLost: number;
    };
    assert.equal(report.connected, 10);
    assert.equal(report.failed, 0);
    assert.ok(report.packetsSent >= 10 * 100, `sent ${report.packetsSent}`);
    // No gap in any call's returned sequence: nothing is lost over TCP. A load call lingers only
    // 500 ms after its last frame, so on a busy machine (echo RTT past a second) the last echoes
    // may still be on their way at hang-up; `parley call --tcp` above waits for them and is exact.
    assert.equal(report.packetsLost, 0, JSON.stringify(report));
    assert.ok(report.packetsReceived >= 0.6 * report.packetsSent, JSON.stringify(report));
    assert.ok((await tcpAccepted()) - acceptedBefore >= 10, 'one connection per call at least');
  },
);

test('without --tcp the same answer is used over UDP: the relay TCP port sees no connection', { timeout: 60_000 }, async () => {
  const acceptedBefore = await tcpAccepted();
  const r = await runCall(dev.ready.signaling, ['--seconds', '1']);
  assert.equal(r.code, 0, `${JSON.stringify(r.summary)}\n${r.stderr}`);
  assert.equal((r.summary.stats as Record<string, unknown>).remoteAddress, dev.ready.relay, 'UDP is chosen');
  assert.equal(await tcpAccepted(), acceptedBefore);
});

/** `parley dev ARGS` expected to exit before starting anything; resolves with its code and stderr. */
function devExit(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, 'dev', ...args], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley dev ${args.join(' ')} did not exit\n${stderr}`));
    }, 20_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stderr });
    });
  });
}

test('a bad --relay-tcp exits 2 naming the setting', { timeout: 60_000 }, async () => {
  for (const [args, why] of [
    [['--relay-tcp', 'nonsense'], /--relay-tcp/],
    [['--relay-tcp', '127.0.0.1:70000'], /--relay-tcp/],
    [['--relay-tcp', '0.0.0.0:3478'], /--relay-tcp.*wildcard/],
    [['--http', '127.0.0.1:18080', '--relay-tcp', '127.0.0.1:18080'], /--relay-tcp.*also --http/],
  ] as const) {
    const r = await devExit([...args]);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, why);
  }
});
