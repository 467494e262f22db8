// `parley dev` (what `npm start` runs): the embedded default on one machine — a relay and a
// transceiver as child processes of this one, sharing a keyring generated in memory, with the
// relay's in-memory flow store and the demo page. Children, not in-process objects, so the
// relay and transceiver run exactly the production code path (their own CLI, config, signals).
// It needs no Redis and no configuration; every address can be overridden, and port 0 means
// "pick a free port" (tests use that). SIGINT/SIGTERM stop both children cleanly.
// Past 400 lines because the command's settings spec (which README renders), the address plan and
// the supervision of its two children (ready lines, /readyz, unexpected exits) are one lifecycle read
// top to bottom; the children's own code is elsewhere.
import { MAX_CODEC_THREADS } from '../media/codec-pool.ts';
import { OPUS_APPLICATIONS, OPUS_MAX_COMPLEXITY } from '../media/opus.ts';
import type { OpusApplication } from '../media/opus.ts';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TransportAddress } from '../core/address.ts';
import { formatAddress } from '../core/address.ts';
import { Keyring } from '../core/token/index.ts';
import { loadConfig, parsers, renderSettingsHelp, setting } from '../common/cli-config.ts';
import { ConfigError } from '../common/config-error.ts';
import { systemRng } from '../common/system-rng.ts';
import { freePorts } from '../client/free-port.ts';
import { transceiverSettings } from '../transceiver/config.ts';
import { LOG_LEVELS, LOG_LEVEL_RANK as RANK } from '../common/log.ts';
import type { LogLevel } from '../common/log.ts';
import { loadHandlerModules } from '../transceiver/handlers/modules.ts';
import { defaultHandlers } from '../transceiver/handlers/registry.ts';
import { TRANSCEIVER_NODE_FLAGS } from '../transceiver/node-flags.ts';
import type { Command } from './command.ts';

