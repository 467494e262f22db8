// `parley load URL`: many WebRTC calls from one process against a signaling URL, to load-test a
// relay + transceiver. Calls start at --ramp-per-sec (alias --rate), each sends 50 pre-encoded
// Opus packets/s for --seconds and hangs up; progress goes to stderr while calls start, then a
// summary (or --json) on stdout: connected / failed by reason, setup p50/p95/max, time to the
// last connect, receive ratio, echo RTT p50/p99, packets per second each way, and what the client
// itself spent. Exit 0 when every call connected, 1 otherwise, 2 usage.
import type { Command } from './command.ts';
import { splitUrlArgs } from './url-args.ts';
import { loadConfig, onOffSwitch, parsers, renderSettingsHelp, setting } from '../common/cli-config.ts';
import { systemRng } from '../common/system-rng.ts';
import { encodeDistinctTone } from '../client/audio.ts';
import { createCoreAgents } from '../client/core-agents.ts';
import { runLoad } from '../client/load.ts';
import type { LoadProgress, LoadReport } from '../client/load.ts';
import { candidateHost } from '../client/run-call.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';
import { loadSrtpAddon, nativeSrtpTransformFactory } from '../transceiver/media/srtp-native.ts';

/** The native SRTP cipher (native/src/srtp_native.c), or undefined: the TypeScript one. */
function nativeSrtp(): SrtpTransformFactory | undefined {
  const addon = loadSrtpAddon();
  return addon instanceof Error ? undefined : nativeSrtpTransformFactory(addon);
}

const positive =
  (max: number) =>
  (text: string): number => {
    const n = Number(text);
    if (!/^\d+(\.\d+)?$/.test(text.trim()) || n <= 0 || n > max) throw new Error(`'${text}' is not a number in (0, ${max}]`);
    return n;
  };
const optional = (text: string): string | undefined => text;

const spec = {
  calls: setting({
    flag: 'calls',
    env: 'PARLEY_LOAD_CALLS',
    metavar: 'N',
    help: 'calls to make in all',
    default: 100,
    parse: parsers.int(1, 100_000),
  }),
  rampPerSec: setting({
    flag: 'ramp-per-sec',
    env: 'PARLEY_LOAD_RAMP_PER_SEC',
    metavar: 'R',
    help: 'new calls per second (alias --rate); ≥ --calls starts every call at once (a reconnect storm)',
    default: 20,
    parse: positive(100_000),
  }),
  seconds: setting({
    flag: 'seconds',
    env: 'PARLEY_LOAD_SECONDS',
    metavar: 'S',
    help: 'length of each call (50 packets/s each way)',
    default: 10,
    parse: positive(3600),
  }),
  tone: setting({
    flag: 'tone',
    env: 'PARLEY_LOAD_TONE',
    metavar: 'HZ',
    help: 'tone every call sends (encoded once, shared)',
    default: 440,
    parse: parsers.int(20, 20000),
  }),
  handler: setting({
    flag: 'handler',
    env: 'PARLEY_LOAD_HANDLER',
    metavar: 'NAME',
    help: "media handler every call asks for (?handler=NAME; e.g. realtime); default the server's",
    default: undefined as string | undefined,
    parse: optional,
  }),
  bearer: setting({
    flag: 'bearer',
    env: 'PARLEY_LOAD_BEARER',
    metavar: 'KEY',
    help: 'send Authorization: Bearer KEY',
    default: undefined as string | undefined,
    parse: optional,
  }),
  bind: setting({
    flag: 'bind',
    env: 'PARLEY_LOAD_BIND',
    metavar: 'HOST',
    help: 'local address of the UDP sockets (of the TCP connections with --tcp)',
    default: '0.0.0.0',
    parse: parsers.string,
  }),
  datachannel: setting({
    flag: 'datachannel',
    env: 'PARLEY_LOAD_DATACHANNEL',
    metavar: 'LABEL',
    help: 'every call opens a data channel with this label and sends a message on it every --dc-every ms; the report adds message RTT and loss',
    default: undefined as string | undefined,
    parse: optional,
  }),
  dcBytes: setting({
    flag: 'dc-bytes',
    env: 'PARLEY_LOAD_DC_BYTES',
    metavar: 'N',
    help: 'with --datachannel: binary messages of N bytes (default a short text)',
    default: undefined as number | undefined,
    parse: parsers.int(1, 256 * 1024),
  }),
  dcEvery: setting({
    flag: 'dc-every',
    env: 'PARLEY_LOAD_DC_EVERY',
    metavar: 'MS',
    help: 'with --datachannel: the send interval of each call',
    default: 100,
    parse: parsers.int(1, 60_000),
  }),
  tcp: onOffSwitch({
    flag: 'tcp',
    env: 'PARLEY_LOAD_TCP',
    help: "every call over ICE-TCP (RFC 6544) to the answer's passive TCP candidate instead of UDP; a call whose answer has none fails",
  }),
  connectTimeout: setting({
    flag: 'connect-timeout-ms',
    env: 'PARLEY_LOAD_CONNECT_TIMEOUT_MS',
    metavar: 'MS',
    help: 'a call not connected this long after its answer fails',
    default: 10000,
    parse: parsers.int(100, 120000),
  }),
};

