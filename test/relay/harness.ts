// Integration-test harness for `parley relay`: start it as a child process (or in-process),
// wait for its "relay ready" log line with a bounded wait, test transceivers and clients as
// dgram sockets, bounded receive helpers, /metrics scraping, and Redis key cleanup.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { createInterface } from 'node:readline';
import net from 'node:net';
import { createClient } from 'redis';
import { RFC4571_MAX_FRAME, Rfc4571Deframer } from '../../src/core/framing/rfc4571.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { parseAddress } from '../../src/core/address.ts';
import { RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { KEYS_TEXT, mintFor, stunCheck } from './helpers.ts';
import { waitFor } from '../support/wait-for.ts';

const NODE = process.execPath;
const BIN = new URL('../../bin/parley.ts', import.meta.url).pathname;
export const REDIS_URL = process.env.PARLEY_TEST_REDIS ?? 'redis://127.0.0.1:6379';
/**
 * The datapath every relay this harness starts uses: js unless PARLEY_TEST_DATAPATH says
 * native. native-suite.test.ts runs the relay tests again with native, so `npm test` covers both.
 */
export const TEST_DATAPATH: 'js' | 'native' = process.env.PARLEY_TEST_DATAPATH === 'native' ? 'native' : 'js';

export interface RelayProcess {
  readonly proc: ChildProcess;
  readonly publics: TransportAddress[];
  readonly internals: TransportAddress[];
  /** With --listen-tcp: the bound TCP addresses. */
  readonly tcp: TransportAddress[];
  readonly http: TransportAddress;
  readonly logs: Record<string, unknown>[];
  /** SIGTERM and wait for exit; resolves to the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Starts `parley relay ARGS` with test keys; resolves when it logs "relay ready" (≤ 30 s: a loaded CI machine starts worker threads slowly). */
export async function startRelayProcess(args: string[], env: Record<string, string> = {}): Promise<RelayProcess> {
  const defaults = [
    ['--listen', '127.0.0.1:0'],
    ['--internal', '127.0.0.1:0'],
    ['--http', '127.0.0.1:0'],
    ['--pin', 'off'],
    ['--datapath', TEST_DATAPATH],
  ]
    .filter(([flag]) => !args.includes(flag))
    .flat();
  const proc = spawn(NODE, [BIN, 'relay', ...defaults, ...args], {
    env: { ...process.env, PARLEY_KEYS: KEYS_TEXT, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const logs: Record<string, unknown>[] = [];
  const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));
  const ready = new Promise<Record<string, unknown>>((resolve, reject) => {
    const rl = createInterface({ input: proc.stderr as NodeJS.ReadableStream });
    rl.on('line', (line) => {
      let rec: Record<string, unknown>;
      try {
        rec = JSON.parse(line);
      } catch {
        rec = { raw: line };
      }
      logs.push(rec);
      if (rec.msg === 'relay ready') resolve(rec);
    });
    void exited.then((code) => reject(new Error(`relay exited (${code}) before ready: ${JSON.stringify(logs)}`)));
    setTimeout(() => reject(new Error('relay not ready within 30 s')), 30_000).unref();
  });
  let rec: Record<string, unknown>;
  try {
    rec = await ready;
  } catch (err) {
    proc.kill('SIGKILL');
    await exited;
    throw err;
  }
  const addr = (t: unknown): TransportAddress => parseAddress(String(t)) as TransportAddress;
  return {
    proc,
    publics: (rec.public as string[]).map(addr),
    internals: (rec.internal as string[]).map(addr),
    tcp: ((rec.tcp as string[] | undefined) ?? []).map(addr),
    http: addr(rec.http),
    logs,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), 10_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
    async kill() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** A TCP client of the relay speaking RFC 4571: write frames to `sock`, read them from `frames`. */
export interface TcpTestClient {
  readonly sock: net.Socket;
  readonly frames: Buffer[];
  /** Resolves when the connection is closed (by either side). */
  readonly closed: Promise<void>;
}

export async function connectTcp(to: TransportAddress): Promise<TcpTestClient> {
  const sock = net.connect({ host: to.address, port: to.port });
  await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
  const frames: Buffer[] = [];
  const d = new Rfc4571Deframer(RFC4571_MAX_FRAME);
  sock.on('data', (chunk: Buffer) => {
    const r = d.push(chunk);
    if ('frames' in r) frames.push(...r.frames);
  });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return { sock, frames, closed };
}

/** A UDP socket with a queue of received datagrams and a bounded wait for the next one. */
export interface TestSocket {
  readonly sock: Socket;
  readonly address: TransportAddress;
  readonly received: { msg: Buffer; from: RemoteInfo }[];
  send(msg: Buffer, to: TransportAddress): void;
  /** Resolves with the first queued/next datagram matching `pred`, or rejects after `ms`. */
  next(ms?: number, pred?: (m: Buffer, from: RemoteInfo) => boolean): Promise<{ msg: Buffer; from: RemoteInfo }>;
  close(): Promise<void>;
}

export async function openSocket(host = '127.0.0.1'): Promise<TestSocket> {
  const sock = dgram.createSocket(host.includes(':') ? 'udp6' : 'udp4');
  await new Promise<void>((r) => sock.bind(0, host, () => r()));
  const received: { msg: Buffer; from: RemoteInfo }[] = [];
  const waiters: (() => void)[] = [];
  sock.on('message', (msg, from) => {
    received.push({ msg, from });
    for (const w of waiters.splice(0)) w();
  });
  const a = sock.address();
  let closed = false;
  return {
    sock,
    address: { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' },
    received,
    send: (msg, to) => sock.send(msg, to.port, to.address),
    async next(ms = 2000, pred = () => true) {
      const deadline = Date.now() + ms;
      for (;;) {
        const i = received.findIndex((r) => pred(r.msg, r.from));
        if (i >= 0) return received.splice(i, 1)[0];
        const left = deadline - Date.now();
        if (left <= 0) throw new Error(`no datagram within ${ms} ms`);
        await new Promise<void>((resolve) => {
          const t = setTimeout(resolve, left);
          waiters.push(() => {
            clearTimeout(t);
            resolve();
          });
        });
      }
    },
    close: () =>
      new Promise<void>((r) => {
        if (closed) return r();
        closed = true;
        sock.close(() => r());
      }),
  };
}

/** Opens client sockets on demand and closes them all at the end (a test opens one per source address). */
export function socketPool(): { open(host?: string): Promise<TestSocket>; closeAll(): Promise<void> } {
  const sockets: TestSocket[] = [];
  return {
    async open(host) {
      const s = await openSocket(host);
      sockets.push(s);
      return s;
    },
    closeAll: async () => void (await Promise.all(sockets.map((s) => s.close()))),
  };
}

/** GET /metrics and parse `name{labels} value` lines into a map. */
export async function scrape(http: TransportAddress): Promise<Map<string, number>> {
  const res = await fetch(`http://${http.address}:${http.port}/metrics`, { signal: AbortSignal.timeout(3000) });
  const text = await res.text();
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    out.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return out;
}

export const drops = (m: Map<string, number>, reason: string): number => m.get(`parley_relay_drops_total{reason="${reason}"}`) ?? 0;

/** Is Redis at `url` reachable? In CI it must be: the caller fails instead of skipping. */
export async function redisAvailable(url = REDIS_URL): Promise<boolean> {
  const c = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  c.on('error', () => {});
  try {
    await c.connect();
    await c.ping();
    await c.close();
    return true;
  } catch {
    c.destroy();
    return false;
  }
}

/** Deletes every key under `prefix` (tests use a unique prefix per run). */
export async function deleteRedisKeys(prefix: string, url = REDIS_URL): Promise<number> {
  const c = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  let n = 0;
  try {
    for await (const keys of c.scanIterator({ MATCH: prefix.replace(/[*?[\]\\]/g, '\\$&') + '*', COUNT: 1000 })) {
      if (keys.length) n += await c.del(keys);
    }
  } finally {
    await c.close();
  }
  return n;
}

export async function countRedisKeys(prefix: string, url = REDIS_URL, suffix = '*'): Promise<number> {
  const c = createClient({ url, socket: { connectTimeout: 1000, reconnectStrategy: false } });
  c.on('error', () => {});
  await c.connect();
  let n = 0;
  try {
    for await (const keys of c.scanIterator({ MATCH: prefix.replace(/[*?[\]\\]/g, '\\$&') + suffix, COUNT: 1000 })) n += keys.length;
  } finally {
    await c.close();
  }
  return n;
}

export function uniquePrefix(name: string): string {
  return `parley-test:${name}:${process.pid}:${Date.now().toString(36)}:`;
}

/** A currently free port on 127.0.0.1 (UDP or TCP); another process could still take it. */
export async function freePort(kind: 'udp' | 'tcp'): Promise<number> {
  if (kind === 'udp') {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
    const port = s.address().port;
    await new Promise<void>((r) => s.close(() => r()));
    return port;
  }
  const { createServer } = await import('node:net');
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

/** A private redis-server this test owns (never the machine's shared one). */
export async function startPrivateRedis(port: number): Promise<{ url: string; stop(): Promise<void> }> {
  const proc = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], {
    stdio: 'ignore',
  });
  const exited = new Promise<void>((r) => proc.once('exit', () => r()));
  const url = `redis://127.0.0.1:${port}`;
  try {
    await waitFor(() => redisAvailable(url), 5000, `redis-server on ${port}`);
  } catch (err) {
    proc.kill('SIGKILL');
    throw err;
  }
  return {
    url,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL');
      await exited;
    },
  };
}

/** In CI Redis must be there: fail. Elsewhere: skip with a reason. */
export async function requireRedis(t: { skip(msg: string): void }): Promise<boolean> {
  if (await redisAvailable()) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but Redis at ${REDIS_URL} is not reachable`);
  t.skip(`Redis at ${REDIS_URL} is not reachable`);
  return false;
}

/** The relay's log lines and non-zero relay metrics, for a failure message. */
export async function explain(r: RelayProcess): Promise<string> {
  let metrics = '(scrape failed)';
  try {
    metrics = [...(await scrape(r.http))]
      .filter(([k, v]) => k.startsWith('parley_relay') && v !== 0)
      .map(([k, v]) => `${k} ${v}`)
      .join('\n');
  } catch {
    // the relay may be gone; the logs still help
  }
  return `relay logs:\n${r.logs.map((l) => JSON.stringify(l)).join('\n')}\nmetrics:\n${metrics}`;
}

/** Rethrows `err` with the relay's state appended. */
export async function withRelayState(r: RelayProcess | undefined, err: unknown): Promise<never> {
  if (!r) throw err;
  throw new Error(`${(err as Error).message}\n${await explain(r)}`, { cause: err });
}

/** Flow records under `prefix` (their keys hold HOST:PORT; token and revocation records do not: flow-record.ts). */
export function countFlowRecords(prefix: string, url = REDIS_URL): Promise<number> {
  return countRedisKeys(prefix, url, '*:*');
}

/**
 * Makes a test transceiver answer every STUN datagram a relay brings it, as a real one answers
 * checks: header and datagram back to the relay worker it came from. The relay's reply path
 * confirms the flow (token-flows.ts); an unconfirmed flow is removed after a few seconds.
 */
export function answerChecks(tx: TestSocket): void {
  tx.sock.on('message', (m: Buffer, from: RemoteInfo) => {
    if (m.length > RELAY_HEADER_LENGTH && m[RELAY_HEADER_LENGTH] <= 3) tx.sock.send(m, from.port, from.address);
  });
}

/**
 * Opens `n` client sockets (pushed onto `clients`, so the caller closes them even on failure)
 * and sends each a STUN check with a fresh token for `tx` to the relay's `pub`.
 */
export async function startClients(n: number, tx: TestSocket, pub: TransportAddress, clients: TestSocket[]): Promise<void> {
  for (let i = 0; i < n; i++) {
    const c = await openSocket();
    clients.push(c);
    const { ufrag, pwd } = mintFor(tx.address);
    c.send(stunCheck(ufrag, pwd), pub);
  }
}