const addr = (text: string): TransportAddress => parsers.address(text);
export const devSettings = {
  http: setting({
    flag: 'http',
    env: 'PARLEY_DEV_HTTP',
    metavar: 'HOST:PORT',
    help: 'transceiver HTTP: signaling API, demo page',
    default: addr('127.0.0.1:8080'),
    parse: addr,
  }),
  relay: setting({
    flag: 'relay',
    env: 'PARLEY_DEV_RELAY',
    metavar: 'HOST:PORT',
    help: 'relay public UDP port (advertised to clients)',
    default: addr('127.0.0.1:3478'),
    parse: addr,
  }),
  relayTcp: setting<TransportAddress | undefined>({
    flag: 'relay-tcp',
    env: 'PARLEY_DEV_RELAY_TCP',
    metavar: 'HOST:PORT',
    help: 'relay public ICE-TCP port (RFC 6544, for clients whose network blocks UDP; advertised as a passive TCP candidate)',
    default: undefined,
    defaultText: 'the --relay address on TCP (127.0.0.1:3478)',
    parse: addr,
  }),
  relayInternal: setting({
    flag: 'relay-internal',
    env: 'PARLEY_DEV_RELAY_INTERNAL',
    metavar: 'HOST:PORT',
    help: 'relay UDP port towards the transceiver',
    default: addr('127.0.0.1:3479'),
    parse: addr,
  }),
  relayHttp: setting({
    flag: 'relay-http',
    env: 'PARLEY_DEV_RELAY_HTTP',
    metavar: 'HOST:PORT',
    help: 'relay /metrics /healthz /readyz',
    default: addr('127.0.0.1:9090'),
    parse: addr,
  }),
  ops: setting({
    flag: 'ops',
    env: 'PARLEY_DEV_OPS',
    metavar: 'HOST:PORT',
    help: 'transceiver /metrics /healthz /readyz',
    default: addr('127.0.0.1:9091'),
    parse: addr,
  }),
  media: setting({
    flag: 'media',
    env: 'PARLEY_DEV_MEDIA',
    metavar: 'HOST:PORT',
    help: 'transceiver UDP port towards relays',
    default: addr('127.0.0.1:7000'),
    parse: addr,
  }),
  relayWorkers: setting({
    flag: 'relay-workers',
    env: 'PARLEY_DEV_RELAY_WORKERS',
    metavar: 'N',
    help: 'relay worker processes (one is plenty on one machine)',
    default: 1,
    parse: parsers.int(1, 256),
  }),
  maxSessions: setting({
    flag: 'max-sessions',
    env: 'PARLEY_DEV_MAX_SESSIONS',
    metavar: 'N',
    help: "the transceiver's calls at once; further offers get 503 (load tests of refusal)",
    default: 1000,
    parse: parsers.int(1, 1_000_000),
  }),
  // The transceiver's own settings (same flag, variable and parser), passed on to it as flags.
  realtimeUrl: transceiverSettings.realtimeUrl,
  realtimeModel: transceiverSettings.realtimeModel,
  handler: setting<string | undefined>({
    flag: 'handler',
    env: 'PARLEY_HANDLER',
    metavar: 'NAME',
    help: "the transceiver's default media handler (see parley transceiver --help)",
    default: undefined,
    parse: parsers.string,
  }),
  handlerModules: setting<string[]>({
    flag: 'handler-module',
    env: 'PARLEY_HANDLER_MODULES',
    metavar: 'FILE',
    help: 'a module that registers media handlers (docs/agents.md), given to the transceiver; checked here first',
    default: [],
    parse: parsers.list(parsers.string),
    repeatable: true,
  }),
  mediaStreamUrl: setting<string | undefined>({
    flag: 'media-stream-url',
    env: 'PARLEY_MEDIA_STREAM_URL',
    metavar: 'URL',
    help: 'a Twilio-Media-Streams agent for every call (the media-stream handler, docs/agents.md)',
    default: undefined,
    parse: parsers.url(['ws:', 'wss:']),
  }),
  mediaStreamFormat: setting<string | undefined>({
    flag: 'media-stream-format',
    env: 'PARLEY_MEDIA_STREAM_FORMAT',
    metavar: 'FORMAT',
    help: 'mulaw, l16-16000 or l16-24000 (see parley transceiver --help)',
    default: undefined,
    parse: parsers.string,
  }),
  codecThreads: setting<number | undefined>({
    flag: 'codec-threads',
    env: 'PARLEY_CODEC_THREADS',
    metavar: 'N',
    help: "worker threads for the bridges' Opus work (see parley transceiver --help)",
    default: undefined,
    parse: parsers.int(0, MAX_CODEC_THREADS),
  }),
  opusApplication: setting<OpusApplication | undefined>({
    flag: 'opus-application',
    env: 'PARLEY_OPUS_APPLICATION',
    metavar: 'APP',
    help: "libopus application of the bridges' encoder (see parley transceiver --help)",
    default: undefined,
    parse: parsers.oneOf(OPUS_APPLICATIONS),
  }),
  opusComplexity: setting<number | undefined>({
    flag: 'opus-complexity',
    env: 'PARLEY_OPUS_COMPLEXITY',
    metavar: 'N',
    help: "libopus complexity of the bridges' encoder, 0..10 (see parley transceiver --help)",
    default: undefined,
    parse: parsers.int(0, OPUS_MAX_COMPLEXITY),
  }),
  logLevel: setting({
    flag: 'log-level',
    env: 'PARLEY_LOG_LEVEL',
    metavar: 'LEVEL',
    help: 'log level of both children',
    default: 'info' as LogLevel,
    parse: parsers.oneOf(LOG_LEVELS),
  }),
};

const help = `Usage: parley dev [options]

Runs the embedded default on this machine: a relay and a transceiver (as child processes, each
the production code path), a routing-token keyring generated in memory and given to both, the
relay's in-memory flow store (no Redis), and the demo page. Open the printed URL in a browser,
or call it with \`parley call\`. Port 0 picks a free port. Ctrl-C stops everything.
With --realtime-url every call is bridged to that OpenAI-Realtime-protocol model (the
transceiver's realtime handler; its key from PARLEY_REALTIME_API_KEY).

Options:
${renderSettingsHelp(devSettings)}
  -h, --help  this help

When everything is up, one line \`parley dev ready {json}\` on stdout lists the addresses.`;

const BIN = fileURLToPath(new URL('../../bin/parley.ts', import.meta.url));
const READY_TIMEOUT_MS = 20_000;
const STOP_GRACE_MS = 5_000;

interface Addresses {
  readonly http: TransportAddress;
  readonly relay: TransportAddress;
  readonly relayTcp: TransportAddress;
  readonly relayInternal: TransportAddress;
  readonly relayHttp: TransportAddress;
  readonly ops: TransportAddress;
  readonly media: TransportAddress;
}

