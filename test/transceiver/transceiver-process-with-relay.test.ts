// The real processes over real UDP on 127.0.0.1: `parley relay` and `parley transceiver`
// (bin/parley.ts, production code paths), and our own client (ClientCall on a UdpCallDriver
// socket) as the caller. Checks: 201 with the relay as the only candidate, ICE/DTLS/SRTP through the relay, echo, GET state and
// counters (RTT from RTCP), DELETE → BYE and closed/hangup, /metrics, and SIGTERM draining
// (503 + Retry-After, readyz 503, then server_drain and exit 0).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseAddress } from '../../src/core/address.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { ClientErrorCode } from '../../src/client/errors.ts';
import { freeTcpPort, freeUdpPort } from '../../src/client/free-port.ts';
import { UdpCallDriver } from '../../src/client/udp-driver.ts';
import type { CallInfo } from '../../src/transceiver/calls/call-types.ts';
import { readAnswer } from './helpers/answer.ts';
import { UdpClient } from './helpers/udp-client.ts';
import { waitFor } from '../support/wait-for.ts';

const BIN = fileURLToPath(new URL('../../bin/parley.ts', import.meta.url));
const KEYS = Keyring.generate(seededRng('process-test-keys')).toString();

interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PARLEY_KEYS: KEYS, PARLEY_KEYS_FILE: '', PARLEY_LOG_LEVEL: 'info' },
  });
  const lines: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
  createInterface({ input: child.stdout! }).on('line', (l) => lines.push(l));
  return { child, lines };
}

function stop(p: Proc | undefined, graceMs = 8000): Promise<number | null> {
  if (!p || p.child.exitCode !== null || p.child.signalCode !== null) return Promise.resolve(p?.child.exitCode ?? null);
  return new Promise((resolve) => {
    const kill = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
    p.child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    p.child.kill('SIGTERM');
  });
}

let relay: Proc | undefined;
let trx: Proc | undefined;
let relayAddr: TransportAddress;
let base: string;
let ops: string;
const driver = new UdpCallDriver();
const callers: UdpClient[] = [];

/** `n` distinct frames named `tag`-i: each caller can tell its own echo from another's. */
const frames = (tag: string, n: number): Buffer[] => Array.from({ length: n }, (_, i) => Buffer.from(`${tag}-${i}`));

before(async () => {
  const relayPort = await freeUdpPort();
  const relayHttp = await freeTcpPort();
  relayAddr = { address: '127.0.0.1', port: relayPort, family: 'IPv4' };
  relay = start([
    'relay',
    '--listen',
    `127.0.0.1:${relayPort}`,
    '--internal',
    '127.0.0.1:0',
    '--http',
    `127.0.0.1:${relayHttp}`,
    '--workers',
    '1',
  ]);
  trx = start([
    'transceiver',
    '--http',
    '127.0.0.1:0',
    '--media',
    '127.0.0.1:0',
    '--relays',
    `127.0.0.1:${relayPort}`,
    '--drain-seconds',
    '2',
    '--no-auth',
    '--ops',
    '127.0.0.1:0',
  ]);
  await waitFor(() => trx!.lines.some((l) => l.includes('"msg":"listening"')), 15_000, `transceiver listening:\n${trx.lines.join('\n')}`);
  const listening = JSON.parse(trx.lines.find((l) => l.includes('"msg":"listening"'))!) as { http: string; ops: string };
  base = `http://127.0.0.1:${parseAddress(listening.http)!.port}`;
  ops = `http://127.0.0.1:${parseAddress(listening.ops)!.port}`;
  await waitFor(
    async () => (await fetch(`http://127.0.0.1:${relayHttp}/readyz`).catch(() => undefined))?.status === 200,
    15_000,
    'relay ready',
  );
});

after(async () => {
  for (const c of callers) c.close(driver.now());
  driver.close();
  await Promise.all([stop(trx), stop(relay)]);
});

async function call(seed: string, talk?: readonly Buffer[]): Promise<{ caller: UdpClient; location: string }> {
  const caller = await UdpClient.call(driver, `${base}/v1/realtime/calls`, { seed, frames: talk });
  callers.push(caller);
  assert.deepEqual(readAnswer(caller.answer).candidates, [relayAddr], 'the only candidate is the relay');
  return { caller, location: caller.location };
}

async function info(location: string): Promise<CallInfo> {
  return (await fetch(base + location)).json() as Promise<CallInfo>;
}

