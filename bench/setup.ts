// Call setup beside two reference servers (issue #18): every peer calls Parley (`parley dev`: the
// transceiver through the relay), an aiortc full-ICE echo server (bench/aiortc-echo) and a Pion
// ICE-lite echo server (bench/pion-echo), `--runs` times each after one warm-up call, and the
// setup times go out as a markdown table (median, n connected) with every sample; then the Pion
// client's load mode (-calls) runs `--load-calls` overlapping calls against Parley and against
// Pion's server in the same run. Not a test: it prints numbers and asserts nothing.
//
//   npm run bench:setup [-- --runs 5] [--peers chromium,firefox,aiortc,pion,gstreamer] [--load-calls 200]
//                       [--offer-setup actpass|active]
//
// Setup time is the same interval for one peer on every server: from the offer POST to the peer
// saying "connected" (ICE + DTLS done) —
// - Chromium and Firefox: the demo page of `parley dev`, served through a front (below) whose
//   signaling path goes to the server under test; the page's init script (test/e2e/browser.ts)
//   timestamps its POST and the 'connected' event. One browser per server, the page reloaded per
//   call (every call a new RTCPeerConnection with the demo's audio track and data channel).
// - aiortc (test/e2e/aiortc/client.py --audio-only), Pion (test/e2e/pion, its connectMs) and
//   GStreamer webrtcbin + libnice (test/e2e/gstreamer/call.py, postToConnectedMs): a process per
//   call, servers taking turns call by call.
// Every server listens on this machine's non-loopback IPv4 address: Firefox, aiortc and libnice
// pair no 127.0.0.1 candidate. Needs what the interop tests need (Chromium, Firefox ESR,
// python3-aiortc, GStreamer, golang-go with Debian's Pion sources); a missing peer is reported
// and left out. Everything it starts is stopped at the end.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { freePorts } from '../src/client/free-port.ts';
import { INIT_SCRIPT, openDemo, waitForStats } from '../test/e2e/browser.ts';
import { launchFirefox } from '../test/e2e/firefox/firefox.ts';
import { REPORT_PATH, readBody, startPageServer } from '../test/e2e/firefox/page-server.ts';
import { buildGoProgram } from '../test/e2e/go-build.ts';
import { nonLoopbackIPv4, startDev, stopProcess } from '../test/e2e/helpers.ts';
import type { DevStack } from '../test/e2e/helpers.ts';
import { runJsonScript } from '../test/e2e/json-script.ts';
import { buildPionClient, runPionClient } from '../test/e2e/pion/build.ts';
import { listenPageServer } from '../test/support/page-reports.ts';

const PEERS = ['chromium', 'firefox', 'aiortc', 'pion', 'gstreamer'] as const;
type Peer = (typeof PEERS)[number];
const SERVERS = ['parley', 'aiortc', 'pion'] as const;
type Server = (typeof SERVERS)[number];
const SERVER_TITLE: Record<Server, string> = {
  parley: 'Parley (relay + transceiver)',
  aiortc: 'aiortc server (full ICE)',
  pion: 'Pion server (ICE-lite)',
};

const { values } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    peers: { type: 'string', default: PEERS.join(',') },
    'load-calls': { type: 'string', default: '200' },
    'load-rate': { type: 'string', default: '50' },
    // What a=setup the process peers (aiortc, Pion, GStreamer) offer: with `active` Parley answers
    // passive and is the DTLS server (the role its cookie decision is in, issue #18); only Parley
    // is measured then (neither reference server takes such an offer).
    'offer-setup': { type: 'string', default: 'actpass' },
  },
});
const RUNS = Number(values.runs);
const peers = values.peers.split(',').filter((p): p is Peer => (PEERS as readonly string[]).includes(p));
const LOAD_CALLS = Number(values['load-calls']);
const LOAD_RATE = Number(values['load-rate']);
const OFFER_SETUP = values['offer-setup'] === 'active' ? 'active' : 'actpass';
// Debian's interpreter: python3-aiortc and the GStreamer bindings live in its dist-packages.
const PYTHON = process.env.PARLEY_PYTHON ?? '/usr/bin/python3';
const AIORTC_CLIENT = fileURLToPath(new URL('../test/e2e/aiortc/client.py', import.meta.url));
const GSTREAMER_CALL = fileURLToPath(new URL('../test/e2e/gstreamer/call.py', import.meta.url));
const AIORTC_ECHO = fileURLToPath(new URL('./aiortc-echo/server.py', import.meta.url));
const PION_ECHO = fileURLToPath(new URL('./pion-echo/', import.meta.url));
const CALLS_PATH = '/v1/realtime/calls';

