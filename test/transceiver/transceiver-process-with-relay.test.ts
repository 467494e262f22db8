// The real processes over real UDP on 127.0.0.1: `parley relay` and `parley transceiver`
// (bin/parley.ts, production code paths), and our TestCaller on its own socket playing the
// browser. The offer is the Chromium capture with the caller's credentials. Checks: 201 with
// the relay as the only candidate, ICE/DTLS/SRTP through the relay, echo, GET state and
// counters (RTT from RTCP), DELETE → BYE and closed/hangup, /metrics, and SIGTERM draining
// (503 + Retry-After, readyz 503, then server-drain and exit 0).
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
import { freeTcpPort, freeUdpPort } from '../../src/client/free-port.ts';
import type { CallInfo } from '../../src/transceiver/call-types.ts';
import { UdpCaller, offerFor, readAnswer } from './helpers/udp-caller.ts';
import { waitFor } from '../support/wait-for.ts';

const BIN = fileURLToPath(new URL('../../bin/parley.ts', import.meta.url));
const KEYS = Keyring.generate(seededRng('process-test-keys')).toString();

interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
}

function start(args: string[]): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARLEY_KEYS: KEYS, PARLEY_KEYS_FILE: '', PARLEY_LOG_LEVEL: 'info' },
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
const callers: UdpCaller[] = [];

before(async () => {
  const relayPort = await freeUdpPort();
  const relayHttp = await freeTcpPort();
  relayAddr = { address: '127.0.0.1', port: relayPort, family: 'IPv4' };
  relay = start(['relay', '--listen', `127.0.0.1:${relayPort}`, '--internal', '127.0.0.1:0', '--http', `127.0.0.1:${relayHttp}`, '--workers', '1']);
  trx = start(['transceiver', '--http', '127.0.0.1:0', '--media', '127.0.0.1:0', '--relays', `127.0.0.1:${relayPort}`, '--drain-seconds', '2']);
  await waitFor(() => trx!.lines.some((l) => l.includes('"msg":"listening"')), 15_000, `transceiver listening:\n${trx.lines.join('\n')}`);
  const listening = JSON.parse(trx.lines.find((l) => l.includes('"msg":"listening"'))!) as { http: string };
  base = `http://127.0.0.1:${parseAddress(listening.http)!.port}`;
  await waitFor(async () => (await fetch(`http://127.0.0.1:${relayHttp}/readyz`).catch(() => undefined))?.status === 200, 15_000, 'relay ready');
});

after(async () => {
  for (const c of callers) await c.close();
  await Promise.all([stop(trx), stop(relay)]);
});

async function call(seed: string): Promise<{ caller: UdpCaller; location: string }> {
  const caller = await UdpCaller.create(seed, relayAddr);
  callers.push(caller);
  const res = await fetch(`${base}/v1/realtime/calls`, { method: 'POST', body: offerFor(caller.caller), headers: { 'content-type': 'application/sdp' } });
  assert.equal(res.status, 201, await res.clone().text());
  const answer = readAnswer(await res.text());
  assert.deepEqual(answer.candidates, [relayAddr], 'the only candidate is the relay');
  caller.start(answer);
  return { caller, location: res.headers.get('location')! };
}

async function info(location: string): Promise<CallInfo> {
  return (await fetch(base + location)).json() as Promise<CallInfo>;
}

test('a call through the real relay connects, echoes, reports RTT, and DELETE ends it with BYE', async () => {
  const { caller, location } = await call('through-relay');
  await waitFor(() => caller.caller.connected, 15_000, 'DTLS-SRTP through the relay');
  await waitFor(async () => (await info(location)).state === 'connected', 2000, 'GET state connected');
  await caller.talk(60);
  await waitFor(() => caller.caller.received.length >= 50, 5000, 'echo');
  const got = await info(location);
  assert.equal(got.client, `127.0.0.1:${caller.socket.address().port}`, 'the true client address, from the relay header');
  assert.equal(got.relay, `127.0.0.1:${relayAddr.port}`);
  assert.ok(got.stats.packetsReceived >= 50 && got.stats.packetsSent >= 50, JSON.stringify(got.stats));
  await waitFor(async () => (await info(location)).stats.rttMs !== undefined, 10_000, 'RTT from RTCP');
  const del = await fetch(base + location, { method: 'DELETE' });
  assert.equal(del.status, 200);
  const closed = await del.json() as CallInfo;
  assert.equal(closed.state, 'closed');
  assert.equal(closed.closeReason, 'hangup');
  await waitFor(() => caller.caller.rtcp.some((c) => c.some((p) => p.type === 'bye')), 2000, 'RTCP BYE at the caller');
  const metrics = await (await fetch(`${base}/metrics`)).text();
  assert.match(metrics, /parley_transceiver_calls_closed_total\{reason="hangup"\} 1/);
  assert.match(metrics, /parley_transceiver_call_setup_seconds_count 1/);
});

test('two calls at once through one relay port: each caller hears only its own frames', async () => {
  const [a, b] = await Promise.all([call('pair-a'), call('pair-b')]);
  await waitFor(() => a.caller.caller.connected && b.caller.caller.connected, 15_000, 'both connected');
  const talk = async (u: UdpCaller, tag: string): Promise<void> => {
    for (let i = 0; i < 40; i++) {
      u.caller.sendOpus(Buffer.from(`${tag}-${i}`));
      u.pump();
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  await Promise.all([talk(a.caller, 'A'), talk(b.caller, 'B')]);
  await waitFor(() => a.caller.caller.received.length >= 35 && b.caller.caller.received.length >= 35, 5000, 'both echoes');
  assert.ok(a.caller.caller.received.every((p) => p.payload.toString().startsWith('A-')));
  assert.ok(b.caller.caller.received.every((p) => p.payload.toString().startsWith('B-')));
  for (const c of [a, b]) (await fetch(base + c.location, { method: 'DELETE' })).body?.cancel();
});

test('SIGTERM drains: 503 + Retry-After and readyz 503 at once, running calls end as server-drain, exit 0', async () => {
  const { caller, location } = await call('drain');
  await waitFor(() => caller.caller.connected, 15_000, 'connected');
  trx!.child.kill('SIGTERM');
  await waitFor(async () => (await fetch(`${base}/readyz`)).status === 503, 2000, 'readyz 503');
  const refused = await fetch(`${base}/v1/realtime/calls`, { method: 'POST', body: offerFor(caller.caller), headers: { 'content-type': 'application/sdp' } });
  assert.equal(refused.status, 503);
  assert.ok(Number(refused.headers.get('retry-after')) > 0);
  assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ERR_SIGNALING_DRAINING');
  assert.equal((await info(location)).state, 'connected', 'calls keep running during the grace period');
  const code = await new Promise<number | null>((r) => trx!.child.once('exit', r));
  assert.equal(code, 0);
  assert.ok(trx!.lines.some((l) => l.includes('"reason":"server-drain"')), 'the call was ended as server-drain');
  await waitFor(() => caller.caller.events.includes('dtls:closed'), 2000, 'close_notify at the caller');
});
