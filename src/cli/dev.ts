// `parley dev` (what `npm start` runs): the embedded default on one machine — a relay and a
// transceiver as child processes of this one, sharing a keyring generated in memory, with the
// relay's in-memory flow store and the demo page. Children, not in-process objects, so the
// relay and transceiver run exactly the production code path (their own CLI, config, signals).
// It needs no Redis and no configuration; every address can be overridden, and port 0 means
// "pick a free port" (tests use that). SIGINT/SIGTERM stop both children cleanly.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import { Keyring } from '../core/token/index.ts';
import { loadConfig, parsers, renderSettingsHelp, setting } from '../common/cli-config.ts';
import { systemRng } from '../common/system-rng.ts';
import { freeTcpPort, freeUdpPort } from '../client/free-port.ts';
import type { Command } from './command.ts';

const addr = (text: string): TransportAddress => parsers.address(text);
const spec = {
  http: setting({ flag: 'http', env: 'PARLEY_DEV_HTTP', metavar: 'HOST:PORT', help: 'transceiver HTTP: signaling API, demo page, /metrics', default: addr('127.0.0.1:8080'), parse: addr }),
  relay: setting({ flag: 'relay', env: 'PARLEY_DEV_RELAY', metavar: 'HOST:PORT', help: 'relay public UDP port (advertised to clients)', default: addr('127.0.0.1:3478'), parse: addr }),
  relayInternal: setting({ flag: 'relay-internal', env: 'PARLEY_DEV_RELAY_INTERNAL', metavar: 'HOST:PORT', help: 'relay UDP port towards the transceiver', default: addr('127.0.0.1:3479'), parse: addr }),
  relayHttp: setting({ flag: 'relay-http', env: 'PARLEY_DEV_RELAY_HTTP', metavar: 'HOST:PORT', help: 'relay /metrics /healthz /readyz', default: addr('127.0.0.1:9090'), parse: addr }),
  media: setting({ flag: 'media', env: 'PARLEY_DEV_MEDIA', metavar: 'HOST:PORT', help: 'transceiver UDP port towards relays', default: addr('127.0.0.1:7000'), parse: addr }),
  relayWorkers: setting({ flag: 'relay-workers', env: 'PARLEY_DEV_RELAY_WORKERS', metavar: 'N', help: 'relay worker processes (one is plenty on one machine)', default: 1, parse: parsers.int(1, 256) }),
  logLevel: setting({ flag: 'log-level', env: 'PARLEY_LOG_LEVEL', metavar: 'LEVEL', help: 'log level of both children', default: 'info', parse: parsers.oneOf(['debug', 'info', 'warn', 'error', 'silent'] as const) }),
};

const help = `Usage: parley dev [options]

Runs the embedded default on this machine: a relay and a transceiver (as child processes, each
the production code path), a routing-token keyring generated in memory and given to both, the
relay's in-memory flow store (no Redis), and the demo page. Open the printed URL in a browser,
or call it with \`parley call\`. Port 0 picks a free port. Ctrl-C stops everything.

Options:
${renderSettingsHelp(spec)}
  -h, --help  this help

When everything is up, one line \`parley dev ready {json}\` on stdout lists the addresses.`;

const BIN = fileURLToPath(new URL('../../bin/parley.ts', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

async function resolvePort(a: TransportAddress, kind: 'udp' | 'tcp'): Promise<TransportAddress> {
  if (a.port !== 0) return a;
  return { ...a, port: kind === 'udp' ? await freeUdpPort(a.address) : await freeTcpPort(a.address) };
}

function startChild(name: string, args: string[], env: NodeJS.ProcessEnv): ChildProcess {
  const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  for (const stream of [child.stdout, child.stderr]) {
    if (!stream) continue;
    // Each child line, prefixed, on our stderr: stdout stays free for the ready line.
    createInterface({ input: stream }).on('line', (line) => process.stderr.write(`[${name}] ${line}\n`));
  }
  return child;
}

async function waitReady(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`exited (${child.exitCode ?? child.signalCode}) before it was ready`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`not ready at ${url} within ${READY_TIMEOUT_MS} ms`);
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS);
    child.once('exit', () => {
      clearTimeout(kill);
      resolve();
    });
    child.kill('SIGTERM');
  });
}