/** One peer × server cell: the setup times of the calls that connected, and why the others did not. */
interface Cell {
  warmUp?: number;
  ms: number[];
  failures: string[];
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

/** What `uptime` prints: the time and the 1, 5 and 15 minute load averages. */
function loadAverage(): string {
  return `${new Date().toISOString().slice(11, 19)} UTC, load average ${loadavg()
    .map((x) => x.toFixed(2))
    .join(', ')}`;
}

/** Starts a reference server process and resolves with what it printed on the line `pattern` matches. */
function startReference(
  name: string,
  cmd: string,
  args: string[],
  pattern: RegExp,
): Promise<{ child: ChildProcess; match: RegExpExecArray }> {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${name} not ready in 20 s:\n${lines.join('\n')}`));
    }, 20_000);
    const onLine = (l: string): void => {
      lines.push(l);
      const m = pattern.exec(l);
      if (m) {
        clearTimeout(timer);
        resolve({ child, match: m });
      }
    };
    createInterface({ input: child.stdout! }).on('line', onLine);
    createInterface({ input: child.stderr! }).on('line', onLine);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) before ready:\n${lines.join('\n')}`));
    });
  });
}

/**
 * The browsers' origin: the demo page and its assets from `parley dev`, the signaling path (POST,
 * and the call's DELETE and GET) from the server under test (`target`, switched between servers).
 * Every server, Parley included, is reached through it, so its hop is in every sample alike.
 */
async function startFront(devPage: string): Promise<{ url: string; target: { base: string }; close(): Promise<void> }> {
  const target = { base: new URL(devPage).origin };
  const server = await listenPageServer(async (req, res) => {
    const path = req.url ?? '/';
    const upstream = path.startsWith(CALLS_PATH) ? target.base : new URL(devPage).origin;
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
    const headers: Record<string, string> = {};
    if (req.headers['content-type']) headers['content-type'] = String(req.headers['content-type']);
    const up = await fetch(new URL(path, upstream), { method: req.method, headers, body, signal: AbortSignal.timeout(15_000) });
    const out: Record<string, string> = { 'cache-control': 'no-store' };
    for (const h of ['content-type', 'location']) {
      const v = up.headers.get(h);
      if (v !== null) out[h] = v;
    }
    res.writeHead(up.status, out).end(Buffer.from(await up.arrayBuffer()));
  }, 502);
  return { url: server.url, target, close: () => server.close() };
}

// Firefox's page (served by test/e2e/firefox/page-server.ts): click Call, report POST →
// connected as soon as the init script has both timestamps (or a failure after 15 s), hang up,
// reload for the next call.
const FIREFOX_PROBE = `
const send = window.fetch.bind(window);
{
${INIT_SCRIPT}
}
window.addEventListener('load', () => {
  document.getElementById('call').click();
  const loaded = performance.now();
  const tick = async () => {
    const t = window.__parleyTest;
    const done = t.postAt !== null && t.connectedAt !== null;
    const p = window.parley;
    if (done || ['ended', 'error', 'failed'].includes(p.state) || performance.now() - loaded > 15000) {
      const result = { postToConnectedMs: done ? t.connectedAt - t.postAt : null, state: p.state, error: p.error || p.endedText || null };
      try {
        await send('${REPORT_PATH}', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ seq: 0, stats: { error: 'n/a' }, page: {}, result }) });
      } catch (err) {
        console.error(err);
      }
      document.getElementById('hangup').click();
      setTimeout(() => location.reload(), 300);
      return;
    }
    setTimeout(tick, 10);
  };
  tick();
});
`;