const KINDS: Record<keyof Addresses, 'udp' | 'tcp'> = {
  http: 'tcp',
  relay: 'udp',
  relayTcp: 'tcp',
  relayInternal: 'udp',
  relayHttp: 'tcp',
  ops: 'tcp',
  media: 'udp',
};
/** Start-up attempts when ports were picked for us and a child lost one to another process. */
const AUTO_PORT_ATTEMPTS = 3;

/** The configured addresses with every port 0 replaced by a free port (all picked together). */
async function resolveAddresses(cfg: Addresses): Promise<Addresses> {
  const names = (Object.keys(KINDS) as (keyof Addresses)[]).filter((k) => cfg[k].port === 0);
  const ports = await freePorts(names.map((k) => ({ host: cfg[k].address, kind: KINDS[k] })));
  const out: Record<string, TransportAddress> = { ...cfg };
  names.forEach((k, i) => (out[k] = { ...cfg[k], port: ports[i] }));
  return out as unknown as Addresses;
}

/** A child process and the first log line it writes with a given msg (its own "I am up" line). */
interface Child {
  readonly proc: ChildProcess;
  /** Resolves with the child's ready log line; rejects when it exits first or the deadline passes. */
  readonly readyLine: Promise<Record<string, unknown>>;
}

/**
 * Starts `node NODE_FLAGS parley ARGS`. The child logs at info at least (its ready line is how we
 * know it is up, issue #20); lines below the user's --log-level are not shown.
 */
