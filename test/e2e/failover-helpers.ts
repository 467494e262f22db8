// Real-process helpers for the global-relay tests (failover, hand-over, drain): start
// `parley relay` / `parley transceiver` with a shared keyring and wait for their ready lines,
// watch a call's packet counters through GET /v1/realtime/calls/{id} to measure media gaps,
// and clean Redis keys under a per-run prefix. Every process started here is killed by
// `stopAll()` (tests call it in `after`), so nothing outlives a run.
import { buildOffer } from '../../src/client/sdp.ts';
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createClient } from 'redis';
import { parseAddress } from '../../src/core/address.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import type { CallInfo } from '../../src/transceiver/calls/call-types.ts';
import { BIN, ROOT, stopProcess } from './helpers.ts';

export const REDIS = 'redis://127.0.0.1:6379';
export const KEYS = Keyring.generate(seededRng('global-relay-test-keys')).toString();

export interface Proc {
  readonly child: ChildProcess;
  readonly lines: string[];
  /** Resolves with the first log line (JSON) whose msg is `msg`; rejects after timeoutMs or on exit. */
  line(msg: string, timeoutMs?: number): Promise<Record<string, unknown>>;
  exited(): Promise<number | null>;
}

const running = new Set<Proc>();

export function startProc(args: string[], env: NodeJS.ProcessEnv = {}): Proc {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PARLEY_KEYS: KEYS, PARLEY_KEYS_FILE: '', PARLEY_LOG_LEVEL: 'info', ...env },
  });
  const lines: string[] = [];
  const waiters: (() => void)[] = [];
  const onLine = (l: string): void => {
    lines.push(l);
    for (const w of waiters.splice(0)) w();
  };
  createInterface({ input: child.stderr! }).on('line', onLine);
  createInterface({ input: child.stdout! }).on('line', onLine);
  const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const p: Proc = {
    child,
    lines,
    exited: () => exit,
    line(msg, timeoutMs = 20_000) {
      const find = (): Record<string, unknown> | undefined => {
        for (const l of lines) {
          if (!l.includes(`"msg":"${msg}"`)) continue;
          try {
            return JSON.parse(l) as Record<string, unknown>;
          } catch {
            // not JSON: keep looking
          }
        }
        return undefined;
      };
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no '${msg}' in ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
        const check = (): void => {
          const found = find();
          if (found) {
            clearTimeout(timer);
            resolve(found);
          } else if (child.exitCode !== null || child.signalCode !== null) {
            clearTimeout(timer);
            reject(new Error(`exited before '${msg}':\n${lines.join('\n')}`));
          } else waiters.push(check);
        };
        check();
        void exit.then(() => {
          for (const w of waiters.splice(0)) w();
        });
      });
    },
  };
  running.add(p);
  void exit.then(() => running.delete(p));
  return p;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...running].map((p) => stopProcess(p.child, 5_000, 'SIGKILL')));
}

/** A fresh Redis key prefix for one test run, and a function that deletes every key under it. */
export function redisPrefix(): { prefix: string; cleanup: () => Promise<void> } {
  const prefix = `parley:test:global:${randomBytes(4).toString('hex')}:`;
  return {
    prefix,
    async cleanup() {
      const c = createClient({ url: REDIS });
      await c.connect();
      try {
        for await (const keys of c.scanIterator({ MATCH: `${prefix}*`, COUNT: 1000 })) if (keys.length > 0) await c.del(keys);
      } finally {
        await c.close();
      }
    },
  };
}

export interface RelayProc extends Proc {
  readonly public: TransportAddress;
  readonly http: string;
}

/** `parley relay` on `listen` (HOST:PORT, port 0 allowed) with Redis, one worker; resolves when ready. */
export async function startRelay(o: { listen: string; location: string; prefix: string; internal?: string }): Promise<RelayProc> {
  const p = startProc(
    [
      'relay',
      '--listen',
      o.listen,
      '--internal',
      o.internal ?? '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--workers',
      '1',
      '--pin',
      'off',
      '--redis',
      REDIS,
      '--redis-prefix',
      `${o.prefix}flow:`,
      '--heartbeat-prefix',
      `${o.prefix}hb:`,
      '--location',
      o.location,
    ],
    // The Node datapath: a native one is being built alongside (PARLEY_DATAPATH; ignored where it does not exist yet).
    { PARLEY_DATAPATH: process.env.PARLEY_TEST_DATAPATH ?? 'js' },
  );
  const ready = await p.line('relay ready');
  return { ...p, public: parseAddress((ready.public as string[])[0])!, http: `http://${ready.http as string}` };
}

