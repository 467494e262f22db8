// `npm run bench:calls`: calls per core and memory per call of the transceiver. Starts a relay
// (1 worker) and a transceiver as separate processes, each pinned (taskset) to its own CPU where
// the inherited affinity mask allows — on a 2-CPU machine the transceiver gets CPU 1 alone and the
// relay shares CPU 0 with the load generator — then runs `parley load` (echo handler, 50 packets/s
// each way per call) at 100, 200 and 400 calls. Over a steady window (every call connected and
// sending) it samples the transceiver's CPU (utime + stime from /proc/PID/stat) and RSS, and prints
// per call: % of a core = (CPU at N calls − CPU idle) / N, KB RSS = (RSS at N − RSS idle) / N,
// receive ratio, setup p50/p95, echo RTT p99, the kernel's receive-buffer drops on the
// transceiver's socket, and the load generator's own CPU (near 100 % means the generator, not the
// transceiver, was the limit), and how long the transceiver was runnable but waiting for its CPU
// (/proc/PID/schedstat: on a shared machine, another process had it — the machine, not Parley,
// was the limit). Then a reconnect storm: 500 calls at once.
// Settings (env): CALLS (100,200,400), WINDOW (s, 10), REPS (1), STORM (500; 0 skips),
// RAMP (calls/s, 100), UDP_BUFFER (transceiver --udp-buffer), MEDIA_IO (transceiver --media-io:
// native or dgram; default as the transceiver's own), MEDIA_BATCH_US (--media-batch-us),
// TRX_ARGS (extra transceiver flags), TRX_NODE_ARGS (the Node/V8 flags of the transceiver's
// process instead of Parley's own, src/transceiver/node-flags.ts; '' for none; e.g. `--trace-gc`; the flags the transceiver sets on itself there apply either way), TRX_LOG (a file: the transceiver's stdout and stderr appended to it,
// e.g. for the GC trace), CPU_PROF (a directory: the transceiver runs with --cpu-prof there), REFERENCE (pion: after each Parley row, the same row against the Pion
// ICE-lite echo server of bench/pion-echo — built from Debian's Go sources, pinned to the
// transceiver's CPU, measured the same way; `parley load` talks to its one UDP port directly, as
// Pion has no relay — then the Parley/Pion ratios of CPU and RSS per call). HANDLER=realtime or
// media-stream bridges every call to a test model / echoing agent (its own process on the load
// generator's CPU) and adds, per call count, an echo row in the same run (ECHO=0 skips it) and the
// codec alone at the handler's PCM rate (pinned to the transceiver's CPU), then prints both ratio
// forms — raw: bridged / codec; bridge only: (bridged − echo) / codec — and frames lost each way
// (what the model/agent sent vs what the callers received; what the callers sent vs what it heard).
// How the ratio is formed: each rep measures a bridged row, its echo row right before or after it
// (the order alternates by rep) and the codec anchor around the bridged row (median of three), and
// gives its own two ratios; the summary is the median over reps of every figure, ratios included
// (the median of the per-rep ratios), with its [min–max] spread, over the clean reps (no frame
// lost, ≤ 2 % of calls failed: a rep that lost frames did less work and would flatter the ratio), then
// one line per rep. Use REPS ≥ 3:
// on a shared machine one rep is one draw of the noise.
// AGENT_SILENT_S (media-stream): the agent echoes nothing of the first N seconds of each call.
// CODEC_THREADS (N ≥ 1, with HANDLER): the transceiver runs with `--codec-threads N`, its main
// thread alone pinned to its CPU once started (the codec threads may use the other core;
// /proc/PID/stat counts every thread's CPU), and the codec-alone anchor measures what those threads run (libopus through Parley's addon,
// media/codec-worker.ts) instead of the inline codec (media/frame-codec.ts).
// Every run is bounded in time.
//
// One file past 400 lines: one benchmark run (processes, sampling, the storm, the Pion rows) reads
// best top to bottom; its pieces are used nowhere else.
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createWriteStream, readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { systemRng } from '../src/common/system-rng.ts';
import { Keyring } from '../src/core/token/index.ts';
import { allowedCpus } from '../src/relay/pin.ts';
import { freePorts } from '../src/client/free-port.ts';
import type { LoadReport } from '../src/client/load.ts';
import { resolveMediaIo } from '../src/transceiver/config.ts';
import { TRANSCEIVER_NODE_FLAGS } from '../src/transceiver/node-flags.ts';
import { DEFAULT_MEDIA_BATCH_US } from '../src/transceiver/media/media-socket-native.ts';
import { buildGoProgram } from '../test/e2e/go-build.ts';

const NODE = process.execPath;
const BIN = new URL('../bin/parley.ts', import.meta.url).pathname;
const CALLS = (process.env.CALLS ?? '100,200,400').split(',').map(Number);
const WINDOW_S = Number(process.env.WINDOW ?? 10);
const REPS = Number(process.env.REPS ?? 1); // 0: the storm only
const STORM = Number(process.env.STORM ?? 500);
const RAMP = Number(process.env.RAMP ?? 100);
const REFERENCE = process.env.REFERENCE || undefined;
/**
 * HANDLER=realtime: every call bridges to the Realtime test model (test/support/realtime-model-server.ts);
 * HANDLER=media-stream: to the echoing Twilio-Media-Streams agent (test/support/media-stream-agent-server.ts). Each its own process.
 */
const HANDLER = process.env.HANDLER || undefined;
const BRIDGED = HANDLER === 'realtime' || HANDLER === 'media-stream';
/** HANDLER=media-stream: the echoing agent stays silent for the first AGENT_SILENT_S seconds of each call (as the realtime model's first reply comes after a second of audio). */
const AGENT_SILENT_S = Number(process.env.AGENT_SILENT_S ?? 0);
/** With HANDLER: an echo row after each bridged row (ECHO=0: none), for the bridge-only ratio. */
const ECHO_ROWS = BRIDGED && process.env.ECHO !== '0';
/** The PCM rate the bridge's codec works at: the Realtime API's 24 kHz; the media-stream handler's default µ-law 8 kHz. */
const BRIDGE_RATE = HANDLER === 'realtime' ? 24000 : 8000;
/** With HANDLER: the transceiver's --codec-threads (0: the codec on its event loop, pinned to one CPU as before). */
const CODEC_THREADS = Number(process.env.CODEC_THREADS ?? 0);
if (!(Number.isInteger(CODEC_THREADS) && CODEC_THREADS >= 0)) {
  process.stderr.write(`bench: CODEC_THREADS=${process.env.CODEC_THREADS}: a whole number of threads\n`);
  process.exit(2);
}
/** Seconds of caller audio the model/agent answers per connection, before the call hangs up (see rowSeconds). */
const ANSWER_MARGIN_S = 3;
if (HANDLER !== undefined && !BRIDGED) {
  process.stderr.write(`bench: HANDLER=${HANDLER}: only realtime or media-stream (the default is echo)\n`);
  process.exit(2);
}
if (REFERENCE !== undefined && REFERENCE !== 'pion') {
  process.stderr.write(`bench: REFERENCE=${REFERENCE}: the only reference is pion\n`);
  process.exit(2);
}
/** The table's word for the measured process: "server" when it has both Parley and Pion rows. */
const SERVER = REFERENCE ? 'server' : 'transceiver';
const TICK_HZ = 100; // USER_HZ: /proc/PID/stat counts CPU in 1/100 s on Linux
const PAGE_KB = 4;

