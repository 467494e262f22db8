// `npm run bench:relay-tcp`: the relay's ICE-TCP path (issue #17) next to its UDP paths, with the
// same calls in the same run. Separate from bench/relay.ts, which measures the UDP datapath at
// saturation with C generators; this one is a paced voice workload — CALLS calls (1000) at 50
// frames/s each way, a real STUN check opening each flow, a fake transceiver echoing every frame
// (./relay-tcp/paced-calls.ts) — because a TCP client's cost is per connection and per frame,
// not per datagram burst. Each leg gets a fresh `parley relay` pinned to one CPU:
//   tcp        --listen-tcp, the JS TCP path (worker 0), beside the js UDP datapath
//   udp-js     the same calls over UDP, --datapath js
//   udp-native the same calls over UDP, --datapath native (the C addon)
// For each: frames/s forwarded (both directions), relay CPU per forwarded frame (µs, from
// /proc: robust to a busy machine), round-trip loss and RTT p50/p99. Then call setup: `parley
// load --tcp` against `parley load` on one `parley dev`, alternated, setup p50/p95.
// Settings: CALLS (1000), DUR (measured seconds, 10), WARM (2), ROUNDS (1), ONLY=tcp,udp-js,udp-native,setup,
// SETUP_CALLS (50), SETUP_RATE (calls/s, 10), SETUP_REPS (2). Every run is bounded in time. Wrap in flock (COMMON.md).
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { systemRng } from '../src/common/system-rng.ts';
import { Keyring, mint } from '../src/core/token/index.ts';
import { parseAddress } from '../src/core/address.ts';
import { allowedCpus } from '../src/relay/pin.ts';
import { cpuSeconds } from './relay/harness.ts';
import { EchoTransceiver, openCalls } from './relay-tcp/paced-calls.ts';

const CALLS = Number(process.env.CALLS ?? 1000);
const DUR = Number(process.env.DUR ?? 10);
const WARM = Number(process.env.WARM ?? 2);
const ROUNDS = Number(process.env.ROUNDS ?? 1);
const SETUP_CALLS = Number(process.env.SETUP_CALLS ?? 50);
const SETUP_RATE = Number(process.env.SETUP_RATE ?? 10);
const SETUP_REPS = Number(process.env.SETUP_REPS ?? 2);
const ONLY = (process.env.ONLY ?? 'tcp,udp-js,udp-native,setup').split(',');
const ROOT = new URL('..', import.meta.url).pathname;
const BIN = `${ROOT}bin/parley.ts`;
// Away from bench/relay.ts (25000/27000) and parley dev's defaults.
const RELAY_UDP = '127.0.0.1:25100';
const RELAY_TCP = '127.0.0.1:25102';
const ECHO = { address: '127.0.0.1', port: 27100, family: 'IPv4' as const };
const cpus = allowedCpus();
const RELAY_CPU = String(cpus[cpus.length - 1]);

const keyring = Keyring.generate(systemRng);
const la = (): string =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(' ');