interface Stack {
  readonly dev: DevStack;
  readonly urls: Record<Server, string>;
  readonly stop: () => Promise<void>;
}

async function startServers(hostIp: string): Promise<Stack> {
  const stops: (() => Promise<unknown>)[] = [];
  const stop = async (): Promise<void> => {
    for (const s of stops.reverse()) await s().catch(() => undefined);
  };
  try {
    // One load client is one client to the transceiver's admission limits (issue #19: offers a
    // second, pending and live calls per client): lifted, as bench/calls.ts does.
    const dev = await startDev(['--relay', `${hostIp}:0`], 30_000, {
      PARLEY_OFFERS_PER_SECOND: '100000',
      PARLEY_OFFER_BURST: '100000',
      PARLEY_MAX_PENDING_PER_CLIENT: '100000',
      PARLEY_MAX_CALLS_PER_CLIENT: '100000',
    });
    stops.push(() => dev.stop());
    const pionBin = (await buildGoProgram(PION_ECHO, 600_000)).path;
    const [udp] = await freePorts([{ host: hostIp, kind: 'udp' }]);
    const pion = await startReference(
      'pion-echo',
      pionBin,
      ['-http', '127.0.0.1:0', '-ip', hostIp, '-udp', String(udp), '-max-seconds', '900'],
      /pion-echo: http (\S+),/,
    );
    stops.push(() => stopProcess(pion.child, 5_000));
    const aiortc = await startReference(
      'aiortc-echo',
      PYTHON,
      [AIORTC_ECHO, '--http', '127.0.0.1:0', '--max-seconds', '900'],
      /aiortc-echo: http (\S+)/,
    );
    stops.push(() => stopProcess(aiortc.child, 5_000));
    return {
      dev,
      urls: { parley: dev.ready.signaling, aiortc: `http://${aiortc.match[1]}${CALLS_PATH}`, pion: `http://${pion.match[1]}${CALLS_PATH}` },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** One call of a process-per-call peer: its POST → connected in ms, or why it failed. */
async function processCall(peer: 'aiortc' | 'pion' | 'gstreamer', url: string, pionClient: string | undefined): Promise<number | string> {
  if (peer === 'pion') {
    const r = await runPionClient(pionClient!, ['-url', url, '-seconds', '0.5', '-drain', '500ms', '-offer-setup', OFFER_SETUP], 30_000);
    return r.result?.connected ? r.result.connectMs : (r.result?.error ?? `exit ${r.code}: ${r.stderr.slice(-300)}`);
  }
  const args =
    peer === 'aiortc'
      ? [AIORTC_CLIENT, '--url', url, '--audio-only', '--seconds', '0.5', '--offer-setup', OFFER_SETUP]
      : [GSTREAMER_CALL, '--url', url, '--seconds', '0.3', '--timeout', '20', '--offer-setup', OFFER_SETUP];
  const r = await runJsonScript<{ connected: boolean; postToConnectedMs?: number; error?: string }>(PYTHON, args, 40_000);
  return r.result?.connected && r.result.postToConnectedMs !== undefined
    ? r.result.postToConnectedMs
    : (r.result?.error ?? `exit ${r.code}: ${r.out.slice(-300)}`);
}

function record(cell: Cell, run: number, outcome: number | string): void {
  if (run === 0) cell.warmUp = typeof outcome === 'number' ? outcome : undefined;
  else if (typeof outcome === 'number') cell.ms.push(outcome);
  else cell.failures.push(outcome);
  if (run === 0 && typeof outcome === 'string') cell.failures.push(`warm-up: ${outcome}`);
}

async function chromiumCells(stack: Stack, front: Awaited<ReturnType<typeof startFront>>, cells: Record<Server, Cell>): Promise<void> {
  for (const server of SERVERS) {
    front.target.base = new URL(stack.urls[server]).origin;
    const session = await openDemo(front.url);
    try {
      for (let run = 0; run <= RUNS; run++) {
        if (run > 0) await session.page.reload();
        await session.page.click('#call');
        const s = await waitForStats(session.page, (x) => x.postToConnectedMs !== null || x.connectionState === 'failed', 15_000);
        const why = async (): Promise<string> =>
          `not connected: ${s.connectionState} ${JSON.stringify(await session.page.evaluate('({ state: window.parley.state, error: window.parley.error, ice: window.parley.iceState, dtls: window.parley.dtlsState })'))}`;
        record(cells[server], run, s.postToConnectedMs ?? (await why()));
        await session.page.click('#hangup');
      }
    } finally {
      await session.close();
    }
  }
}

async function firefoxCells(stack: Stack, front: Awaited<ReturnType<typeof startFront>>, cells: Record<Server, Cell>): Promise<void> {
  for (const server of SERVERS) {
    front.target.base = new URL(stack.urls[server]).origin;
    const pages = await startPageServer(front.url, FIREFOX_PROBE);
    const firefox = await launchFirefox(pages.url);
    try {
      for (let run = 0; run <= RUNS; run++) {
        const r = await pages.waitFor((x) => x.result !== undefined, 40_000, `Firefox call ${run} to ${server}`);
        const res = r.result as { postToConnectedMs: number | null; state: string; error: string | null };
        record(cells[server], run, res.postToConnectedMs ?? `not connected: ${res.state} ${res.error ?? ''}`);
      }
    } catch (err) {
      cells[server].failures.push(String(err).slice(0, 300));
    } finally {
      await firefox.close();
      await pages.close();
    }
  }
}

function cellText(c: Cell): string {
  const n = c.ms.length + c.failures.filter((f) => !f.startsWith('warm-up')).length;
  if (c.ms.length === 0) return `0/${n}`;
  return `${c.ms.length}/${n}, ${median(c.ms).toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const hostIp = nonLoopbackIPv4();
  if (hostIp === undefined) throw new Error('no non-loopback IPv4 address: Firefox, aiortc and libnice pair no 127.0.0.1 candidate');
  console.log(
    `bench:setup — ${RUNS} runs per peer and server after one warm-up; peers ${peers.join(', ')} (process peers offer setup:${OFFER_SETUP}); load ${LOAD_CALLS} calls at ${LOAD_RATE}/s`,
  );
  console.log(`start: ${loadAverage()}`);
  const pionClient = peers.includes('pion') || LOAD_CALLS > 0 ? (await buildPionClient(600_000)).path : undefined;
  const stack = await startServers(hostIp);
  const front = await startFront(stack.dev.ready.page);
  const table = new Map<Peer, Record<Server, Cell>>();
  try {
    for (const peer of peers) {
      const cells = Object.fromEntries(SERVERS.map((s) => [s, { ms: [], failures: [] } as Cell])) as Record<Server, Cell>;
      table.set(peer, cells);
      try {
        if (peer === 'chromium') await chromiumCells(stack, front, cells);
        else if (peer === 'firefox') await firefoxCells(stack, front, cells);
        else
          for (let run = 0; run <= RUNS; run++)
            for (const server of SERVERS) {
              // aiortc 1.4 answers a setup:active offer 400, and pion-echo's calls never connect (10–20 s each).
              if (OFFER_SETUP === 'active' && server !== 'parley') {
                if (run === 0) cells[server].failures.push('not asked: it does not take a setup:active offer');
                continue;
              }
              record(cells[server], run, await processCall(peer, stack.urls[server], pionClient));
            }
      } catch (err) {
        for (const s of SERVERS) cells[s].failures.push(`${peer}: ${String(err).slice(0, 300)}`);
      }
      console.log(`${peer} done: ${loadAverage()}`);
    }

    console.log('\nPOST → connected (ICE + DTLS), median of the connected calls, warm-up call left out:\n');
    console.log(`| peer | ${SERVERS.map((s) => SERVER_TITLE[s]).join(' | ')} | Parley ÷ faster reference |`);
    console.log(`|---|${SERVERS.map(() => '---').join('|')}|---|`);
    for (const [peer, cells] of table) {
      const ref = Math.min(
        median(cells.aiortc.ms.length ? cells.aiortc.ms : [Infinity]),
        median(cells.pion.ms.length ? cells.pion.ms : [Infinity]),
      );
      const ratio = cells.parley.ms.length && Number.isFinite(ref) ? (median(cells.parley.ms) / ref).toFixed(2) : '—';
      console.log(`| ${peer} | ${SERVERS.map((s) => cellText(cells[s])).join(' | ')} | ${ratio} |`);
    }
    console.log('\nEvery sample (ms; w = the warm-up call):');
    for (const [peer, cells] of table)
      for (const s of SERVERS) {
        const c = cells[s];
        console.log(
          `  ${peer.padEnd(9)} → ${s.padEnd(6)}: w ${c.warmUp?.toFixed(1) ?? '—'} | ${c.ms.map((x) => x.toFixed(1)).join(' ')}${c.failures.length ? `  failures: ${c.failures.join(' ; ')}` : ''}`,
        );
      }

    if (LOAD_CALLS > 0) {
      console.log(`\nPion client load mode: ${LOAD_CALLS} calls started ${LOAD_RATE}/s, 3 s of audio each (all overlapping), same run:`);
      console.log('| server | connected | setup p50 | p95 | max | echoed packets |');
      console.log('|---|---|---|---|---|---|');
      const p50: Partial<Record<Server, number>> = {};
      for (const server of ['parley', 'pion'] as const) {
        const r = await runPionLoad(pionClient!, stack.urls[server]);
        if (typeof r === 'string') {
          console.log(`| ${server} | failed: ${r} | | | | |`);
          continue;
        }
        p50[server] = r.setupP50;
        console.log(
          `| ${SERVER_TITLE[server]} | ${r.connected}/${r.calls}${r.failed ? ` (${JSON.stringify(r.errors)})` : ''} | ${r.setupP50.toFixed(1)} ms | ${r.setupP95.toFixed(1)} ms | ${r.setupMax.toFixed(1)} ms | ${r.packetsReceived}/${r.packetsSent} |`,
        );
        console.log(`  after ${server}: ${loadAverage()}`);
      }
      if (p50.parley !== undefined && p50.pion !== undefined) console.log(`Parley ÷ Pion setup p50: ${(p50.parley / p50.pion).toFixed(2)}`);
    }
  } finally {
    await front.close();
    await stack.stop();
  }
  console.log(`\nend: ${loadAverage()}`);
}

interface LoadResult {
  calls: number;
  connected: number;
  failed: number;
  errors?: Record<string, number>;
  setupP50: number;
  setupP95: number;
  setupMax: number;
  packetsSent: number;
  packetsReceived: number;
}

async function runPionLoad(client: string, url: string): Promise<LoadResult | string> {
  const r = await runPionClient(client, ['-url', url, '-calls', String(LOAD_CALLS), '-rate', String(LOAD_RATE), '-seconds', '3'], 120_000);
  const out = r.result as unknown as LoadResult | undefined;
  return out && typeof out.calls === 'number' ? out : `exit ${r.code}: ${r.stderr.slice(-300)}`;
}

await main();