const cpus = allowedCpus();
const [LOAD_CPU, TRX_CPU] = cpus.length >= 2 ? [String(cpus[0]), String(cpus[1])] : [undefined, undefined];
const pinned = (cpu: string | undefined, argv: string[]): string[] => (cpu === undefined ? argv : ['taskset', '-c', cpu, ...argv]);
/** Where the transceiver starts: its own CPU, or every CPU when its codec runs on threads of its own (then its main thread is pinned once they run). */
const TRX_CPUS = CODEC_THREADS > 0 ? undefined : TRX_CPU;

/** What the transceiver's --media-io resolves to, as its start-up log says it. */
function mediaIoText(): string {
  const args = `${process.env.MEDIA_IO ? `--media-io ${process.env.MEDIA_IO}` : ''} ${process.env.TRX_ARGS ?? ''}`;
  const asked = (/--media-io (native|dgram)/.exec(args)?.[1] ?? process.env.PARLEY_MEDIA_IO) as 'native' | 'dgram' | undefined;
  const io = resolveMediaIo(asked).io;
  const batch = /--media-batch-us (\d+)/.exec(
    `${process.env.MEDIA_BATCH_US ? `--media-batch-us ${process.env.MEDIA_BATCH_US}` : ''} ${args}`,
  )?.[1];
  return io === 'native' ? `native (batch window ${batch ?? DEFAULT_MEDIA_BATCH_US} µs)` : 'dgram';
}

const children: ChildProcess[] = [];
function start(name: string, argv: string[], env: NodeJS.ProcessEnv): ChildProcess & { output: () => string } {
  const child = spawn(argv[0], argv.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  const keep = (d: Buffer): void => {
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  child.on('exit', (code, sig) => {
    if (!stopping && !child.killed && name !== 'load' && name !== 'codec')
      process.stderr.write(`bench: ${name} exited (${code ?? sig})\n${out.slice(-2000)}\n`);
  });
  return Object.assign(child, { output: () => out });
}
let stopping = false;
/** SIGTERM, and SIGKILL 8 s later if it is still there. */
function stopChild(child: ChildProcess): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    const kill = setTimeout(() => child.kill('SIGKILL'), 8000);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
async function stopAll(): Promise<void> {
  stopping = true;
  await Promise.all(children.map(stopChild));
}
process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));

/** CPU seconds (utime + stime) of a process and its RSS in KB. */
function sample(pid: number): { cpu: number; rssKb: number; at: number } {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    // The process has already exited (a load run that ended early): no figure rather than a crash.
    return { cpu: NaN, rssKb: NaN, at: performance.now() };
  }
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // Fields after "(comm) ": state is index 0, so utime (14th field) is index 11, stime 12, rss (24th) 21.
  return { cpu: (Number(f[11]) + Number(f[12])) / TICK_HZ, rssKb: Number(f[21]) * PAGE_KB, at: performance.now() };
}

/**
 * CPU seconds of the process's threads by name (/proc/PID/task/TID/comm and stat): Node calls the
 * main thread `MainThread`, a worker thread (the codec threads) `WorkerThread`, V8's GC and compiler
 * helpers `V8Worker`; the rest (libuv, the native media socket) is summed as `other`.
 */
function threadCpu(pid: number): Record<string, number> {
  const out: Record<string, number> = {};
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const comm = readFileSync(`/proc/${pid}/task/${tid}/comm`, 'utf8').trim();
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // The first MainThread is the process's own (the task whose id is the pid).
      const kind = tid === String(pid) ? 'main' : comm === 'WorkerThread' ? 'workers' : comm === 'V8Worker' ? 'v8' : 'other';
      out[kind] = (out[kind] ?? 0) + (Number(f[11]) + Number(f[12])) / TICK_HZ;
    } catch {
      // a thread ended while we read
    }
  }
  return out;
}

/** Time the process's threads spent runnable but waiting for a CPU, s (/proc/PID/schedstat: run, wait, slices). */
function runQueueWait(pid: number): number {
  let total = 0;
  try {
    for (const tid of readdirSync(`/proc/${pid}/task`))
      total += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[1]) / 1e9;
  } catch {
    // a thread ended while we read
  }
  return total;
}

/** Receive-buffer drops of the UDP socket bound to `port` (last column of /proc/net/udp). */
function socketDrops(port: number): number {
  let drops = 0;
  for (const file of ['/proc/net/udp', '/proc/net/udp6']) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols.length < 13) continue;
      if (parseInt(cols[1].split(':')[1], 16) === port) drops += Number(cols[cols.length - 1]);
    }
  }
  return drops;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function waitReady(url: string, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.ok) return;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  throw new Error(`not ready: ${url}`);
}

interface LoadRun {
  readonly report: LoadReport | undefined;
  readonly code: number | null;
  readonly stderr: string;
  /** Resolves when the progress line says every call has connected or failed. */
  readonly allUp: Promise<void>;
  readonly done: Promise<void>;
  readonly pid: number;
}

