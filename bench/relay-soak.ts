// Soak: `parley relay --datapath native` (1 worker) under 100 000 pps for 10 minutes with flows
// churning, sampling the relay's RSS. Each generator round opens 1000 new client sockets (new
// flows: first packets through the TypeScript side, installed in the native table) and runs for
// ROUND_S seconds; the previous round's flows go idle and expire (--idle-timeout 5), so the
// native table sees installs and removals all the time. Prints RSS at the start (after the first
// round) and the end, the flows created/expired, and loss per round. Not part of CI.
// "created" grows by a little less than 1000 per round: the kernel hands a new round some of
// the ephemeral ports of the last one, whose flows have not expired yet (same flow, no new one).
// Settings: MINUTES (10), PPS (100000), ROUND_S (20), DATAPATH (native). Every process is
// bounded in time and stopped by its PID.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { systemRng } from '../src/common/system-rng.ts';
import { Keyring, mint } from '../src/core/token/index.ts';
import { allowedCpus } from '../src/relay/pin.ts';
import { BUILD, build } from './relay/harness.ts';

const MINUTES = Number(process.env.MINUTES ?? 10);
const PPS = Number(process.env.PPS ?? 100_000);
const ROUND_S = Number(process.env.ROUND_S ?? 20);
const DATAPATH = process.env.DATAPATH ?? 'native';
const RELAY = '127.0.0.1:24100';
const SINK = '127.0.0.1:26100';
const ROOT = new URL('..', import.meta.url).pathname;

build();
const cpus = allowedCpus();
const [genCpu, relayCpu] = cpus.length >= 2 ? [String(cpus[0]), String(cpus[1])] : [String(cpus[0]), String(cpus[0])];
const keyring = Keyring.generate(systemRng);
const ufrags = `${BUILD}/soak-ufrags.txt`;
const sink = { address: '127.0.0.1', port: Number(SINK.split(':')[1]), family: 'IPv4' as const };
writeFileSync(
  ufrags,
  Array.from({ length: 64 }, () => {
    const t = mint(sink, keyring, Date.now(), systemRng);
    return `${t.ufrag} ${t.pwd}`;
  }).join('\n') + '\n',
);

const rssKb = (pid: number): number => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const metrics = async (http: string): Promise<Map<string, number>> => {
  const text = await (await fetch(`http://${http}/metrics`, { signal: AbortSignal.timeout(3000) })).text();
  return new Map(
    text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
  );
};
const run = (cmd: string[], ms: number): Promise<string> =>
  new Promise((resolve) => {
    const p = spawn('taskset', ['-c', genCpu, ...cmd], { stdio: ['ignore', 'pipe', 'ignore'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const t = setTimeout(() => p.kill('SIGKILL'), ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve(out);
    });
  });

const totalS = MINUTES * 60;
const relay: ChildProcess = spawn(
  'taskset',
  [
    '-c',
    relayCpu,
    process.execPath,
    `${ROOT}bin/parley.ts`,
    'relay',
    '--listen',
    RELAY,
    '--internal',
    '127.0.0.1:24101',
    '--http',
    '127.0.0.1:24190',
    '--workers',
    '1',
    '--datapath',
    DATAPATH,
    '--idle-timeout',
    '5',
    '--new-flow-rate',
    '1000000',
    '--new-flow-burst',
    '1000000',
    '--log-level',
    'warn',
  ],
  { env: { ...process.env, PARLEY_KEYS: keyring.toString() }, stdio: ['ignore', 'ignore', 'inherit'] },
);
const sinkProc = spawn('taskset', ['-c', genCpu, `${BUILD}/udpsink`, '-l', SINK, '-t', String(totalS + 60), '-i', '600000'], {
  stdio: ['ignore', 'pipe', 'ignore'],
});
let sinkOut = '';
sinkProc.stdout?.on('data', (d: Buffer) => (sinkOut += d.toString()));
const stopAll = (): void => {
  relay.kill('SIGTERM');
  sinkProc.kill('SIGTERM');
};
process.on('SIGINT', () => {
  stopAll();
  process.exit(1);
});
try {
  // /readyz, not /metrics: the ops server answers before the worker has bound its sockets.
  for (let i = 0; i < 150; i++) {
    const ok = await fetch('http://127.0.0.1:24190/readyz', { signal: AbortSignal.timeout(1000) }).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  const pid = relay.pid as number;
  const samples: { s: number; rssMb: number }[] = [];
  const started = Date.now();
  let rssStart = NaN;
  let sent = 0;
  let round = 0;
  while ((Date.now() - started) / 1000 < totalS - 1) {
    const dur = Math.min(ROUND_S, totalS - (Date.now() - started) / 1000);
    const g = JSON.parse(
      (await run(
        [`${BUILD}/udpgen`, '-d', RELAY, '-u', ufrags, '-f', '1000', '-r', String(PPS), '-t', String(dur), '-l', '172', '-b', '32'],
        (dur + 30) * 1000,
      )) || '{}',
    );
    sent += g.sent ?? 0;
    round++;
    const rss = rssKb(pid) / 1024;
    const m = await metrics('127.0.0.1:24190');
    samples.push({ s: Math.round((Date.now() - started) / 1000), rssMb: rss });
    if (round === 1) rssStart = rss;
    process.stderr.write(
      `soak: round ${round} t=${samples.at(-1)?.s}s offered ${Math.round(g.pps ?? 0)} pps, RSS ${rss.toFixed(1)} MB, flows ${m.get('parley_relay_flows{worker="0"}')}, created ${m.get('parley_relay_flows_created_total')}, expired ${m.get('parley_relay_flows_expired_total')}\n`,
    );
  }
  const m = await metrics('127.0.0.1:24190');
  const rssEnd = rssKb(pid) / 1024;
  await new Promise((r) => setTimeout(r, 1000));
  sinkProc.kill('SIGTERM');
  await new Promise((r) => sinkProc.once('exit', r));
  const s = JSON.parse(sinkOut.trim().split('\n').at(-1) || '{}');
  const fwd = m.get('parley_relay_packets_total{direction="to_transceiver"}') ?? 0;
  console.log(
    JSON.stringify({
      datapath: DATAPATH,
      minutes: MINUTES,
      pps: PPS,
      rounds: round,
      sent,
      forwarded: fwd,
      sinkTagged: s.tagged,
      loss: sent > 0 ? 1 - (s.tagged ?? 0) / sent : null,
      flowsCreated: m.get('parley_relay_flows_created_total'),
      flowsExpired: m.get('parley_relay_flows_expired_total'),
      drops: Object.fromEntries(
        [...m].filter(([k, v]) => k.startsWith('parley_relay_drops_total') && v > 0).map(([k, v]) => [/reason="(\w+)"/.exec(k)?.[1], v]),
      ),
      rssStartMb: Number(rssStart.toFixed(1)),
      rssEndMb: Number(rssEnd.toFixed(1)),
      rssMaxMb: Number(Math.max(...samples.map((x) => x.rssMb)).toFixed(1)),
      samples,
    }),
  );
} finally {
  stopAll();
}
