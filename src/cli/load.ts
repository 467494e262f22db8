// `parley load URL`: many WebRTC calls from one process against a signaling URL, to load-test a
// relay + transceiver. Calls start at --rate per second, each sends a tone for --seconds and
// hangs up; the report gives connect-time percentiles, failures by code, loss, RTT and what
// the client itself spent. Exit 0 when every call connected, 1 otherwise, 2 usage.
import type { Command } from './command.ts';
import { splitUrlArgs } from './url-args.ts';
import { loadConfig, parsers, renderSettingsHelp, setting } from '../common/cli-config.ts';
import { systemRng } from '../common/system-rng.ts';
import { encodeTone } from '../client/audio.ts';
import { createCoreAgents } from '../client/core-agents.ts';
import { runLoad } from '../client/load.ts';
import type { LoadReport, Percentiles } from '../client/load.ts';
import { candidateHost } from '../client/run-call.ts';

const positive = (max: number) => (text: string): number => {
  const n = Number(text);
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || n <= 0 || n > max) throw new Error(`'${text}' is not a number in (0, ${max}]`);
  return n;
};
const optional = (text: string): string | undefined => text;

const spec = {
  calls: setting({ flag: 'calls', env: 'PARLEY_LOAD_CALLS', metavar: 'N', help: 'calls to make in all', default: 100, parse: parsers.int(1, 100_000) }),
  rate: setting({ flag: 'rate', env: 'PARLEY_LOAD_RATE', metavar: 'PER_SECOND', help: 'new calls per second', default: 20, parse: positive(10_000) }),
  seconds: setting({ flag: 'seconds', env: 'PARLEY_LOAD_SECONDS', metavar: 'S', help: 'length of each call', default: 10, parse: positive(3600) }),
  tone: setting({ flag: 'tone', env: 'PARLEY_LOAD_TONE', metavar: 'HZ', help: 'tone every call sends', default: 440, parse: parsers.int(20, 20000) }),
  bearer: setting({ flag: 'bearer', env: 'PARLEY_LOAD_BEARER', metavar: 'KEY', help: 'send Authorization: Bearer KEY', default: undefined as string | undefined, parse: optional }),
  bind: setting({ flag: 'bind', env: 'PARLEY_LOAD_BIND', metavar: 'HOST', help: 'local address of the UDP sockets', default: '0.0.0.0', parse: parsers.string }),
  connectTimeout: setting({ flag: 'connect-timeout-ms', env: 'PARLEY_LOAD_CONNECT_TIMEOUT_MS', metavar: 'MS', help: 'a call not connected this long after its answer fails', default: 10000, parse: parsers.int(100, 120000) }),
};

const help = `Usage: parley load URL [options]

Makes many WebRTC voice calls from this one process to a signaling URL (e.g.
http://127.0.0.1:8080/v1/realtime/calls): calls start at --rate per second, each sends a tone
as 20 ms Opus packets for --seconds and hangs up with DELETE. All calls share one certificate,
one set of pre-encoded frames and one timer; each has its own UDP port. Prints connect time
(POST → DTLS connected) percentiles, failures by error code, packet loss, RTT, and this
process's CPU time and event-loop delay (if those are high, the client is the bottleneck).
Exit status: 0 every call connected, 1 some did not, 2 usage error.

Options:
${renderSettingsHelp(spec)}

Switches:
  --json      print one JSON report on stdout instead of text
  -h, --help  this help`;

const p = (x: Percentiles): string =>
  x.n === 0 ? 'n/a' : `p50 ${x.p50!.toFixed(1)}  p90 ${x.p90!.toFixed(1)}  p99 ${x.p99!.toFixed(1)}  max ${x.max!.toFixed(1)} ms`;

function printText(r: LoadReport): void {
  console.log(`calls: ${r.calls}, connected ${r.connected}, failed ${r.failed}${r.failed ? ` ${JSON.stringify(r.failures)}` : ''}`);
  console.log(`connect (POST → DTLS): ${p(r.connectMs)}`);
  console.log(`RTT: ${p(r.rttMs)}`);
  // With the echo handler, received/sent is the round-trip delivery; "lost" is only the gaps in
  // the sequence numbers the server sent (a server that drops frames before sending shows no loss).
  const back = r.packetsSent > 0 ? ((100 * r.packetsReceived) / r.packetsSent).toFixed(1) : 'n/a';
  console.log(`packets: sent ${r.packetsSent}, received ${r.packetsReceived} (${back}% of sent), lost in transit ${r.packetsLost} (${(r.lossFraction * 100).toFixed(2)}%)`);
  if (r.framesSkipped > 0) console.log(`  ${r.framesSkipped} frames not sent because this process stalled > 500 ms: the client machine is overloaded`);
  console.log(`client: ${r.cpuSeconds.toFixed(2)} s CPU over ${r.wallSeconds.toFixed(1)} s (${((100 * r.cpuSeconds) / r.wallSeconds).toFixed(0)}% of a core), event-loop delay p99 ${r.eventLoopDelayMs.p99.toFixed(1)} ms, max ${r.eventLoopDelayMs.max.toFixed(1)} ms`);
}

export const command: Command = {
  summary: 'load-test: many WebRTC calls from one process (connect percentiles, loss, RTT)',
  help,
  async run(argv: string[]): Promise<number> {
    const { url, json, rest } = splitUrlArgs(argv);
    const cfg = loadConfig(spec, rest, process.env);
    // One second of tone, cycled by every call: encoded once, shared by all.
    const frames = encodeTone(cfg.tone, 1);
    const host = candidateHost(url, { address: cfg.bind, port: 0, family: cfg.bind.includes(':') ? 'IPv6' : 'IPv4' });
    const report = await runLoad({
      url, bearer: cfg.bearer, rng: systemRng, agents: createCoreAgents(systemRng), frames, calls: cfg.calls, seconds: cfg.seconds,
      rate: cfg.rate, connectTimeoutMs: cfg.connectTimeout, bindHost: cfg.bind, candidateHost: host,
      progress: json ? undefined : (line) => void process.stderr.write(`${line}\n`),
    });
    if (json) console.log(JSON.stringify(report));
    else printText(report);
    return report.connected === report.calls && report.failed === 0 ? 0 : 1;
  },
};