function runLoad(url: string, calls: number, ramp: number, seconds: number): LoadRun {
  const argv = pinned(LOAD_CPU, [
    NODE,
    BIN,
    'load',
    url,
    '--json',
    '--calls',
    String(calls),
    '--ramp-per-sec',
    String(ramp),
    '--seconds',
    String(seconds),
  ]);
  const child = start('load', argv, {});
  let stderr = '';
  let up: () => void = () => {};
  const allUp = new Promise<void>((r) => (up = r));
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    const m = [...stderr.matchAll(/connected (\d+)\s+failed (\d+)/g)].pop();
    if (m && Number(m[1]) + Number(m[2]) >= calls) up();
  });
  const run: { report: LoadReport | undefined; code: number | null } = { report: undefined, code: null };
  const done = new Promise<void>((resolve) => {
    const limit = setTimeout(() => child.kill('SIGKILL'), (seconds + calls / ramp + 90) * 1000);
    child.once('exit', (code) => {
      clearTimeout(limit);
      run.code = code;
      try {
        run.report = JSON.parse(
          child
            .output()
            .split('\n')
            .find((l) => l.startsWith('{')) ?? '',
        ) as LoadReport;
      } catch {
        process.stderr.write(`bench: parley load printed no report (exit ${code}):\n${stderr.slice(-2000)}\n`);
      }
      up();
      resolve();
    });
  });
  return {
    get report() {
      return run.report;
    },
    get code() {
      return run.code;
    },
    get stderr() {
      return stderr;
    },
    allUp,
    done,
    pid: child.pid!,
  };
}

interface Row {
  /** Which repetition (0 … REPS − 1) the row belongs to: a bridged row and its echo row share one. */
  rep?: number;
  server: Stack['name'];
  /** The transceiver's handler for this row: HANDLER, or echo (the default and the ECHO rows). */
  handler: string;
  calls: number;
  cpuPct: number;
  cpuPerCallPct: number;
  /** HANDLER=realtime or media-stream: Opus decode + encode of one call's frames, % of a core (codecPctPerCall). */
  codecPctPerCall?: number;
  /** The three codec-alone measurements (before the row, then twice after) whose median is codecPctPerCall. */
  codecRuns?: number[];
  usPerPacket: number;
  /** usPerPacket × 50 packets/s: what a call costs when every packet it sends is processed (starvation-proof). */
  cpuPerCallAt50Pct: number;
  rssMb: number;
  rssPerCallKb: number;
  receiveRatio: number;
  setupP50: number | undefined;
  setupP95: number | undefined;
  rttP99: number | undefined;
  failed: number;
  failures: Record<string, number>;
  drops: number;
  /** Undefined for Pion rows: no relay is in their path. */
  relayDrops: number | undefined;
  /** Time the server was runnable but not running (another process had its CPU), % of the window. */
  waitPct: number;
  genCpuPct: number;
  relayCpuPct: number | undefined;
  /** Bridged rows: the test model's / agent's CPU over the window (it shares the generator's core). */
  peerCpuPct?: number;
  /** The transceiver's CPU over the window by thread kind (threadCpu), % of a core. */
  threadCpuPct: Record<string, number>;
  /** Bridged rows: 20 ms frames the model/agent sent, and how many of them the callers received. */
  framesOut?: { sent: number; received: number };
  /** Bridged rows: frames the callers sent, and how many the model/agent heard. */
  framesIn?: { sent: number; heard: number };
}

/** Datagrams the server has received: the counter `metric`{direction="in"} of its /metrics. */
async function packetsIn(metricsUrl: string, metric: string): Promise<number> {
  // Generous: a transceiver near its CPU limit answers /metrics late, and one late answer must not end the run.
  const text = await (await fetch(metricsUrl, { signal: AbortSignal.timeout(20_000) })).text();
  const m = new RegExp(`^${metric}\\{direction="in"\\} (\\S+)$`, 'm').exec(text);
  return m ? Number(m[1]) : NaN;
}

/** Every nonzero counter whose name says drop, refused or failed, of the transceiver and the relay (where Parley's queues and limits count their losses). */
async function dropCounters(...urls: string[]): Promise<string> {
  const out: string[] = [];
  for (const url of urls) {
    try {
      const text = await (await fetch(url, { signal: AbortSignal.timeout(20_000) })).text();
      for (const line of text.split('\n'))
        if (/^[a-z_]*(drop|refused|failed|error)[a-z_]*(\{[^}]*\})? [1-9]/.test(line)) out.push(line.replace(/^parley_/, ''));
    } catch (err) {
      out.push(`${url}: ${(err as Error).message}`);
    }
  }
  return out.length === 0 ? 'none' : out.join(', ');
}

/** One server under test: Parley's transceiver (behind the relay) or the Pion reference. */
interface Stack {
  readonly name: 'parley' | 'pion';
  readonly handler: string;
  readonly url: string;
  readonly pid: number;
  /** The server's own UDP port (its receive-buffer drops are counted). */
  readonly udpPort: number;
  readonly metricsUrl: string;
  packetsIn(): Promise<number>;
  stop(): Promise<void>;
}

/** Length of each call of a row of n calls: long enough that every call is sending through the whole window. */
const rowSeconds = (n: number): number => n / Math.min(RAMP, n) + 6 + WINDOW_S + 3;

/**
 * A fresh transceiver (its own CPU), warmed up with 20 calls, so every run starts from the same
 * memory. With `bridgeSeconds` it bridges to the model/agent, which answers that many seconds of
 * each call (all of them played out before the call hangs up); without, it echoes.
 */
