// Real-process helpers for the end-to-end tests: start `parley dev` on free ports (port 0 for
// every address) and wait for its ready line; run `parley call … --json`; read Prometheus
// counters. Every process started here is stopped by the returned handle, with a deadline,
// and tests register that in `after` so nothing outlives the run.
import { spawn } from 'node:child_process';
import { networkInterfaces } from 'node:os';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { hasTone, rms } from '../../src/media/analysis.ts';
import type { ToneCheck } from '../../src/media/analysis.ts';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const BIN = fileURLToPath(new URL('../../bin/parley.ts', import.meta.url));

export interface DevReady {
  readonly page: string;
  readonly signaling: string;
  readonly relay: string;
  /** The relay's ICE-TCP address (RFC 6544), advertised as a passive TCP candidate. */
  readonly relayTcp: string;
  readonly relayMetrics: string;
  readonly transceiverMetrics: string;
}

export interface DevStack {
  readonly ready: DevReady;
  /** The `parley dev` process (its relay and transceiver are its children). */
  readonly pid: number;
  /** Child output so far, for failure messages. */
  log(): string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

const DEV_DEFAULTS: readonly (readonly [string, string])[] = [
  ['--http', '127.0.0.1:0'],
  ['--relay', '127.0.0.1:0'],
  ['--relay-internal', '127.0.0.1:0'],
  ['--relay-http', '127.0.0.1:0'],
  ['--ops', '127.0.0.1:0'],
  ['--media', '127.0.0.1:0'],
  ['--log-level', 'warn'],
];

/**
 * Starts `parley dev` with every address on 127.0.0.1 port 0 (a flag in `extraArgs` replaces
 * its default); resolves once it prints its ready line.
 */
/** The handler module that adds `parley-channel` (a channel Parley opens and closes), for `--handler-module`. */
export const PARLEY_CHANNEL_MODULE = fileURLToPath(new URL('./parley-channel-handler.ts', import.meta.url));

export async function startDev(extraArgs: string[] = [], timeoutMs = 30_000, env: NodeJS.ProcessEnv = {}): Promise<DevStack> {
  const defaults = DEV_DEFAULTS.filter(([flag]) => !extraArgs.includes(flag)).flat();
  const args = [BIN, 'dev', ...defaults, ...extraArgs];
  const child = spawn(process.execPath, args, {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, PARLEY_KEYS: '', ...env },
  });
  const lines: string[] = [];
  createInterface({ input: child.stderr! }).on('line', (l) => lines.push(l));
  const stop = (signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> => stopProcess(child, 8_000, signal);
  const ready = await new Promise<DevReady>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`parley dev not ready in ${timeoutMs} ms:\n${lines.join('\n')}`)), timeoutMs);
    createInterface({ input: child.stdout! }).on('line', (l) => {
      lines.push(l);
      const m = /^parley dev ready (\{.*\})$/.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve(JSON.parse(m[1]) as DevReady);
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`parley dev exited (${code}) before ready:\n${lines.join('\n')}`));
    });
  }).catch(async (err: unknown) => {
    await stop();
    throw err;
  });
  return { ready, pid: child.pid!, stop, log: () => lines.join('\n') };
}

/** `signal` (SIGTERM), then SIGKILL after `graceMs`; resolves with the exit code (null if killed by a signal). */
export function stopProcess(child: ChildProcess, graceMs = 8_000, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const kill = setTimeout(() => child.kill('SIGKILL'), graceMs);
    child.once('exit', (code) => {
      clearTimeout(kill);
      resolve(code);
    });
    child.kill(signal);
  });
}

export interface CallRun {
  readonly code: number | null;
  readonly summary: Record<string, unknown> & { ok: boolean; stats?: Record<string, unknown> };
  readonly stderr: string;
}

/** Runs `parley call URL … --json` to completion (bounded by `timeoutMs`). */
export function runCall(url: string, args: string[], timeoutMs = 60_000): Promise<CallRun> {
  const child = spawn(process.execPath, [BIN, 'call', url, '--json', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`parley call did not finish in ${timeoutMs} ms\n${err}`));
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      let summary: CallRun['summary'];
      try {
        summary = JSON.parse(out.trim().split('\n').pop() ?? '');
      } catch {
        // Usage errors (exit 2) print no summary; the caller checks code and stderr.
        summary = { ok: false, noJson: out };
      }
      resolve({ code, summary, stderr: err });
    });
  });
}

/** Sum of every sample of `name` (all label sets) in a Prometheus text page, filtered by a label substring. */
export async function metricSum(url: string, name: string, labelFilter = ''): Promise<number> {
  const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
  const text = await res.text();
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const m = /^([a-zA-Z_:][\w:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!m || m[1] !== name || !(m[2] ?? '').includes(labelFilter)) continue;
    sum += Number(m[3]);
  }
  return sum;
}

/**
 * The non-zero samples of the metrics whose names start with one of `prefixes`, one per line, for
 * a failure message: what the server saw of a call the client gave up on. Never throws.
 */
export async function metricLines(url: string, prefixes: readonly string[]): Promise<string> {
  try {
    const text = await (await fetch(url, { signal: AbortSignal.timeout(5_000) })).text();
    const lines = text.split('\n').filter((l) => prefixes.some((p) => l.startsWith(p)) && !/\s0$/.test(l) && !l.includes('_bucket{'));
    return lines.join('\n') || '(none non-zero)';
  } catch (err) {
    return `(${url}: ${(err as Error).message})`;
  }
}

/**
 * Whether a recording holds a tone at `hz`, judged on its audible 20 ms frames only: on a
 * loaded machine the client or server can stall, and the recording then has silent gaps
 * (lost time is placed as silence) that would otherwise dominate the analysis. Skips the first
 * 0.3 s of audio (codec start-up) and analyses at most 65536 samples.
 */
export function recordingHasTone(samples: Int16Array, hz: number): ToneCheck & { audibleFrames: number } {
  const frames: Int16Array[] = [];
  for (let off = 0; off + 960 <= samples.length; off += 960) {
    const f = samples.subarray(off, off + 960);
    if (rms(f) > 0.02) frames.push(f);
  }
  const use = frames.slice(15, 15 + Math.floor(65536 / 960));
  const joined = new Int16Array(use.length * 960);
  use.forEach((f, i) => joined.set(f, i * 960));
  return { ...hasTone(joined, hz, { minPurity: 0.3 }), audibleFrames: frames.length };
}

/** This machine's first non-loopback IPv4 address: for a relay that peers which gather no loopback candidate (Firefox, aiortc) can reach. */
export function nonLoopbackIPv4(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}