function untilLine(p: ChildProcess, want: (rec: Record<string, unknown>) => boolean, ms: number): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no ready line within ${ms} ms`)), ms);
    for (const s of [p.stdout!, p.stderr!])
      createInterface({ input: s }).on('line', (l) => {
        try {
          const rec = JSON.parse(l) as Record<string, unknown>;
          if (want(rec)) {
            clearTimeout(timer);
            resolve(rec);
          }
        } catch {
          // not a log line
        }
      });
    p.once('exit', (c) => reject(new Error(`exited ${c} before ready`)));
  });
}

function stop(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    const kill = setTimeout(() => p.kill('SIGKILL'), 8000);
    p.once('exit', () => {
      clearTimeout(kill);
      r();
    });
    p.kill('SIGTERM');
  });
}

interface Leg {
  leg: string;
  calls: number;
  offeredFps: number;
  forwardedFps: number;
  relayCpuPct: number;
  cpuUsPerFrame: number;
  loss: number;
  /** Share of the frames the generator itself could not write (TCP): part of `loss` that is not the relay's. */
  generatorUnsent: number;
  rttP50: number | undefined;
  rttP99: number | undefined;
  genCpuPct: number;
  /** The relay's own drop and close counters that are not zero: where the loss was. */
  drops: Record<string, number>;
  /** UDP datagrams the kernel dropped for a full receive buffer during the leg (any socket on the machine). */
  udpRcvbufErrors: number;
  load: string;
}

/** The kernel's UDP receive-buffer overflows (machine-wide, /proc/net/snmp): a socket read too slowly. */
function udpRcvbufErrors(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((l) => l.startsWith('Udp:'));
  const names = lines[0].split(/\s+/);
  return Number(lines[1].split(/\s+/)[names.indexOf('RcvbufErrors')]);
}

/** Non-zero drop and TCP-close counters from the relay's /metrics. */
async function relayDrops(http: string): Promise<Record<string, number>> {
  const text = await (await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(5000) })).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(parley_relay_(?:drops_total|tcp_closed_total)\{[^}]*\}) (\S+)$/.exec(line);
    if (m && Number(m[2]) > 0) out[m[1]] = Number(m[2]);
  }
  return out;
}

async function leg(name: 'tcp' | 'udp-js' | 'udp-native'): Promise<Leg> {
  const datapath = name === 'udp-native' ? 'native' : 'js';
  const relay = spawn(
    'taskset',
    [
      '-c',
      RELAY_CPU,
      process.execPath,
      BIN,
      'relay',
      '--listen',
      RELAY_UDP,
      '--listen-tcp',
      RELAY_TCP,
      '--internal',
      '127.0.0.1:25101',
    ].concat(
      ['--http', '127.0.0.1:0', '--workers', '1', '--datapath', datapath, '--new-flow-rate', '1000000', '--new-flow-burst', '1000000'],
      ['--unconfirmed-timeout', '600', '--log-level', 'info'],
    ),
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PARLEY_KEYS: keyring.toString() } },
  );
  const echo = await EchoTransceiver.start(ECHO.port);
  try {
    const ready = await untilLine(relay, (r) => r.msg === 'relay ready', 30_000);
    const tokens = Array.from({ length: CALLS }, () => mint(ECHO, keyring, Date.now(), systemRng));
    const to = parseAddress(name === 'tcp' ? RELAY_TCP : RELAY_UDP)!;
    const calls = await openCalls(name === 'tcp' ? 'tcp' : 'udp', to, tokens, 60_000);
    try {
      calls.start();
      await new Promise((r) => setTimeout(r, WARM * 1000));
      const s0 = {
        sent: calls.sent,
        back: calls.received,
        echo: await echo.frames(),
        cpu: cpuSeconds(relay.pid),
        gen: process.cpuUsage(),
        rcvbuf: udpRcvbufErrors(),
        t: Date.now(),
      };
      await new Promise((r) => setTimeout(r, DUR * 1000));
      const s1 = {
        sent: calls.sent,
        back: calls.received,
        echo: await echo.frames(),
        cpu: cpuSeconds(relay.pid),
        gen: process.cpuUsage(s0.gen),
        t: Date.now(),
      };
      calls.stop();
      await new Promise((r) => setTimeout(r, 1500)); // what is in flight comes back
      const drops = await relayDrops(String(ready.http));
      const secs = (s1.t - s0.t) / 1000;
      const forwarded = s1.echo - s0.echo + (s1.back - s0.back);
      const rtt = calls.rtt.percentiles();
      const out: Leg = {
        leg: name,
        calls: CALLS,
        offeredFps: (2 * (s1.sent - s0.sent)) / secs,
        forwardedFps: forwarded / secs,
        relayCpuPct: (100 * (s1.cpu - s0.cpu)) / secs,
        cpuUsPerFrame: ((s1.cpu - s0.cpu) * 1e6) / forwarded,
        loss: 1 - calls.received / calls.sent,
        generatorUnsent: calls.unsent / calls.sent,
        rttP50: rtt.p50,
        rttP99: rtt.p99,
        genCpuPct: (100 * (s1.gen.user + s1.gen.system)) / 1e6 / secs,
        drops,
        udpRcvbufErrors: udpRcvbufErrors() - s0.rcvbuf,
        load: la(),
      };
      calls.close();
      return out;
    } catch (err) {
      calls.close();
      throw err;
    }
  } finally {
    await echo.close();
    await stop(relay);
  }
}

interface Setup {
  transport: 'udp' | 'tcp';
  connected: number;
  failures: Record<string, number>;
  p50: number;
  p95: number;
  load: string;
}

async function setupRuns(): Promise<Setup[]> {
  const addrs = ['--http', '--relay', '--relay-tcp', '--relay-internal', '--relay-http', '--ops', '--media'].flatMap((f) => [
    f,
    '127.0.0.1:0',
  ]);
  const dev = spawn(process.execPath, [BIN, 'dev', ...addrs, '--log-level', 'warn'], { stdio: ['ignore', 'pipe', 'pipe'] });
  dev.stderr!.resume();
  const ready = await new Promise<{ signaling: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('parley dev not ready in 60 s')), 60_000);
    createInterface({ input: dev.stdout! }).on('line', (l) => {
      const m = /^parley dev ready (\{.*\})$/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]) as { signaling: string });
      }
    });
  });
  const out: Setup[] = [];
  try {
    for (let rep = 0; rep < SETUP_REPS; rep++) {
      for (const transport of ['udp', 'tcp'] as const) {
        const args = [
          BIN,
          'load',
          ready.signaling,
          '--json',
          '--calls',
          String(SETUP_CALLS),
          '--ramp-per-sec',
          String(SETUP_RATE),
          '--seconds',
          '1',
        ];
        const p = spawn(process.execPath, transport === 'tcp' ? [...args, '--tcp'] : args, { stdio: ['ignore', 'pipe', 'ignore'] });
        let text = '';
        p.stdout!.on('data', (d: Buffer) => (text += d.toString()));
        const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
        await new Promise((r) => p.once('exit', r));
        clearTimeout(timer);
        const r = JSON.parse(text) as { connected: number; failures: Record<string, number>; setupMs: { p50: number; p95: number } };
        out.push({ transport, connected: r.connected, failures: r.failures, p50: r.setupMs.p50, p95: r.setupMs.p95, load: la() });
        console.error(`setup ${transport}: ${JSON.stringify(out[out.length - 1])}`);
      }
    }
  } finally {
    await stop(dev);
  }
  return out;
}

console.error(
  `bench:relay-tcp: ${CALLS} calls × 50 frames/s each way, ${DUR} s measured after ${WARM} s; relay on CPU ${RELAY_CPU}; load ${la()}`,
);
const legs: Leg[] = [];
// Rounds interleave the legs, so each sees the same background load.
for (let round = 0; round < ROUNDS; round++) {
  for (const name of ['tcp', 'udp-js', 'udp-native'] as const) {
    if (!ONLY.includes(name)) continue;
    const r = await leg(name);
    legs.push(r);
    console.error(JSON.stringify(r));
  }
}
const setup = ONLY.includes('setup') ? await setupRuns() : [];
const f = (n: number | undefined, d = 1): string => (n === undefined ? 'n/a' : n.toFixed(d));
console.log(`\n| leg | frames/s offered | frames/s forwarded | relay CPU | µs CPU / frame | loss | RTT p50 / p99 ms | load avg |`);
console.log(`|---|---|---|---|---|---|---|---|`);
for (const r of legs)
  console.log(
    `| ${r.leg} | ${f(r.offeredFps, 0)} | ${f(r.forwardedFps, 0)} | ${f(r.relayCpuPct, 0)}% | ${f(r.cpuUsPerFrame, 2)} | ${(r.loss * 100).toFixed(3)}% | ${f(r.rttP50, 2)} / ${f(r.rttP99, 2)} | ${r.load} |`,
  );
if (setup.length > 0) {
  console.log(`\n| setup (${SETUP_CALLS} calls at ${SETUP_RATE}/s) | connected | failed | p50 ms | p95 ms | load avg |`);
  console.log(`|---|---|---|---|---|---|`);
  for (const s of setup)
    console.log(`| ${s.transport} | ${s.connected} | ${JSON.stringify(s.failures)} | ${f(s.p50)} | ${f(s.p95)} | ${s.load} |`);
}