async function startTransceiver(keys: string, relayPort: number, relayOps: string, bridgeSeconds?: number): Promise<Stack> {
  const [trxHttp, trxOps, media] = await freePorts([
    { host: '127.0.0.1', kind: 'tcp' },
    { host: '127.0.0.1', kind: 'tcp' },
    { host: '127.0.0.1', kind: 'udp' },
  ]);
  const prof = [
    ...(process.env.CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.CPU_PROF] : []),
    // As Parley starts it (src/transceiver/node-flags.ts) unless TRX_NODE_ARGS says otherwise ('' for none).
    ...(process.env.TRX_NODE_ARGS?.split(' ').filter(Boolean) ?? TRANSCEIVER_NODE_FLAGS),
  ];
  const trxArgs = [
    'transceiver',
    '--http',
    `127.0.0.1:${trxHttp}`,
    '--ops',
    `127.0.0.1:${trxOps}`,
    '--media',
    `127.0.0.1:${media}`,
    '--relays',
    `127.0.0.1:${relayPort}`,
    // As a deployment's Redis would (parley dev does the same): an ended call's token revoked at
    // the relay, whose flows then go at once. The relay outlives every row, and a flow left behind
    // holds its client port for 30 s, refusing a later row's call that gets the same port
    // (relay_takeovers_refused_total: one failed call now and then, docs/performance.md).
    '--revoke-urls',
    relayOps,
    '--log-level',
    'warn',
    '--demo-page',
    'off',
    '--max-sessions',
    '2000',
    '--drain-seconds',
    '0',
    '--no-auth',
    // One load generator is one client to the admission limits (issue #19: per-client offer rate,
    // pending and live calls); lift them, as for a trusted load balancer in front.
    '--offers-per-second',
    '100000',
    '--offer-burst',
    '100000',
    '--max-pending-per-client',
    '100000',
    '--max-calls-per-client',
    '100000',
    ...(process.env.UDP_BUFFER ? ['--udp-buffer', process.env.UDP_BUFFER] : []),
    ...(process.env.MEDIA_IO ? ['--media-io', process.env.MEDIA_IO] : []),
    ...(process.env.MEDIA_BATCH_US ? ['--media-batch-us', process.env.MEDIA_BATCH_US] : []),
    ...(CODEC_THREADS > 0 ? ['--codec-threads', String(CODEC_THREADS)] : []),
    ...(process.env.TRX_ARGS?.split(' ').filter(Boolean) ?? []),
  ];
  const answer = (url: string): string => `${url}?answer_s=${bridgeSeconds}`;
  const realtime =
    bridgeSeconds === undefined
      ? {}
      : HANDLER === 'realtime'
        ? { PARLEY_REALTIME_URL: answer(await realtimeModelUrl()) }
        : { PARLEY_MEDIA_STREAM_URL: `${answer(await mediaStreamAgentUrl())}${AGENT_SILENT_S ? `&silent_s=${AGENT_SILENT_S}` : ''}` };
  const trx = start('transceiver', pinned(TRX_CPUS, [NODE, ...prof, BIN, ...trxArgs]), {
    PARLEY_KEYS: keys,
    PARLEY_KEYS_FILE: '',
    ...realtime,
  });
  if (process.env.TRX_LOG) {
    const log = createWriteStream(process.env.TRX_LOG, { flags: 'a' });
    trx.stdout!.pipe(log);
    trx.stderr!.pipe(log);
  }
  const stack = await warmStack('parley', trx, trxHttp, media, 'parley_transceiver_packets_total', trxOps);
  // With codec threads: the main thread alone pinned to the transceiver's CPU, as it is without
  // them (taskset -p moves one thread); the codec threads, started before, stay free to use the other.
  if (CODEC_THREADS > 0 && TRX_CPU !== undefined) execFileSync('taskset', ['-p', '-c', TRX_CPU, String(trx.pid)], { stdio: 'ignore' });
  return { ...stack, handler: bridgeSeconds === undefined ? 'echo' : HANDLER! };
}

/** What the model/agent process last printed of its counts (20 ms frames, over every connection so far). */
interface PeerCounts {
  framesSent: number;
  framesHeard: number;
  open: number;
}
/** The bridged peer (model or agent): its pid and latest counts, once started. */
const peer: { pid: number | undefined; counts: PeerCounts } = { pid: undefined, counts: { framesSent: 0, framesHeard: 0, open: 0 } };

/** Starts a model/agent process (on the load generator's CPU) that prints `<ready> URL` and `<name> counts {…}` lines. */
function startPeer(name: string, argv: string[], ready: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = start(name, pinned(LOAD_CPU, [NODE, ...argv]), {});
    peer.pid = child.pid;
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const lines = out.split('\n');
      out = lines.pop()!;
      for (const line of lines) {
        if (line.startsWith(`${ready} `)) resolve(line.slice(ready.length + 1).trim());
        else if (line.startsWith(`${name} counts `)) peer.counts = JSON.parse(line.slice(name.length + 8)) as PeerCounts;
      }
    });
    child.once('exit', (code) => reject(new Error(`the ${name} exited (${code})`)));
  });
}

let modelUrl: Promise<string> | undefined;
/** The Realtime test model, started once for every row: 1 s of tone for each second of caller audio, back to back (50 frames/s). */
function realtimeModelUrl(): Promise<string> {
  modelUrl ??= startPeer(
    'model',
    [new URL('../test/support/realtime-model-server.ts', import.meta.url).pathname, '--reply-ms', '1000', '--back-to-back'],
    'realtime model ready',
  );
  return modelUrl;
}

let agentUrl: Promise<string> | undefined;
/** The echoing media-stream agent, started once for every row. */
function mediaStreamAgentUrl(): Promise<string> {
  agentUrl ??= startPeer(
    'agent',
    [new URL('../test/support/media-stream-agent-server.ts', import.meta.url).pathname],
    'media-stream agent ready',
  );
  return agentUrl;
}

/** The peer's counts once every connection has closed (after the transceiver stopped), waiting at most 10 s. */
async function settledPeerCounts(): Promise<PeerCounts> {
  for (const end = Date.now() + 10_000; peer.counts.open > 0 && Date.now() < end;) await sleep(100);
  return peer.counts;
}

/**
 * What Opus alone costs per bridged call, measured in this run on the transceiver's CPU: what the
 * bridge's codec does each second of a call — decode 50 caller frames to the handler's PCM rate
 * and encode 50 frames from it, with the bridge's encoder settings (media/opus.ts) — through the
 * very codec the transceiver runs: its inline FrameCodec (media/frame-codec.ts: libopus through
 * Parley's addon where it loads, else @evan/opus; the PCM layer's recovering decoder for
 * media-stream), or with codec threads what those threads run.
 */
async function codecPctPerCall(): Promise<number> {
  const script = `
    import { BRIDGE_ENCODER_DEFAULTS as B } from ${JSON.stringify(new URL('../src/media/opus.ts', import.meta.url).pathname)};
    import { inlineCodecs } from ${JSON.stringify(new URL('../src/media/frame-codec.ts', import.meta.url).pathname)};
    import { encodeDistinctTone } from ${JSON.stringify(new URL('../src/client/audio.ts', import.meta.url).pathname)};
    const frames = encodeDistinctTone(440, 1);
    // The bridge's own inline codec (the PCM layer, media-stream, asks for loss recovery); each
    // decoded frame is encoded back at once, as the sink is handed it.
    let pcmOut;
    const codec = inlineCodecs.open({ sampleRate: ${BRIDGE_RATE}, recovery: ${HANDLER === 'media-stream'} }, {
      decoded: (p) => { pcmOut = p; },
      encoded: () => {},
    });
    let dec = { decode: (p) => (codec.decode('packet', p), pcmOut) };
    let enc = { encode: (p) => codec.encode(p) };
    if (${CODEC_THREADS > 0}) {
      // What the codec threads run (media/codec-worker.ts): libopus through Parley's addon, both ways.
      const r = await import(${JSON.stringify(new URL('../src/media/opus-recovery.ts', import.meta.url).pathname)});
      const addon = r.loadOpusAddon();
      const d = addon.create(${BRIDGE_RATE}, 1), e = addon.createEncoder(${BRIDGE_RATE}, r.OPUS_APPLICATION_CODES[B.application], B.complexity);
      const pcm = new Int16Array(${BRIDGE_RATE / 50}), out = Buffer.allocUnsafe(4000);
      dec = { decode: (p) => (addon.decode(d, p, false, pcm), pcm) };
      enc = { encode: (p) => addon.encode(e, p, out) };
    }
    const run = () => { for (const f of frames) enc.encode(dec.decode(f)); };
    for (let i = 0; i < 20; i++) run();
    const n = 100; const t = process.cpuUsage(); for (let i = 0; i < n; i++) run();
    const u = process.cpuUsage(t); console.log(((u.user + u.system) / n / 1e6) * 100);`;
  const child = start('codec', pinned(TRX_CPU, [NODE, '--input-type=module', '-e', script]), {});
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => child.once('exit', r));
  return Number(out.trim());
}