function startChild(
  name: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  readyMsg: string,
  level: LogLevel,
  deadline: number,
  nodeFlags: readonly string[] = [],
): Child {
  const proc = spawn(process.execPath, [...nodeFlags, BIN, ...args], {
    env: { ...env, PARLEY_LOG_LEVEL: RANK[level] < RANK.info ? level : 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let found: (rec: Record<string, unknown>) => void = () => {};
  let failed: (err: Error) => void = () => {};
  const readyLine = new Promise<Record<string, unknown>>((resolve, reject) => {
    found = resolve;
    failed = reject;
  });
  readyLine.catch(() => {}); // observed by the caller
  const timer = setTimeout(
    () => failed(new Error(`did not report ready within ${READY_TIMEOUT_MS} ms`)),
    Math.max(0, deadline - Date.now()),
  );
  timer.unref();
  proc.once('exit', (code, signal) => {
    clearTimeout(timer);
    failed(new Error(`exited (${code ?? signal}) before it was ready (its log above says why)`));
  });
  for (const stream of [proc.stdout, proc.stderr]) {
    if (!stream) continue;
    createInterface({ input: stream }).on('line', (line) => {
      let rec: Record<string, unknown> | undefined;
      try {
        rec = JSON.parse(line) as Record<string, unknown>;
      } catch {
        rec = undefined;
      }
      if (rec?.msg === readyMsg) {
        clearTimeout(timer);
        found(rec);
      }
      const lvl = typeof rec?.level === 'string' ? (rec.level as LogLevel) : undefined;
      // Each child line, prefixed, on our stderr: stdout stays free for the ready line.
      if (lvl === undefined || RANK[lvl] === undefined || RANK[lvl] >= RANK[level]) process.stderr.write(`[${name}] ${line}\n`);
    });
  }
  return { proc, readyLine };
}

/**
 * Issue #20: `ready` only when the child itself says it is up on exactly the addresses we gave
 * it, is still running, and its /readyz answers 200 — a foreign process answering on one of
 * our ports (the child then failed to bind it) must never make us print "ready".
 */
async function childReady(child: Child, url: string, expect: Record<string, string>, deadline: number): Promise<void> {
  const rec = await child.readyLine;
  for (const [field, want] of Object.entries(expect)) {
    const got = rec[field];
    const list = Array.isArray(got) ? got.map(String) : [String(got)];
    if (!list.includes(want)) throw new Error(`reports ${field} ${String(got)}, not ${want}: another process holds the port?`);
  }
  await waitReady(url, child.proc, deadline);
}

async function waitReady(url: string, child: ChildProcess, deadline: number): Promise<void> {
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null)
      throw new Error(`exited (${child.exitCode ?? child.signalCode}) before it was ready (its log above says why)`);
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.arrayBuffer();
      if (res.status === 200 && child.exitCode === null && child.signalCode === null) return;
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

interface Stack {
  /** Resolves when both children answer /readyz; rejects if either exits first or times out. */
  readonly ready: Promise<void>;
  onUnexpectedExit(listener: (name: string, how: string) => void): void;
  /** SIGTERM both (SIGKILL after a grace period); idempotent. */
  stop(): Promise<void>;
}

function launch(
  a: Addresses,
  env: NodeJS.ProcessEnv,
  relayWorkers: number,
  maxSessions: number,
  level: LogLevel,
  transceiverArgs: string[],
): Stack {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const relayChild = startChild(
    'relay',
    [
      'relay',
      '--listen',
      formatAddress(a.relay),
      '--listen-tcp',
      formatAddress(a.relayTcp),
      '--internal',
      formatAddress(a.relayInternal),
      '--http',
      formatAddress(a.relayHttp),
      '--workers',
      String(relayWorkers),
    ],
    env,
    'relay ready',
    level,
    deadline,
  );
  const trxChild = startChild(
    'transceiver',
    [
      'transceiver',
      '--http',
      formatAddress(a.http),
      '--ops',
      formatAddress(a.ops),
      '--media',
      formatAddress(a.media),
      '--relays',
      formatAddress(a.relay),
      '--relays-tcp',
      formatAddress(a.relayTcp),
      '--max-sessions',
      String(maxSessions),
      // Ctrl-C should not wait the production 30 s for calls in progress to finish.
      '--drain-seconds',
      '2',
      ...transceiverArgs,
      // One machine, loopback by default: the signaling API needs no keys here (docs/security.md).
      '--no-auth',
      // No Redis: ended calls' tokens are revoked at the relay's ops listener (issue #19).
      '--revoke-urls',
      httpUrl(a.relayHttp, ''),
    ],
    env,
    'listening',
    level,
    deadline,
    TRANSCEIVER_NODE_FLAGS,
  );
  const relay = relayChild.proc;
  const trx = trxChild.proc;
  let stopping: Promise<void> | undefined;
  let listener: ((name: string, how: string) => void) | undefined;
  for (const [name, child] of [
    ['relay', relay],
    ['transceiver', trx],
  ] as const) {
    child.on('exit', (code, signal) => {
      if (!stopping) listener?.(name, String(code ?? signal));
    });
  }
  const ready = Promise.all([
    childReady(
      relayChild,
      httpUrl(a.relayHttp, '/readyz'),
      { public: formatAddress(a.relay), tcp: formatAddress(a.relayTcp), http: formatAddress(a.relayHttp) },
      deadline,
    ).catch((e: Error) => Promise.reject(new Error(`relay ${e.message}`))),
    childReady(trxChild, httpUrl(a.ops, '/readyz'), { http: formatAddress(a.http), media: formatAddress(a.media) }, deadline).catch(
      (e: Error) => Promise.reject(new Error(`transceiver ${e.message}`)),
    ),
  ]).then(() => {});
  ready.catch(() => {}); // observed by the caller; this only keeps an unawaited rejection quiet
  return {
    ready,
    onUnexpectedExit: (l) => (listener = l),
    stop: () => (stopping ??= Promise.all([stopChild(relay), stopChild(trx)]).then(() => {})),
  };
}

/**
 * --relay-tcp is a TCP listener beside the HTTP ones: it must be a concrete host (the relay
 * refuses a wildcard, which it could not advertise) and must not be one of theirs.
 */
function checkRelayTcp(
  a: TransportAddress,
  cfg: { http: TransportAddress; relayHttp: TransportAddress; ops: TransportAddress },
): TransportAddress {
  const name = '--relay-tcp / PARLEY_DEV_RELAY_TCP';
  if (a.address === '0.0.0.0' || a.address === '::')
    throw new ConfigError(name, `${formatAddress(a)} is a wildcard; give the address clients reach (e.g. 127.0.0.1:${a.port})`);
  if (a.port === 0) return a;
  for (const [flag, other] of [
    ['--http', cfg.http],
    ['--relay-http', cfg.relayHttp],
    ['--ops', cfg.ops],
  ] as const) {
    if (formatAddress(other) === formatAddress(a)) throw new ConfigError(name, `${formatAddress(a)} is also ${flag}`);
  }
  return a;
}

function printReady(a: Addresses): void {
  const page = `http://localhost:${a.http.port}/`;
  const ready = {
    page,
    signaling: httpUrl(a.http, '/v1/realtime/calls'),
    relay: formatAddress(a.relay),
    relayTcp: formatAddress(a.relayTcp),
    relayInternal: formatAddress(a.relayInternal),
    relayMetrics: httpUrl(a.relayHttp, '/metrics'),
    transceiverMetrics: httpUrl(a.ops, '/metrics'),
    media: formatAddress(a.media),
  };
  process.stdout.write(`parley dev ready ${JSON.stringify(ready)}\n`);
  process.stderr.write(
    `\nParley is running. Open ${page} (a secure context for the microphone), or:\n` +
      `  npx parley call ${ready.signaling} --seconds 3 --record /tmp/back.wav\n` +
      `  (add --tcp to come in over the relay's ICE-TCP port ${ready.relayTcp}, as a network that blocks UDP would)\n` +
      `Relay metrics: ${ready.relayMetrics}   Transceiver metrics: ${ready.transceiverMetrics}\nCtrl-C stops.\n\n`,
  );
}

export const command: Command = {
  summary: 'run a relay + transceiver + demo page locally (no Redis, no configuration)',
  help,
  async run(argv: string[]): Promise<number> {
    const cfg = loadConfig(devSettings, argv, process.env);
    // A bad handler module is this command's configuration error too (exit 2), not a child that died.
    const modules = cfg.handlerModules.map((f) => resolve(f));
    await loadHandlerModules(modules, defaultHandlers());
    const transceiverArgs = [
      ...modules.flatMap((f) => ['--handler-module', f]),
      ...(cfg.handler === undefined ? [] : ['--handler', cfg.handler]),
      ...(cfg.mediaStreamUrl === undefined ? [] : ['--media-stream-url', cfg.mediaStreamUrl]),
      ...(cfg.mediaStreamFormat === undefined ? [] : ['--media-stream-format', cfg.mediaStreamFormat]),
      ...(cfg.codecThreads === undefined ? [] : ['--codec-threads', String(cfg.codecThreads)]),
      ...(cfg.opusApplication === undefined ? [] : ['--opus-application', cfg.opusApplication]),
      ...(cfg.opusComplexity === undefined ? [] : ['--opus-complexity', String(cfg.opusComplexity)]),
    ];
    const configured: Addresses = {
      http: cfg.http,
      relay: cfg.relay,
      relayTcp: checkRelayTcp(cfg.relayTcp ?? cfg.relay, cfg),
      relayInternal: cfg.relayInternal,
      relayHttp: cfg.relayHttp,
      ops: cfg.ops,
      media: cfg.media,
    };
    const auto = Object.values(configured).some((a) => a.port === 0);
    // One fresh key for this run only: tokens die with the processes, and nothing is written.
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PARLEY_KEYS: Keyring.generate(systemRng, 1).toString(),
    };
    delete env.PARLEY_KEYS_FILE;
    transceiverArgs.push(
      ...(cfg.realtimeUrl === undefined ? [] : ['--realtime-url', cfg.realtimeUrl]),
      ...(cfg.realtimeModel === undefined ? [] : ['--realtime-model', cfg.realtimeModel]),
    );

    let stack: Stack | undefined;
    let signalled = false;
    let exitCode = 0;
    let settle: () => void = () => {};
    const finished = new Promise<void>((r) => (settle = r));
    const onSignal = (): void => {
      signalled = true;
      process.stderr.write('parley dev: stopping\n');
      void (stack ? stack.stop() : Promise.resolve()).then(settle);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    try {
      let addrs = configured;
      for (let attempt = 1; !signalled; attempt++) {
        addrs = await resolveAddresses(configured);
        stack = launch(addrs, env, cfg.relayWorkers, cfg.maxSessions, cfg.logLevel, transceiverArgs);
        try {
          await stack.ready;
          break;
        } catch (err) {
          await stack.stop();
          if (signalled) break;
          if (!auto || attempt >= AUTO_PORT_ATTEMPTS) {
            process.stderr.write(`parley dev: ${(err as Error).message}\n`);
            return 1;
          }
          process.stderr.write(`parley dev: ${(err as Error).message}; retrying on other free ports\n`);
        }
      }
      if (signalled || !stack) return 0;
      stack.onUnexpectedExit((name, how) => {
        process.stderr.write(`parley dev: the ${name} exited (${how}); stopping\n`);
        exitCode = 1;
        void stack!.stop().then(settle);
      });
      printReady(addrs);
      await finished;
      return exitCode;
    } finally {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
    }
  },
};
