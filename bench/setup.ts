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
// - Chromium and Firefox: the demo page of `parley dev`, served through a front whose signaling
//   path goes to the server under test; the page's init script (test/e2e/browser.ts)
//   timestamps its POST and the 'connected' event. One browser per server, the page reloaded per
//   call (every call a new RTCPeerConnection with the demo's audio track and data channel).
// - aiortc (test/e2e/aiortc/client.py --audio-only), Pion (test/e2e/pion, its connectMs) and
//   GStreamer webrtcbin + libnice (test/e2e/gstreamer/call.py, postToConnectedMs): a process per
//   call, servers taking turns call by call.
// Every server listens on this machine's non-loopback IPv4 address: Firefox, aiortc and libnice
// pair no 127.0.0.1 candidate. Needs what the interop tests need (Chromium, Firefox ESR,
// python3-aiortc, GStreamer, golang-go with Debian's Pion sources); a missing peer is reported
// and left out. Everything it starts is stopped at the end. The servers, the front and one call
// of each peer are bench/setup-peers.ts (bench/setup-wire.ts drives the peers the same way).
import { parseArgs } from 'node:util';
import { loadavg } from 'node:os';
import { nonLoopbackIPv4 } from '../test/e2e/helpers.ts';
import { buildPionClient, runPionClient } from '../test/e2e/pion/build.ts';
import { PEERS, SERVERS, chromiumCalls, firefoxCalls, processCall, startFront, startServers } from './setup-peers.ts';
import type { Front, Outcome, Peer, Server, Servers } from './setup-peers.ts';

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

function record(cell: Cell, run: number, outcome: Outcome): void {
  if (run === 0) cell.warmUp = typeof outcome === 'number' ? outcome : undefined;
  else if (typeof outcome === 'number') cell.ms.push(outcome);
  else cell.failures.push(outcome);
  if (run === 0 && typeof outcome === 'string') cell.failures.push(`warm-up: ${outcome}`);
}

async function chromiumCells(stack: Servers, front: Front, cells: Record<Server, Cell>): Promise<void> {
  for (const server of SERVERS) {
    front.target.base = new URL(stack.urls[server]).origin;
    await chromiumCalls(front, RUNS + 1, (run, outcome) => record(cells[server], run, outcome));
  }
}

async function firefoxCells(stack: Servers, front: Front, cells: Record<Server, Cell>): Promise<void> {
  for (const server of SERVERS) {
    front.target.base = new URL(stack.urls[server]).origin;
    try {
      await firefoxCalls(front, RUNS + 1, server, (run, outcome) => record(cells[server], run, outcome));
    } catch (err) {
      cells[server].failures.push(String(err).slice(0, 300));
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
              record(cells[server], run, await processCall(peer, stack.urls[server], pionClient, OFFER_SETUP));
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