test('a call through the real relay connects, echoes, reports RTT, and DELETE ends it with BYE', async () => {
  const { caller, location } = await call('through-relay', frames('frame', 60));
  await waitFor(() => caller.connected, 15_000, 'DTLS-SRTP through the relay');
  await waitFor(async () => (await info(location)).state === 'connected', 2000, 'GET state connected');
  await waitFor(() => caller.heard().length >= 50, 5000, 'echo');
  const got = await info(location);
  assert.equal(got.client, `127.0.0.1:${caller.binding.address.port}`, 'the true client address, from the relay header');
  assert.equal(got.relay, `127.0.0.1:${relayAddr.port}`);
  assert.ok(got.stats.packetsReceived >= 50 && got.stats.packetsSent >= 50, JSON.stringify(got.stats));
  await waitFor(async () => (await info(location)).stats.rttMs !== undefined, 10_000, 'RTT from RTCP');
  const del = await fetch(base + location, { method: 'DELETE' });
  assert.equal(del.status, 200);
  const closed = (await del.json()) as CallInfo;
  assert.equal(closed.state, 'closed');
  assert.equal(closed.closeReason, 'hangup');
  await waitFor(() => caller.heardBye(), 2000, 'RTCP BYE at the caller');
  const metrics = await (await fetch(`${ops}/metrics`)).text();
  assert.match(metrics, /parley_transceiver_calls_closed_total\{reason="hangup"\} 1/);
  // Issue #20 item 3: the per-call quality, in GET, the log line and the histograms (location: the unnamed list).
  const q = closed.quality;
  assert.equal(q.rttMs, closed.stats.rttMs === undefined ? undefined : Math.round(closed.stats.rttMs * 10) / 10);
  assert.ok(q.setupMs !== undefined && q.setupMs >= 0, JSON.stringify(q));
  assert.ok(q.mos !== undefined && q.mos >= 1 && q.mos <= 4.5, JSON.stringify(q));
  assert.ok(q.lossRatio >= 0 && q.lossRatio <= 1, JSON.stringify(q));
  const line = await waitFor(() => trx!.lines.find((l) => l.includes('"msg":"call closed"')), 2000, 'the call closed log line');
  const logged = JSON.parse(line) as { reason: string; mos: number; location: string; handler: string };
  assert.deepEqual([logged.reason, logged.mos, logged.location, logged.handler], ['hangup', q.mos, 'default', 'echo']);
  for (const name of ['call_setup_seconds', 'call_rtt_seconds', 'call_jitter_seconds', 'call_loss_ratio', 'call_mos'])
    assert.match(metrics, new RegExp(`parley_transceiver_${name}_count\\{location="default",handler="echo"\\} 1`), name);
});

test('two calls at once through one relay port: each caller hears only its own frames', async () => {
  const [a, b] = await Promise.all([call('pair-a', frames('A', 40)), call('pair-b', frames('B', 40))]);
  await waitFor(() => a.caller.connected && b.caller.connected, 15_000, 'both connected');
  await waitFor(() => a.caller.heard().length >= 35 && b.caller.heard().length >= 35, 5000, 'both echoes');
  assert.ok(a.caller.heard().every((p) => p.startsWith('A-')));
  assert.ok(b.caller.heard().every((p) => p.startsWith('B-')));
  for (const c of [a, b]) (await fetch(base + c.location, { method: 'DELETE' })).body?.cancel();
});

test('SIGTERM drains: 503 + Retry-After and readyz 503 at once, running calls end as server_drain, exit 0', async () => {
  const { caller, location } = await call('drain');
  await waitFor(() => caller.connected, 15_000, 'connected');
  trx!.child.kill('SIGTERM');
  await waitFor(async () => (await fetch(`${ops}/readyz`)).status === 503, 2000, 'readyz 503');
  const refused = await fetch(`${base}/v1/realtime/calls`, {
    method: 'POST',
    body: caller.call.offer,
    headers: { 'content-type': 'application/sdp' },
  });
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ERR_SIGNALING_DRAINING');
  assert.equal((await info(location)).state, 'connected', 'calls keep running during the grace period');
  const code = await new Promise<number | null>((r) => trx!.child.once('exit', r));
  assert.equal(code, 0);
  assert.ok(
    trx!.lines.some((l) => l.includes('"reason":"server_drain"')),
    'the call was ended as server_drain',
  );
  await waitFor(() => caller.call.error?.code === ClientErrorCode.RemoteClosed, 2000, 'close_notify at the caller');
});