/** A fresh Pion echo server on the transceiver's CPU, warmed up with 20 calls like the transceiver. */
async function startPion(bin: string): Promise<Stack> {
  const [http, udp] = await freePorts([
    { host: '127.0.0.1', kind: 'tcp' },
    { host: '127.0.0.1', kind: 'udp' },
  ]);
  const pion = start('pion', pinned(TRX_CPU, [bin, '-http', `127.0.0.1:${http}`, '-udp', String(udp)]), {});
  return { ...(await warmStack('pion', pion, http, udp, 'pion_echo_packets_total')), handler: 'echo' };
}

/** Waits for a started server's /readyz, then warms it up with 20 calls, so every row starts from the same memory. */
async function warmStack(
  name: Stack['name'],
  child: ChildProcess,
  httpPort: number,
  udpPort: number,
  packetsMetric: string,
  /** Where /readyz and /metrics are (the transceiver's --ops; pion-echo serves them on its HTTP port). */
  opsPort = httpPort,
): Promise<Omit<Stack, 'handler'>> {
  await waitReady(`http://127.0.0.1:${opsPort}/readyz`, Date.now() + 30_000);
  const url = `http://127.0.0.1:${httpPort}/v1/realtime/calls`;
  await runLoad(url, 20, 20, 3).done;
  return {
    name,
    url,
    pid: child.pid!,
    udpPort,
    metricsUrl: `http://127.0.0.1:${opsPort}/metrics`,
    packetsIn: () => packetsIn(`http://127.0.0.1:${opsPort}/metrics`, packetsMetric),
    stop: () => stopChild(child),
  };
}

interface Relay {
  readonly pid: number;
  readonly metricsUrl: string;
  readonly ports: readonly number[];
}

/** One row: the server's idle baseline, then `n` calls and a steady window over which it is sampled. */
async function measure(stack: Stack, n: number, relay: Relay, idles: string[]): Promise<Row> {
  const { url, pid, udpPort } = stack;
  const viaRelay = stack.name === 'parley';
  const relayDropsNow = (): number => relay.ports.reduce((a, p) => a + socketDrops(p), 0);
  // The idle baseline of this process, after its warm-up.
  await sleep(2000);
  const i0 = sample(pid);
  await sleep(4000);
  const i1 = sample(pid);
  const idlePct = (100 * (i1.cpu - i0.cpu)) / ((i1.at - i0.at) / 1000);
  const idleRssKb = i1.rssKb;
  idles.push(`${REFERENCE ? `${stack.name} ${n}: ` : ''}${idlePct.toFixed(2)} % / ${(idleRssKb / 1024).toFixed(0)} MB`);
  const ramp = Math.min(RAMP, n);
  const seconds = rowSeconds(n);
  const bridged = stack.handler !== 'echo';
  const c0 = peer.counts;
  const run = runLoad(url, n, ramp, seconds);
  await Promise.race([run.allUp, sleep((n / ramp + 20) * 1000)]);
  await sleep(2000);
  const drops0 = socketDrops(udpPort);
  const relayDrops0 = relayDropsNow();
  const w0 = runQueueWait(pid);
  const p0 = await stack.packetsIn();
  const a = sample(pid);
  const t0 = threadCpu(pid);
  const g0 = sample(run.pid);
  const r0 = sample(relay.pid);
  const m0 = bridged && peer.pid !== undefined ? sample(peer.pid) : undefined;
  await sleep(WINDOW_S * 1000);
  const b = sample(pid);
  const t1 = threadCpu(pid);
  const p1 = await stack.packetsIn();
  const g1 = sample(run.pid);
  const r1 = sample(relay.pid);
  const m1 = m0 && peer.pid !== undefined ? sample(peer.pid) : undefined;
  const drops = socketDrops(udpPort) - drops0;
  const relayDrops = relayDropsNow() - relayDrops0;
  const waitPct = (100 * (runQueueWait(pid) - w0)) / ((b.at - a.at) / 1000);
  await run.done;
  if (bridged)
    process.stderr.write(`bench: ${n} calls, nonzero drop counters: ${await dropCounters(stack.metricsUrl, relay.metricsUrl)}\n`);
  await stack.stop();
  const c1 = bridged ? await settledPeerCounts() : c0;
  const wall = (b.at - a.at) / 1000;
  const cpuPct = (100 * (b.cpu - a.cpu)) / wall;
  const r = run.report;
  return {
    server: stack.name,
    handler: stack.handler,
    ...(bridged && r
      ? {
          peerCpuPct: m0 && m1 ? (100 * (m1.cpu - m0.cpu)) / wall : undefined,
          framesOut: { sent: c1.framesSent - c0.framesSent, received: r.packetsReceived },
          framesIn: { sent: r.packetsSent, heard: c1.framesHeard - c0.framesHeard },
        }
      : {}),
    calls: n,
    cpuPct,
    threadCpuPct: Object.fromEntries(Object.entries(t1).map(([k, v]) => [k, (100 * (v - (t0[k] ?? 0))) / wall])),
    cpuPerCallPct: (cpuPct - idlePct) / n,
    // CPU per datagram received (its echo, timers and RTCP included) × the 50 a call sends each second.
    usPerPacket: (1e6 * (b.cpu - a.cpu)) / (p1 - p0),
    cpuPerCallAt50Pct: (100 * 50 * (b.cpu - a.cpu)) / (p1 - p0),
    rssMb: b.rssKb / 1024,
    rssPerCallKb: (b.rssKb - idleRssKb) / n,
    receiveRatio: r?.receiveRatio ?? 0,
    setupP50: r?.setupMs.p50,
    setupP95: r?.setupMs.p95,
    rttP99: r?.echoRttMs.p99,
    failed: r ? r.failed : n,
    failures: r?.failures ?? {},
    drops,
    relayDrops: viaRelay ? relayDrops : undefined,
    waitPct,
    genCpuPct: (100 * (g1.cpu - g0.cpu)) / wall,
    relayCpuPct: viaRelay ? (100 * (r1.cpu - r0.cpu)) / wall : undefined,
  };
}

