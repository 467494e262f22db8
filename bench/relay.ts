// `npm run bench:relay`: forwarded packets/s (172-byte RTP-shaped packets over 1000 flows, the
// generator at full speed), loss, and p50/p99 one-way latency at a fixed 20 000 pps, for
//   gen alone · (a) direct, no relay · (b) naive single-socket Node dgram forwarder ·
//   (c) parley relay, 1 worker · (d) parley relay, 2 workers  (--datapath js, TypeScript)
//   (n) parley relay, 1 worker · (n2) parley relay, 2 workers  (--datapath native, the C addon)
// plus (b2) the naive forwarder as 2 worker threads and (b3) as 2 processes (the measurement
// behind choosing threads, docs/relay.md). Load generator and sink are the C tools of the shared
// relay-bench harness (sendmmsg/recvmmsg), so the generator is not the limit. Every run is
// bounded in time. Settings: DUR (s, 5), REPS (1), FLOWS (1000), LAT_PPS (20000), ONLY=gen,a,b,c,d,n,n2,b2,b3
import { writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { systemRng } from '../src/common/system-rng.ts';
import { Keyring, mint } from '../src/core/token/index.ts';
import { allowedCpus } from '../src/relay/pin.ts';
import type { RelaySpec, RunResult } from './relay/harness.ts';
import { BUILD, build, runOne } from './relay/harness.ts';

const DUR = Number(process.env.DUR ?? 5);
const REPS = Number(process.env.REPS ?? 1);
const FLOWS = Number(process.env.FLOWS ?? 1000);
const LAT_PPS = Number(process.env.LAT_PPS ?? 20000);
const LEN = 172;
// Below the ephemeral range and away from the defaults of `parley dev` (3478/3479/7000/9090),
// which may be running on the same machine.
const RELAY_ADDR = '127.0.0.1:25000';
const SINK_ADDR = '127.0.0.1:27000';
const NODE = process.execPath;
const ROOT = new URL('..', import.meta.url).pathname;

build();
const cpus = allowedCpus();
const [GEN_CPU, RELAY_CPU] = cpus.length >= 2 ? [String(cpus[0]), String(cpus[1])] : [String(cpus[0]), String(cpus[0])];
const BOTH = cpus.length >= 2 ? `${cpus[0]},${cpus[1]}` : String(cpus[0]);

// Tokens for parley (real MESSAGE-INTEGRITY with the derived password) and "r<port>x" ufrags
// for the naive forwarder; both route to the sink. One token per flow, minted just before each
// run, as real calls have them: the relay holds at most a few flows per token and opens a token's
// first flow only within a minute of its minting (issue #19, docs/security.md), so 64 shared
// tokens (as before) left most of the 1000 flows without a flow and measured the miss path.
const keyring = Keyring.generate(systemRng);
const sink = { address: '127.0.0.1', port: Number(SINK_ADDR.split(':')[1]), family: 'IPv4' as const };
const parleyUfrags = `${BUILD}/parley-ufrags.txt`;
const naiveUfrags = `${BUILD}/naive-ufrags.txt`;
const writeParleyUfrags = (): void =>
  writeFileSync(
    parleyUfrags,
    Array.from({ length: FLOWS }, () => {
      const t = mint(sink, keyring, Date.now(), systemRng);
      return `${t.ufrag} ${t.pwd}`;
    }).join('\n') + '\n',
  );
writeFileSync(naiveUfrags, Array.from({ length: 64 }, (_, i) => `r${sink.port}x${i.toString(16).padStart(8, '0')}`).join('\n') + '\n');

const parley = (workers: number, datapath: 'js' | 'native' = 'js'): string[] => [
  NODE,
  `${ROOT}bin/parley.ts`,
  'relay',
  '--listen',
  RELAY_ADDR,
  '--internal',
  '127.0.0.1:25001',
  '--http',
  '127.0.0.1:0',
  '--workers',
  String(workers),
  '--new-flow-rate',
  '1000000',
  '--new-flow-burst',
  '1000000',
  // The sink never sends back, so no flow is ever confirmed: keep them past the run (issue #19's
  // 5 s default would remove every flow mid-run, as it would a real one whose transceiver is gone).
  '--unconfirmed-timeout',
  '600',
  '--log-level',
  'info',
  '--datapath',
  datapath,
];
const naive = (workers: number, mode: string): string[] => [
  NODE,
  `${ROOT}bench/relay/naive-forwarder.ts`,
  '--listen',
  RELAY_ADDR,
  '--workers',
  String(workers),
  '--mode',
  mode,
];
const env = { PARLEY_KEYS: keyring.toString() };
const relays: (RelaySpec & { key: string; ufrags: string })[] = [
  { key: 'gen', name: 'gen alone (sink on the relay CPU)', cmd: [], cpus: '', ufrags: naiveUfrags },
  { key: 'a', name: '(a) direct, no relay', cmd: [], cpus: '', ufrags: naiveUfrags },
  { key: 'b', name: '(b) naive Node dgram forwarder', cmd: naive(1, 'thread'), cpus: RELAY_CPU, ufrags: naiveUfrags },
  { key: 'c', name: '(c) parley relay js, 1 worker', cmd: parley(1), cpus: RELAY_CPU, ufrags: parleyUfrags, env, readyLine: 'relay ready' },
  { key: 'd', name: '(d) parley relay js, 2 workers', cmd: parley(2), cpus: BOTH, ufrags: parleyUfrags, env, readyLine: 'relay ready' },
  {
    key: 'n',
    name: '(n) parley relay native, 1 worker',
    cmd: parley(1, 'native'),
    cpus: RELAY_CPU,
    ufrags: parleyUfrags,
    env,
    readyLine: 'relay ready',
  },
  {
    key: 'n2',
    name: '(n2) parley relay native, 2 workers',
    cmd: parley(2, 'native'),
    cpus: BOTH,
    ufrags: parleyUfrags,
    env,
    readyLine: 'relay ready',
  },
  { key: 'b2', name: '(b2) naive, 2 worker threads', cmd: naive(2, 'thread'), cpus: BOTH, ufrags: naiveUfrags },
  { key: 'b3', name: '(b3) naive, 2 processes', cmd: naive(2, 'process'), cpus: BOTH, ufrags: naiveUfrags },
];
const only = process.env.ONLY?.split(',');

const results = new Map<string, { sat: RunResult[]; lat: RunResult[] }>();
const started = Date.now();
// Repetitions are the outer loop, so every relay is measured under the same background load
// in each round (this machine is shared), and ratios are taken per round.
for (let rep = 0; rep < REPS; rep++) {
  for (const r of relays) {
    if (only && !only.includes(r.key)) continue;
    let entry = results.get(r.key);
    if (!entry) results.set(r.key, (entry = { sat: [], lat: [] }));
    for (const test of ['sat', 'lat'] as const) {
      if (r.key === 'gen' && test === 'lat') continue;
      process.stderr.write(`bench: round ${rep + 1}/${REPS} ${r.name} ${test}\n`);
      if (r.ufrags === parleyUfrags) writeParleyUfrags();
      try {
        entry[test].push(
          await runOne(r, {
            test,
            rate: test === 'sat' ? 0 : LAT_PPS,
            durS: DUR,
            flows: FLOWS,
            len: LEN,
            ufragFile: r.ufrags,
            relayAddr: RELAY_ADDR,
            sinkAddr: SINK_ADDR,
            genCpu: GEN_CPU,
            sinkCpu: r.key === 'gen' ? RELAY_CPU : GEN_CPU,
            spinCpus: BOTH.split(','),
          }),
        );
      } catch (err) {
        process.stderr.write(`bench: ${r.name} ${test} failed: ${(err as Error).message}\n`);
      }
    }
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN;
};
const sat = (k: string): number => median(results.get(k)?.sat.map((x) => x.fwdPps) ?? []);
const fmt = (n: number, d = 0): string =>
  Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : '—';
const pct = (n: number): string => (Number.isFinite(n) ? `${(n * 100).toFixed(2)}%` : '—');

const rows = [
  ['relay', 'fwd pps (full speed)', 'offered pps', 'loss', `loss @${LAT_PPS}`, 'p50 µs', 'p99 µs', 'kernel p99 µs', 'relay CPU µs/pkt'],
];
for (const r of relays) {
  const e = results.get(r.key);
  if (!e) continue;
  rows.push([
    r.name,
    fmt(sat(r.key)),
    fmt(median(e.sat.map((x) => x.offeredPps))),
    pct(median(e.sat.map((x) => x.loss))),
    pct(median(e.lat.map((x) => x.loss))),
    fmt(median(e.lat.map((x) => x.p50us)), 1),
    fmt(median(e.lat.map((x) => x.p99us)), 1),
    fmt(median(e.lat.map((x) => x.kp99us)), 1),
    fmt(median(e.sat.map((x) => x.cpuUsPerPkt)), 2),
  ]);
}
const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
const line = (row: string[]): string => row.map((c, i) => (i === 0 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
console.log(`\nparley relay benchmark — ${FLOWS} flows, ${LEN}-byte packets, ${DUR} s per run, ${REPS} rep(s), median shown;`);
console.log(
  `CPUs: generator+sink ${GEN_CPU}, 1-worker relays ${RELAY_CPU}, 2-worker relays ${BOTH} (of ${availableParallelism()}); latency runs with SCHED_IDLE spinners`,
);
console.log(line(rows[0]));
console.log(widths.map((w) => '-'.repeat(w)).join('  '));
for (const row of rows.slice(1)) console.log(line(row));
// Ratio per round (same background load), then the median over rounds.
const ratio = (x: string, y: string): string => {
  const xs = results.get(x)?.sat ?? [];
  const ys = results.get(y)?.sat ?? [];
  return fmt(median(xs.map((r, i) => r.fwdPps / (ys[i]?.fwdPps ?? NaN))), 2);
};
console.log(
  `\nratios of full-speed forwarded pps (median of per-round ratios): (c)/(b) ${ratio('c', 'b')}   (d)/(b) ${ratio('d', 'b')}   (n)/(b) ${ratio('n', 'b')}   (n)/(c) ${ratio('n', 'c')}   (n)/(a) ${ratio('n', 'a')}   (c)/(a) ${ratio('c', 'a')}   (b3)/(b2) ${ratio('b3', 'b2')}`,
);
const p99 = (k: string): number[] => results.get(k)?.lat.map((r) => r.p99us) ?? [];
console.log(
  `p99 at ${LAT_PPS} pps per round, µs: (b) ${p99('b')
    .map((x) => fmt(x))
    .join(' / ')}   (c) ${p99('c')
    .map((x) => fmt(x))
    .join(' / ')}   (d) ${p99('d')
    .map((x) => fmt(x))
    .join(' / ')}   (n) ${p99('n')
    .map((x) => fmt(x))
    .join(' / ')}`,
);
const pps = (k: string): string => (results.get(k)?.sat ?? []).map((r) => fmt(r.fwdPps)).join(' / ');
console.log(`forwarded pps per round: (b) ${pps('b')}   (c) ${pps('c')}   (d) ${pps('d')}   (n) ${pps('n')}   (n2) ${pps('n2')}`);
const cpuRatio = (x: string, y: string): string => {
  const xs = results.get(x)?.sat ?? [];
  const ys = results.get(y)?.sat ?? [];
  return fmt(median(xs.map((r, i) => (ys[i]?.cpuUsPerPkt ?? NaN) / r.cpuUsPerPkt)), 2);
};
console.log(
  `packets per relay-CPU-second vs naive (median of per-round ratios; the measure a busy machine distorts least): (c)/(b) ${cpuRatio('c', 'b')}   (d)/(b) ${cpuRatio('d', 'b')}   (n)/(b) ${cpuRatio('n', 'b')}`,
);
const cpu = (k: string): string => (results.get(k)?.sat ?? []).map((r) => fmt(r.cpuUsPerPkt, 2)).join(' / ');
console.log(
  `relay CPU µs per forwarded packet per round: (b) ${cpu('b')}   (c) ${cpu('c')}   (d) ${cpu('d')}   (b2) ${cpu('b2')}   (b3) ${cpu('b3')}   (n) ${cpu('n')}   (n2) ${cpu('n2')}`,
);
console.log(
  `load average at the end: ${loadavg()
    .map((x) => x.toFixed(1))
    .join(' ')} (other work on this machine skews everything)`,
);
console.log(`total time ${((Date.now() - started) / 1000).toFixed(0)} s`);