const help = `Usage: parley load URL [options]

Makes many WebRTC voice calls from this one process to a signaling URL (e.g.
http://127.0.0.1:8080/v1/realtime/calls): calls start at --ramp-per-sec, each sends 50 Opus
packets/s (pre-encoded once, shared by all calls) for --seconds and hangs up with DELETE. All
calls share one certificate and one timer; each has its own UDP port (the relay keys flows by
client address). While calls start, a progress line per second goes to stderr. The summary:
calls connected / failed by reason (503 = the server is full or draining), setup time (POST →
DTLS connected) p50/p95/max, time from the first start to the last connect, receive ratio
(echoed packets received / sent), echo RTT p50/p99, packets sent/received per second, and this
process's CPU and event-loop delay (if those are high, the client is the bottleneck).
Exit status: 0 every call connected, 1 some did not, 2 usage error.

Options:
${renderSettingsHelp(spec)}

Switches:
  --json      print one JSON report on stdout instead of text
  -h, --help  this help`;

const ms = (v: number | undefined): string => (v === undefined ? 'n/a' : v.toFixed(1));

function printText(r: LoadReport): void {
  console.log(`calls: ${r.calls}, connected ${r.connected}, failed ${r.failed}`);
  for (const [reason, n] of Object.entries(r.failures)) console.log(`  failed ${n} × ${reason}: ${r.failureExamples[reason]}`);
  const s = r.setupMs;
  console.log(
    `setup (POST → DTLS connected): p50 ${ms(s.p50)}  p95 ${ms(s.p95)}  max ${ms(s.max)} ms; last call connected ${ms(r.lastConnectMs)} ms after the first started`,
  );
  console.log(`receive ratio: ${r.receiveRatio.toFixed(4)} (${r.packetsReceived} of ${r.packetsSent} packets came back)`);
  console.log(
    `echo RTT: p50 ${ms(r.echoRttMs.p50)}  p99 ${ms(r.echoRttMs.p99)}  max ${ms(r.echoRttMs.max)} ms (${r.echoRttMs.n} packets; includes the echo's 20 ms pacing); RTCP RTT p50 ${ms(r.rtcpRttMs.p50)} ms`,
  );
  console.log(
    `packets/s: sent ${r.packetsSentPerSec.toFixed(0)}, received ${r.packetsReceivedPerSec.toFixed(0)}; lost in transit ${r.packetsLost} (${(r.lossFraction * 100).toFixed(2)}%)`,
  );
  const d = r.dataChannel;
  if (d) {
    console.log(
      `data channel: ${d.received} of ${d.sent} messages came back, ${d.lost} lost, ${d.mismatched} not byte-exact, ${d.refused} refused (send buffer full)`,
    );
    console.log(`  message RTT: p50 ${ms(d.rttMs.p50)}  p99 ${ms(d.rttMs.p99)}  max ${ms(d.rttMs.max)} ms (${d.rttMs.n} messages)`);
  }
  if (r.framesSkipped > 0)
    console.log(`  ${r.framesSkipped} frames not sent because this process stalled > 500 ms: the client machine is overloaded`);
  const c = r.client;
  console.log(
    `client: ${c.cpuSeconds.toFixed(2)} s CPU over ${r.wallSeconds.toFixed(1)} s (${c.cpuPercent.toFixed(0)}% of a core), event-loop delay p99 ${c.eventLoopDelayMs.p99.toFixed(1)} ms, max ${c.eventLoopDelayMs.max.toFixed(1)} ms`,
  );
}

