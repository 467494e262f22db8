// Process plumbing for bench/relay.ts: builds the C load generator and sink in ./load
// (udpgen.c, udpsink.c, spin.c; built into /tmp), and runs one
// measurement: sink, optional relay, generator, each pinned with taskset and bounded in time.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The C load generator, sink and spinner (bench/relay/load/README.md). */
export const LOAD_TOOLS = fileURLToPath(new URL('./load/', import.meta.url));
export const LOAD_PROGRAMS = ['udpgen', 'udpsink', 'spin'] as const;
export const BUILD = process.env.BENCH_BUILD ?? '/tmp/parley-relay-bench';
const STUN_TO_RTP_WAIT_MS = 1500;

export function build(): void {
  mkdirSync(BUILD, { recursive: true });
  for (const p of LOAD_PROGRAMS) {
    if (existsSync(join(BUILD, p))) continue;
    try {
      execFileSync('gcc', ['-O2', '-Wall', '-o', join(BUILD, p), join(LOAD_TOOLS, `${p}.c`), '-lcrypto'], { stdio: 'inherit' });
    } catch {
      throw new Error(`building ${p} failed: needs gcc and libssl-dev (apt-get install -y gcc libssl-dev)`);
    }
  }
}

export interface RelaySpec {
  readonly name: string;
  /** argv; empty = no relay (generator → sink directly). */
  readonly cmd: readonly string[];
  readonly cpus: string;
  /** Log line (substring of stderr) that means ready; else wait for the UDP port. */
  readonly readyLine?: string;
  readonly env?: Record<string, string>;
}

export interface RunResult {
  relay: string;
  test: string;
  offeredPps: number;
  sent: number;
  fwd: number;
  fwdPps: number;
  loss: number;
  p50us: number;
  p99us: number;
  kp99us: number;
  /** Relay CPU time (user + system, all threads and child processes) per forwarded packet, µs; robust to a busy machine. */
  cpuUsPerPkt: number;
}

/** utime + stime of a process and its descendants (all threads), in seconds; NaN when unreadable. */
export function cpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  const procs = new Map<number, { ppid: number; cpu: number }>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const stat = readFileSync(`/proc/${d}/stat`, 'utf8');
      // proc(5): after "(comm)", field 4 ppid is index 1, fields 14/15 utime/stime are 11/12.
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      procs.set(Number(d), { ppid: Number(f[1]), cpu: (Number(f[11]) + Number(f[12])) / CLOCK_TICKS });
    } catch {
      // the process ended meanwhile
    }
  }
  if (!procs.has(pid)) return NaN;
  let total = 0;
  const todo = [pid];
  while (todo.length) {
    const p = todo.pop() as number;
    total += procs.get(p)?.cpu ?? 0;
    for (const [child, e] of procs) if (e.ppid === p) todo.push(child);
  }
  return total;
}

const CLOCK_TICKS = Number(process.env.CLK_TCK ?? 100);

function portListening(port: number): boolean {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')}`;
  return readFileSync('/proc/net/udp', 'utf8')
    .split('\n')
    .some((l) => l.trim().split(/\s+/)[1]?.endsWith(hex));
}