export interface TransceiverProc extends Proc {
  /** Signaling (the public port). */
  readonly base: string;
  /** /metrics /healthz /readyz (--ops). */
  readonly ops: string;
}

export async function startTransceiver(args: string[]): Promise<TransceiverProc> {
  // Without --api-keys a transceiver does not start unless told to run open (issue #19): tests that give keys use them.
  const defaults = {
    PARLEY_HTTP: '127.0.0.1:0',
    PARLEY_OPS: '127.0.0.1:0',
    PARLEY_MEDIA: '127.0.0.1:0',
    PARLEY_DEMO_PAGE: 'off',
    PARLEY_NO_AUTH: 'on',
  };
  const p = startProc(['transceiver', ...args], defaults);
  const listening = await p.line('listening');
  return {
    ...p,
    base: `http://127.0.0.1:${parseAddress(listening.http as string)!.port}`,
    ops: `http://127.0.0.1:${parseAddress(listening.ops as string)!.port}`,
  };
}

export interface Sample {
  readonly at: number;
  readonly received: number;
  readonly sent: number;
  readonly relay: string | undefined;
  readonly state: string;
}

/**
 * Polls GET …/{id} every `everyMs` until stopped: the packets the transceiver accepted from the
 * client (and sent back) over time, and which relay the call's selected path uses.
 */
export function watchCall(base: string, id: string, everyMs = 20): { samples: Sample[]; stop: () => Promise<void> } {
  const samples: Sample[] = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      try {
        const info = (await (await fetch(`${base}/v1/realtime/calls/${id}`, { signal: AbortSignal.timeout(2000) })).json()) as CallInfo;
        samples.push({
          at: performance.now(),
          received: info.stats.packetsReceived,
          sent: info.stats.packetsSent,
          relay: info.relay,
          state: info.state,
        });
        if (info.state === 'closed') break;
      } catch {
        // a slow answer on a loaded machine: try again
      }
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return {
    samples,
    stop: async () => {
      stopped = true;
      await loop;
    },
  };
}

/**
 * The media gap around `at` (performance.now(), e.g. the kill): the longest stretch without a
 * new packet among the samples from 500 ms before `at` on — from the sample that last saw the
 * count grow to the moment it grew again (the middle of the two samples around that growth).
 * Packets already in flight at `at` do not end the gap early, since they come before it starts.
 * Undefined until the count has grown after the gap. Resolution: the polling interval.
 */
export function gapAround(samples: readonly Sample[], at: number): { gapMs: number; lastBefore: number; firstAfter: number } | undefined {
  let best: { gapMs: number; lastBefore: number; firstAfter: number } | undefined;
  let lastGrowth: number | undefined;
  for (let i = 1; i < samples.length; i++) {
    if (samples[i].at < at - 500 || samples[i].received <= samples[i - 1].received) continue;
    const grewAt = (samples[i - 1].at + samples[i].at) / 2;
    if (lastGrowth !== undefined && grewAt > at && (!best || grewAt - lastGrowth > best.gapMs)) {
      best = { gapMs: grewAt - lastGrowth, lastBefore: lastGrowth, firstAfter: grewAt };
    }
    lastGrowth = samples[i].at;
  }
  return best && best.gapMs > 100 ? best : undefined;
}

/** A minimal well-formed offer (candidate on port 9: it never connects), for calls that only need to exist. */
export function minimalOffer(): string {
  return buildOffer({
    iceUfrag: 'abcd',
    icePwd: 'abcdefghijklmnopqrstuvwx',
    fingerprint: { algorithm: 'sha-256', value: Array(32).fill('AB').join(':') },
    candidate: { address: '127.0.0.1', port: 9, family: 'IPv4' },
    ssrc: 1,
    cname: 'x',
    sessionId: '1',
  });
}