const httpUrl = (a: TransportAddress, path: string): string => `http://${formatAddress(a)}${path}`;

export const command: Command = {
  summary: 'run a relay + transceiver + demo page locally (no Redis, no configuration)',
  help,
  async run(argv: string[]): Promise<number> {
    const cfg = loadConfig(spec, argv, process.env);
    const http = await resolvePort(cfg.http, 'tcp');
    const relay = await resolvePort(cfg.relay, 'udp');
    const relayInternal = await resolvePort(cfg.relayInternal, 'udp');
    const relayHttp = await resolvePort(cfg.relayHttp, 'tcp');
    const media = await resolvePort(cfg.media, 'udp');
    // One fresh key for this run only: tokens die with the processes, and nothing is written.
    const env: NodeJS.ProcessEnv = { ...process.env, PARLEY_KEYS: Keyring.generate(systemRng, 1).toString(), PARLEY_LOG_LEVEL: cfg.logLevel };
    delete env.PARLEY_KEYS_FILE;
    const children: ChildProcess[] = [];
    let stopping: Promise<void> | undefined;
    const stopAll = (): Promise<void> => (stopping ??= Promise.all(children.map(stopChild)).then(() => {}));
    let exitCode = 0;
    let settle: () => void = () => {};
    const finished = new Promise<void>((r) => (settle = r));
    const onSignal = (): void => {
      process.stderr.write('parley dev: stopping\n');
      void stopAll().then(settle);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    const watch = (name: string, child: ChildProcess): void => {
      child.on('exit', (code, signal) => {
        if (stopping) return;
        process.stderr.write(`parley dev: the ${name} exited (${code ?? signal}); stopping\n`);
        exitCode = 1;
        void stopAll().then(settle);
      });
    };
    try {
      const relayChild = startChild('relay', ['relay', '--listen', formatAddress(relay), '--internal', formatAddress(relayInternal), '--http', formatAddress(relayHttp), '--workers', String(cfg.relayWorkers)], env);
      children.push(relayChild);
      watch('relay', relayChild);
      const trxChild = startChild('transceiver', ['transceiver', '--http', formatAddress(http), '--media', formatAddress(media), '--relays', formatAddress(relay),
        // Ctrl-C should not wait the production 30 s for calls in progress to finish.
        '--drain-seconds', '2'], env);
      children.push(trxChild);
      watch('transceiver', trxChild);
      const deadline = Date.now() + READY_TIMEOUT_MS;
      await Promise.all([
        waitReady(httpUrl(relayHttp, '/readyz'), relayChild, deadline).catch((e: Error) => Promise.reject(new Error(`relay ${e.message}`))),
        waitReady(httpUrl(http, '/readyz'), trxChild, deadline).catch((e: Error) => Promise.reject(new Error(`transceiver ${e.message}`))),
      ]);
    } catch (err) {
      if (!stopping) {
        process.stderr.write(`parley dev: ${(err as Error).message}\n`);
        exitCode = 1;
        await stopAll();
        settle();
      }
    }
    if (exitCode === 0 && !stopping) {
      const page = `http://localhost:${http.port}/`;
      const ready = {
        page, signaling: httpUrl(http, '/v1/realtime/calls'), relay: formatAddress(relay), relayInternal: formatAddress(relayInternal),
        relayMetrics: httpUrl(relayHttp, '/metrics'), transceiverMetrics: httpUrl(http, '/metrics'), media: formatAddress(media),
      };
      process.stdout.write(`parley dev ready ${JSON.stringify(ready)}\n`);
      process.stderr.write(`\nParley is running. Open ${page} (a secure context for the microphone), or:\n` +
        `  npx parley call ${ready.signaling} --seconds 3 --record /tmp/back.wav\n` +
        `Relay metrics: ${ready.relayMetrics}   Transceiver metrics: ${ready.transceiverMetrics}\nCtrl-C stops.\n\n`);
    }
    await finished;
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    return exitCode;
  },
};