async function until(cond: () => boolean, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function exited(p: ChildProcess, ms: number): Promise<void> {
  return new Promise((resolve) => {
    if (p.exitCode !== null || p.signalCode !== null) return resolve();
    const t = setTimeout(() => {
      p.kill('SIGKILL');
    }, ms);
    p.once('exit', () => {
      clearTimeout(t);
      resolve();
    });
  });
}

function collect(p: ChildProcess): () => string {
  let out = '';
  p.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  return () => out;
}

export interface RunOptions {
  readonly test: 'sat' | 'lat';
  readonly rate: number;
  readonly durS: number;
  readonly flows: number;
  readonly len: number;
  readonly ufragFile: string;
  readonly relayAddr: string;
  readonly sinkAddr: string;
  readonly genCpu: string;
  readonly sinkCpu: string;
  readonly spinCpus: readonly string[];
}

/** One bounded run: spinners (lat), sink, relay, generator; returns the sink's view. */
export async function runOne(relay: RelaySpec, o: RunOptions): Promise<RunResult> {
  const procs: ChildProcess[] = [];
  const spawnPinned = (cpus: string, argv: readonly string[], env?: Record<string, string>): ChildProcess => {
    const p = spawn('taskset', ['-c', cpus, ...argv], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
    procs.push(p);
    return p;
  };
  const relayPort = Number(o.relayAddr.split(':')[1]);
  const sinkPort = Number(o.sinkAddr.split(':')[1]);
  try {
    await until(() => !portListening(relayPort) && !portListening(sinkPort), 5000, 'ports to be free');
    if (o.test === 'lat') for (const c of o.spinCpus) spawnPinned(c, [join(BUILD, 'spin'), String(o.durS + 20)]);
    const sink = spawnPinned(o.sinkCpu, [
      join(BUILD, 'udpsink'),
      '-l',
      o.sinkAddr,
      '-t',
      String(o.durS + 20),
      '-i',
      String(STUN_TO_RTP_WAIT_MS + 1000),
    ]);
    const sinkOut = collect(sink);
    let dst = o.sinkAddr;
    let relayPid: number | undefined;
    if (relay.cmd.length > 0) {
      const r = spawnPinned(relay.cpus, relay.cmd, relay.env);
      relayPid = r.pid;
      let err = '';
      r.stderr?.on('data', (d: Buffer) => (err += d.toString()));
      if (relay.readyLine) await until(() => err.includes(relay.readyLine as string) || r.exitCode !== null, 20_000, `${relay.name} ready`);
      else await until(() => portListening(relayPort), 20_000, `${relay.name} listening`);
      if (r.exitCode !== null) throw new Error(`${relay.name} exited: ${err.slice(0, 500)}`);
      await new Promise((res) => setTimeout(res, 300));
      dst = o.relayAddr;
    }
    await until(() => portListening(sinkPort), 5000, 'sink listening');
    const gen = spawnPinned(o.genCpu, [
      join(BUILD, 'udpgen'),
      '-d',
      dst,
      '-u',
      o.ufragFile,
      '-f',
      String(o.flows),
      '-r',
      String(o.rate),
      '-t',
      String(o.durS),
      '-l',
      String(o.len),
      // 1.5 s between the STUN phase and the RTP phase (udpgen's default is 0.3 s): a relay that
      // verifies tokens spends ~30–70 µs per check, and on a busy CPU a backlog of 1000 checks
      // would otherwise spill into the first RTP packets and be measured as forwarding latency.
      // (The sink's idle timeout above is longer than this pause.)
      '-w',
      String(STUN_TO_RTP_WAIT_MS),
    ]);
    const genOut = collect(gen);
    const cpu0 = cpuSeconds(relayPid);
    await exited(gen, (o.durS + 30) * 1000);
    const cpu1 = cpuSeconds(relayPid);
    await exited(sink, 25_000);
    const g = JSON.parse(genOut().trim().split('\n').pop() ?? '{}');
    const s = JSON.parse(sinkOut().trim().split('\n').pop() ?? '{}');
    return {
      relay: relay.name,
      test: o.test,
      offeredPps: g.pps ?? 0,
      sent: g.sent ?? 0,
      fwd: s.tagged ?? 0,
      fwdPps: s.pps ?? 0,
      loss: g.sent > 0 ? 1 - (s.tagged ?? 0) / g.sent : 1,
      p50us: s.lat_us?.p50 ?? NaN,
      p99us: s.lat_us?.p99 ?? NaN,
      kp99us: s.klat_us?.p99 ?? NaN,
      cpuUsPerPkt: s.tagged > 0 ? ((cpu1 - cpu0) * 1e6) / s.tagged : NaN,
    };
  } finally {
    for (const p of procs) if (p.exitCode === null && p.signalCode === null) p.kill('SIGTERM');
    await Promise.all(procs.map((p) => exited(p, 3000)));
  }
}