const progressLine = (p: LoadProgress): string =>
  `load: ${(p.elapsedMs / 1000).toFixed(1)} s  started ${p.started}/${p.calls}  connected ${p.connected}  failed ${p.failed}\n`;

/** `--rate` is the earlier name of `--ramp-per-sec` (and PARLEY_LOAD_RATE of its variable). */
function aliasRate(argv: readonly string[], env: NodeJS.ProcessEnv): { argv: string[]; env: NodeJS.ProcessEnv } {
  const out = argv.map((a) => (a === '--rate' ? '--ramp-per-sec' : a.startsWith('--rate=') ? `--ramp-per-sec=${a.slice(7)}` : a));
  const e =
    env.PARLEY_LOAD_RAMP_PER_SEC === undefined && env.PARLEY_LOAD_RATE !== undefined
      ? { ...env, PARLEY_LOAD_RAMP_PER_SEC: env.PARLEY_LOAD_RATE }
      : env;
  return { argv: out, env: e };
}

export const command: Command = {
  summary: 'load-test: many WebRTC calls from one process (setup percentiles, receive ratio, echo RTT)',
  help,
  async run(argv: string[]): Promise<number> {
    const { url, json, rest } = splitUrlArgs(argv, spec);
    const aliased = aliasRate(rest, process.env);
    const cfg = loadConfig(spec, aliased.argv, aliased.env);
    // One second of tone, cycled by every call: encoded once, shared by all; every frame differs (echo RTT).
    const frames = encodeDistinctTone(cfg.tone, 1);
    const callsUrl = new URL(url);
    if (cfg.handler !== undefined) callsUrl.searchParams.set('handler', cfg.handler);
    const host = candidateHost(url, { address: cfg.bind, port: 0, family: cfg.bind.includes(':') ? 'IPv6' : 'IPv4' });
    const report = await runLoad({
      url: callsUrl.toString(),
      bearer: cfg.bearer,
      rng: systemRng,
      // The transceiver's native SRTP cipher where it loads: the generator shares a core with the
      // relay and the model in bench:calls (docs/performance.md, cap200: 52 → 43 % of a core at 200 calls).
      agents: createCoreAgents(systemRng, undefined, nativeSrtp()),
      frames,
      calls: cfg.calls,
      seconds: cfg.seconds,
      rampPerSec: cfg.rampPerSec,
      connectTimeoutMs: cfg.connectTimeout,
      bindHost: cfg.bind,
      transport: cfg.tcp === 'on' ? 'tcp' : 'udp',
      candidateHost: host,
      progress: (p) => void process.stderr.write(progressLine(p)),
      dataChannel:
        cfg.datachannel === undefined
          ? undefined
          : {
              label: cfg.datachannel,
              message: cfg.dcBytes !== undefined ? Buffer.alloc(cfg.dcBytes, 0x5a) : 'parley-load',
              everyMs: cfg.dcEvery,
            },
    });
    if (json) console.log(JSON.stringify(report));
    else printText(report);
    const dcOk = report.dataChannel === undefined || (report.dataChannel.received > 0 && report.dataChannel.mismatched === 0);
    return report.connected === report.calls && report.failed === 0 && dcOk ? 0 : 1;
  },
};