async function main(): Promise<void> {
  // Built before anything starts: a first build takes a minute or two and must not sit between rows.
  const pionBin =
    REFERENCE === 'pion' ? (await buildGoProgram(new URL('./pion-echo/', import.meta.url).pathname, 600_000)).path : undefined;
  const keys = Keyring.generate(systemRng, 1).toString();
  const [relayPort, internalPort, relayHttp] = await freePorts([
    { host: '127.0.0.1', kind: 'udp' },
    { host: '127.0.0.1', kind: 'udp' },
    { host: '127.0.0.1', kind: 'tcp' },
  ]);
  const relayChild = start(
    'relay',
    pinned(LOAD_CPU, [
      NODE,
      BIN,
      'relay',
      '--listen',
      `127.0.0.1:${relayPort}`,
      '--internal',
      `127.0.0.1:${internalPort}`,
      '--http',
      `127.0.0.1:${relayHttp}`,
      '--workers',
      '1',
      '--pin',
      'off',
      '--new-flow-burst',
      '100000',
      '--new-flow-rate',
      '100000',
      '--log-level',
      'warn',
    ]),
    { PARLEY_KEYS: keys, PARLEY_KEYS_FILE: '' },
  );
  // The relay may build its native datapath on first start (minutes on a loaded machine).
  await waitReady(`http://127.0.0.1:${relayHttp}/readyz`, Date.now() + 180_000);
  const relay: Relay = { pid: relayChild.pid!, metricsUrl: `http://127.0.0.1:${relayHttp}/metrics`, ports: [relayPort, internalPort] };
  const relayOps = `http://127.0.0.1:${relayHttp}`;
  process.stderr.write(
    `bench: transceiver${pionBin ? ' and Pion' : ''} on CPU ${TRX_CPUS ?? 'any'}${CODEC_THREADS > 0 ? ` with ${CODEC_THREADS} codec thread(s)` : ''}, relay pid ${relay.pid} + load generator on CPU ${LOAD_CPU ?? 'any'}; transceiver media I/O ${mediaIoText()}; load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}\n`,
  );
  // With a reference, each Parley row is followed at once by the same row against Pion, so both see
  // the same machine; with a bridged handler, by the echo row of the same call count.
  const startersFor = (n: number | undefined): (() => Promise<Stack>)[] => [
    () => startTransceiver(keys, relayPort, relayOps, BRIDGED ? (n === undefined ? 7 : rowSeconds(n) - ANSWER_MARGIN_S) : undefined),
    ...(ECHO_ROWS && n !== undefined ? [() => startTransceiver(keys, relayPort, relayOps)] : []),
    ...(pionBin ? [() => startPion(pionBin)] : []),
  ];

  const rows: Row[] = [];
  const idles: string[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    for (const n of CALLS) {
      // With an echo row: bridged first in even reps, echo first in odd ones, so a machine that
      // drifts over a run does not always favour the same row of the pair.
      const starters = startersFor(n);
      if (ECHO_ROWS && rep % 2 === 1) starters.reverse();
      for (const startStack of starters) {
        const stack = await startStack();
        // The codec-alone anchor, one short loop per process, moved by ~30 % between rows two
        // minutes apart on a quiet machine: the median of one measurement before the row and two
        // after it, each in its own process.
        const codecBefore = stack.handler === 'echo' ? undefined : await codecPctPerCall();
        const row = await measure(stack, n, relay, idles);
        row.rep = rep;
        if (codecBefore !== undefined) {
          row.codecRuns = [codecBefore, await codecPctPerCall(), await codecPctPerCall()];
          row.codecPctPerCall = [...row.codecRuns].sort((a, b) => a - b)[1];
        }
        rows.push(row);
        process.stderr.write(`bench: ${REFERENCE ? `${row.server} ` : ''}${n} calls: ${JSON.stringify(row)}\n`);
      }
    }
  }

  const storms: { server: Stack['name']; report: LoadReport | undefined }[] = [];
  for (const startStack of STORM > 0 ? startersFor(undefined) : []) {
    const stack = await startStack();
    const run = runLoad(stack.url, STORM, STORM, 10);
    await run.done;
    process.stderr.write(`bench: ${REFERENCE ? `${stack.name} ` : ''}storm progress:\n${run.stderr}`);
    await stack.stop();
    storms.push({ server: stack.name, report: run.report });
  }
  await stopAll();

  const f = (v: number | undefined, d = 1): string => (v === undefined ? 'n/a' : v.toFixed(d));
  const label = (r: { server: Stack['name']; calls?: number; handler?: string }): string =>
    REFERENCE
      ? `${r.server}${r.calls === undefined ? '' : ` ${r.calls}`}`
      : `${r.calls ?? ''}${ECHO_ROWS && r.handler !== undefined ? ` ${r.handler}` : ''}`;
  console.log(
    `\nTransceiver: one process on CPU ${TRX_CPUS ?? 'any'}${CODEC_THREADS > 0 ? ` with --codec-threads ${CODEC_THREADS}` : ''}; relay (1 worker) and load generator on CPU ${LOAD_CPU ?? 'any'}. ${HANDLER === 'realtime' ? 'Realtime handler (test model)' : HANDLER === 'media-stream' ? 'Media-stream handler (echoing agent, µ-law 8 kHz)' : 'Echo handler'}, 50 packets/s each way per call, ${WINDOW_S} s steady window.`,
  );
  if (pionBin) {
    console.log(
      `Pion (bench/pion-echo: webrtc v3 ICE-lite echo, one UDP port, 4 MB socket buffers): one process on CPU ${TRX_CPU ?? 'any'}, pinned as the transceiver. ` +
        'Pion has no relay: `parley load` sends to its UDP port directly, so its rows have no relay columns. Each Parley row is followed by the Pion row of the same call count.',
    );
  }
  console.log(
    `A fresh ${REFERENCE ? 'server' : 'transceiver'} per row, warmed up with 20 calls; idle CPU / RSS before each row: ${idles.join(', ')}. Load average at the end: ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}.\n`,
  );
  console.log(
    `| calls | ${SERVER} CPU | **% of a core per call** | µs CPU per packet in (× 50/s = % per call) | RSS | **KB RSS per call** | receive ratio | setup p50 / p95 ms | echo RTT p99 ms | failed | drops: ${SERVER} / relay sockets | ${SERVER} waited for CPU | relay CPU | generator CPU |`,
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    console.log(
      `| ${label(r)} | ${f(r.cpuPct)} % | **${f(r.cpuPerCallPct, 3)} %** | ${f(r.usPerPacket, 1)} µs (${f(r.cpuPerCallAt50Pct, 3)} %) | ${f(r.rssMb)} MB | **${f(r.rssPerCallKb, 0)}** | ${f(r.receiveRatio, 4)} | ${f(r.setupP50)} / ${f(r.setupP95)} | ${f(r.rttP99)} | ${r.failed}${r.failed ? ` ${JSON.stringify(r.failures).replace(/"/g, '')}` : ''} | ${r.drops} / ${r.relayDrops ?? '—'} | ${f(r.waitPct, 0)} % | ${r.relayCpuPct === undefined ? '—' : `${f(r.relayCpuPct, 0)} %`} | ${f(r.genCpuPct, 0)} % |`,
    );
  }
  if (pionBin) printRatios(rows);
  if (BRIDGED) printBridged(rows);

  for (const { server, report: storm } of storms) {
    if (!storm) continue;
    console.log(
      `\nReconnect storm${REFERENCE ? ` (${server})` : ''}: ${storm.calls} calls started at once (--ramp-per-sec ${STORM}): connected ${storm.connected}, failed ${storm.failed}` +
        `${storm.failed ? ` ${JSON.stringify(storm.failures)}` : ''}; last call connected ${f(storm.lastConnectMs, 0)} ms after the first started; ` +
        `${storm.failed ? ` First message per reason: ${JSON.stringify(storm.failureExamples)}.` : ''} setup p50 ${f(storm.setupMs.p50, 0)} / p95 ${f(storm.setupMs.p95, 0)} / max ${f(storm.setupMs.max, 0)} ms; receive ratio ${f(storm.receiveRatio, 4)}; generator CPU ${f(storm.client.cpuPercent, 0)} %.`,
    );
  }
  const starved = rows.filter((r) => r.waitPct > 5);
  if (starved.length > 0) {
    console.log(
      `\nNote: at ${starved.map(label).join(', ')} calls the ${SERVER} waited > 5 % of the window for its CPU (another process had it): loss and RTT there measure the machine, not ${REFERENCE ? 'the server' : 'Parley'}.`,
    );
  }
  const genBound = rows.filter((r) => r.genCpuPct + (r.relayCpuPct ?? 0) > 90);
  if (genBound.length > 0) {
    console.log(
      `\nNote: at ${genBound.map(label).join(', ')} calls the generator + relay CPU was > 90 % of their shared core: the client side, not the ${SERVER}, may have been the limit there.`,
    );
  }
}

/**
 * A row that did the work its calls ask: at most one call in 50 failed to connect (the load
 * generator's ICE on a loaded machine; its per-call figure is then at most 2 % low), every echo
 * came back, and (bridged) no frame was lost either way beyond one per call in (a frame may wait
 * in the realtime handler's 40 ms append batch at hang-up).
 */
function isClean(r: Row): boolean {
  if (r.failed > r.calls / 50) return false;
  if (r.handler === 'echo') return r.receiveRatio >= 0.999;
  const lostOut = (r.framesOut?.sent ?? 0) - (r.framesOut?.received ?? 0);
  const lostIn = (r.framesIn?.sent ?? 0) - (r.framesIn?.heard ?? 0);
  return r.framesOut !== undefined && lostOut <= 0 && lostIn <= r.calls;
}

/**
 * The bridged tables. Per repetition the bridged row, its echo row and its codec anchor (median of
 * three) were measured back to back, so each rep gives its own ratios: raw = bridged / codec,
 * bridge only = (bridged − echo) / codec. The summary per call count is the MEDIAN over reps of
 * each figure (the ratios too: the median of the per-rep ratios, not a ratio of medians) with its
 * spread [min–max], over the clean reps (isClean: a rep that lost frames or calls did less work);
 * then one line per rep. A median of ≥ 3 reps is what a single noisy row on a
 * shared machine is not.
 */
function printBridged(rows: readonly Row[]): void {
  const f = (v: number | undefined, d: number): string => (v === undefined || Number.isNaN(v) ? 'n/a' : v.toFixed(d));
  const sum = (v: readonly number[]): number => v.reduce((x, y) => x + y, 0);
  const median = (v: readonly number[]): number => {
    const s = v.filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    if (s.length === 0) return NaN;
    return s.length % 2 === 1 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  };
  /** "median [min–max]" (just the value for one rep). */
  const spread = (v: readonly number[], d: number, unit = ''): string => {
    const s = v.filter((x) => !Number.isNaN(x));
    if (s.length <= 1) return `${f(s[0], d)}${unit}`;
    return `${f(median(s), d)}${unit} [${f(Math.min(...s), d)}–${f(Math.max(...s), d)}]`;
  };
  console.log(
    HANDLER === 'realtime'
      ? '\nRealtime handler: each call is bridged to the Realtime test model (caller Opus → 24 kHz PCM16 → base64 JSON append every 40 ms; the model answers each second of caller audio with 1 s of tone, back to back, streamed in 100 ms deltas → 24 kHz → Opus → paced RTP).'
      : '\nMedia-stream handler: each call is bridged to an echoing agent (caller Opus → jitter buffer → 8 kHz → µ-law → base64 JSON every 20 ms; agent µ-law → 8 kHz → Opus → paced RTP).',
  );
  console.log(
    `Codec alone: Opus decode to and encode from ${BRIDGE_RATE / 1000} kHz, 50 frames/s each${CODEC_THREADS > 0 ? " (libopus through Parley's addon, as the codec threads run it)" : ''}, pinned to one CPU, per rep the median of three measurements in their own processes (one before the bridged row, two after). ` +
      `Per rep: raw = bridged / codec; bridge only = (bridged − echo) / codec, the echo row measured right ${ECHO_ROWS ? 'before or after it (the order alternates by rep)' : '(ECHO=0: none)'} (SRTP, UDP, pacing: what any call pays). ` +
      `${REPS} rep(s); figures are the median over reps [min–max]. ` +
      `Frames lost (summed over reps): out = frames the ${HANDLER === 'realtime' ? 'model' : 'agent'} sent − frames the callers received (it answers only the first call length − ${ANSWER_MARGIN_S} s of each call, so all of it has played before the hang-up); ` +
      `in = frames the callers sent − frames it heard${HANDLER === 'realtime' ? ' (up to one 20 ms frame per call waits in the 40 ms append batch at hang-up)' : ''}.\n`,
  );
  console.log(
    `| calls | % of a core per bridged call | per echo call | codec alone | **raw ratio** | **bridge-only ratio** | frames lost out (of sent) | frames lost in (of sent) | setup p50 / p95 ms | failed | ${HANDLER === 'realtime' ? 'model' : 'agent'} CPU | transceiver threads: main / codec / V8 / other | waited for CPU | generator / relay CPU |`,
  );
  console.log('|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---|');
  /** Per rep of n calls: the bridged row, its echo row, their ratios, and whether the rep is clean. */
  const repsOf = (n: number): { rep: number; b: Row; e: Row | undefined; raw: number; only: number; clean: boolean }[] =>
    rows
      .filter((r) => r.calls === n && r.handler !== 'echo')
      .map((b) => {
        const e = rows.find((r) => r.calls === n && r.handler === 'echo' && r.rep === b.rep);
        const codec = b.codecPctPerCall ?? NaN;
        return {
          rep: b.rep ?? 0,
          b,
          e,
          raw: b.cpuPerCallPct / codec,
          only: (b.cpuPerCallPct - (e?.cpuPerCallPct ?? NaN)) / codec,
          clean: isClean(b) && (e === undefined || isClean(e)),
        };
      });
  for (const n of CALLS) {
    const all = repsOf(n);
    // A rep that lost frames or calls did less work than a call costs: its ratio is left out of
    // the summary (it is still in the per-rep table), unless no rep is clean.
    const clean = all.filter((r) => r.clean);
    const reps = clean.length > 0 ? clean : all;
    const b = reps.map((r) => r.b);
    const outSent = sum(b.map((r) => r.framesOut?.sent ?? 0));
    const outLost = outSent - sum(b.map((r) => r.framesOut?.received ?? 0));
    const inSent = sum(b.map((r) => r.framesIn?.sent ?? 0));
    const inLost = inSent - sum(b.map((r) => r.framesIn?.heard ?? 0));
    console.log(
      `| ${n} (${clean.length > 0 ? `${clean.length} of ${all.length} reps clean` : `none of ${all.length} reps clean: all shown`}) | ${spread(
        b.map((r) => r.cpuPerCallPct),
        3,
        ' %',
      )} | ${spread(
        reps.map((r) => r.e?.cpuPerCallPct ?? NaN),
        3,
        ' %',
      )} | ${spread(
        b.map((r) => r.codecPctPerCall ?? NaN),
        3,
        ' %',
      )} | **${spread(
        reps.map((r) => r.raw),
        2,
      )}** | **${spread(
        reps.map((r) => r.only),
        2,
      )}** | ` +
        `${outLost} (of ${outSent}) | ${inLost} (of ${inSent}) | ${b.map((r) => `${f(r.setupP50, 0)} / ${f(r.setupP95, 0)}`).join(', ')} | ` +
        `${b.map((r) => r.failed).join(', ')} | ${b.map((r) => `${f(r.peerCpuPct, 0)} %`).join(', ')} | ` +
        `${b.map((r) => ['main', 'workers', 'v8', 'other'].map((k) => `${f(r.threadCpuPct[k] ?? 0, 0)} %`).join(' / ')).join(', ')} | ` +
        `${b.map((r) => `${f(r.waitPct, 0)} %`).join(', ')} | ${b.map((r) => `${f(r.genCpuPct, 0)} / ${f(r.relayCpuPct, 0)} %`).join(', ')} |`,
    );
  }
  console.log('\nPer rep (bridged and echo rows back to back, the codec anchor around the bridged row):\n');
  console.log(
    '| calls | rep | % per bridged call | per echo call | codec alone (3 runs) | raw | bridge only | frames lost out / in | clean | waited for CPU: bridged / echo |',
  );
  console.log('|---:|---:|---:|---:|---|---:|---:|---|---|---|');
  for (const n of CALLS) {
    for (const { rep, b, e, raw, only, clean } of repsOf(n)) {
      const lostOut = (b.framesOut?.sent ?? 0) - (b.framesOut?.received ?? 0);
      const lostIn = (b.framesIn?.sent ?? 0) - (b.framesIn?.heard ?? 0);
      console.log(
        `| ${n} | ${rep + 1} | ${f(b.cpuPerCallPct, 3)} % | ${f(e?.cpuPerCallPct, 3)} % | ${f(b.codecPctPerCall, 3)} % (${(b.codecRuns ?? []).map((c) => f(c, 3)).join(', ')}) | ${f(raw, 2)} | ${f(only, 2)} | ${lostOut} / ${lostIn} | ${clean ? 'yes' : 'no'} | ${f(b.waitPct, 0)} % / ${f(e?.waitPct, 0)} % |`,
      );
    }
  }
}

/** Parley / Pion per call count (means over REPS): below 1 Parley costs less than Pion. */
function printRatios(rows: readonly Row[]): void {
  const mean = (server: Stack['name'], n: number, k: 'cpuPerCallPct' | 'usPerPacket' | 'rssPerCallKb'): number => {
    const v = rows.filter((r) => r.server === server && r.calls === n).map((r) => r[k]);
    return v.reduce((a, x) => a + x, 0) / v.length;
  };
  const cell = (n: number, k: 'cpuPerCallPct' | 'usPerPacket' | 'rssPerCallKb', d: number): string => {
    const [p, q] = [mean('parley', n, k), mean('pion', n, k)];
    return `${p.toFixed(d)} / ${q.toFixed(d)} = **${(p / q).toFixed(2)}**`;
  };
  console.log(`\nParley / Pion${REPS > 1 ? ` (means of ${REPS} rows each)` : ''}: below 1 Parley costs less.\n`);
  console.log('| calls | % of a core per call | µs CPU per packet in | KB RSS per call |');
  console.log('|---:|---:|---:|---:|');
  for (const n of CALLS)
    console.log(`| ${n} | ${cell(n, 'cpuPerCallPct', 3)} | ${cell(n, 'usPerPacket', 1)} | ${cell(n, 'rssPerCallKb', 0)} |`);
}

try {
  await main();
} catch (err) {
  process.stderr.write(`bench: ${(err as Error).stack}\n`);
  process.exitCode = 1;
} finally {
  await stopAll();
}
