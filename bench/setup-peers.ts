// What bench/setup.ts and bench/setup-wire.ts share (issue #18): the three servers a call's setup
// is measured against (`parley dev`, bench/aiortc-echo, bench/pion-echo), the browsers' front,
// and one call of each peer — its POST → connected in ms, or why it did not connect.
// Every server listens on this machine's non-loopback IPv4 address: Firefox, aiortc and libnice
// pair no 127.0.0.1 candidate.
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePorts } from '../src/client/free-port.ts';
import { INIT_SCRIPT, openDemo, waitForStats } from '../test/e2e/browser.ts';
import { launchFirefox } from '../test/e2e/firefox/firefox.ts';
import { REPORT_PATH, readBody, startPageServer } from '../test/e2e/firefox/page-server.ts';
import { buildGoProgram } from '../test/e2e/go-build.ts';
import { startDev, stopProcess } from '../test/e2e/helpers.ts';
import type { DevStack } from '../test/e2e/helpers.ts';
import { runJsonScript } from '../test/e2e/json-script.ts';
import { runPionClient } from '../test/e2e/pion/build.ts';
import { listenPageServer } from '../test/support/page-reports.ts';

export const PEERS = ['chromium', 'firefox', 'aiortc', 'pion', 'gstreamer'] as const;
export type Peer = (typeof PEERS)[number];
export const SERVERS = ['parley', 'aiortc', 'pion'] as const;
export type Server = (typeof SERVERS)[number];
export type OfferSetup = 'actpass' | 'active';
/** A call's POST → connected in ms, or why it did not connect. */
export type Outcome = number | string;

// Debian's interpreter: python3-aiortc and the GStreamer bindings live in its dist-packages.
const PYTHON = process.env.PARLEY_PYTHON ?? '/usr/bin/python3';
const AIORTC_CLIENT = fileURLToPath(new URL('../test/e2e/aiortc/client.py', import.meta.url));
const GSTREAMER_CALL = fileURLToPath(new URL('../test/e2e/gstreamer/call.py', import.meta.url));
const AIORTC_ECHO = fileURLToPath(new URL('./aiortc-echo/server.py', import.meta.url));
const PION_ECHO = fileURLToPath(new URL('./pion-echo/', import.meta.url));
export const CALLS_PATH = '/v1/realtime/calls';

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

export interface Servers {
  readonly dev: DevStack;
  /** Each server's offer URL. */
  readonly urls: Record<Server, string>;
  /** The UDP port of Parley's relay and of pion-echo (aiortc-echo's ports are per call, in its answers). */
  readonly udpPorts: Partial<Record<Server, number>>;
  readonly stop: () => Promise<void>;
}

/** `parley dev` (always: the browsers' demo page comes from it), pion-echo and aiortc-echo, on `hostIp`. */
export async function startServers(hostIp: string): Promise<Servers> {
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
      udpPorts: { parley: Number(dev.ready.relay.split(':').pop()), pion: udp },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

export interface Front {
  readonly url: string;
  /** Where the signaling path goes: set to the server under test's origin. */
  readonly target: { base: string };
  close(): Promise<void>;
}

/**
 * The browsers' origin: the demo page and its assets from `parley dev`, the signaling path (POST,
 * and the call's DELETE and GET) from the server under test (`target`, switched between servers).
 * Every server, Parley included, is reached through it, so its hop is in every sample alike.
 */
export async function startFront(devPage: string): Promise<Front> {
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

/** One call of a process-per-call peer (aiortc, Pion, GStreamer webrtcbin + libnice). */
export async function processCall(
  peer: 'aiortc' | 'pion' | 'gstreamer',
  url: string,
  pionClient: string | undefined,
  offerSetup: OfferSetup,
): Promise<Outcome> {
  if (peer === 'pion') {
    const r = await runPionClient(pionClient!, ['-url', url, '-seconds', '0.5', '-drain', '500ms', '-offer-setup', offerSetup], 30_000);
    return r.result?.connected ? r.result.connectMs : (r.result?.error ?? `exit ${r.code}: ${r.stderr.slice(-300)}`);
  }
  const args =
    peer === 'aiortc'
      ? [AIORTC_CLIENT, '--url', url, '--audio-only', '--seconds', '0.5', '--offer-setup', offerSetup]
      : [GSTREAMER_CALL, '--url', url, '--seconds', '0.3', '--timeout', '20', '--offer-setup', offerSetup];
  const r = await runJsonScript<{ connected: boolean; postToConnectedMs?: number; error?: string }>(PYTHON, args, 40_000);
  return r.result?.connected && r.result.postToConnectedMs !== undefined
    ? r.result.postToConnectedMs
    : (r.result?.error ?? `exit ${r.code}: ${r.out.slice(-300)}`);
}

/**
 * `calls` Chromium calls through the front (whose target is already set): the demo page, reloaded
 * per call (every call a new RTCPeerConnection with the demo's audio track and data channel); the
 * page's init script (test/e2e/browser.ts) timestamps its POST and the 'connected' event.
 */
export async function chromiumCalls(front: Front, calls: number, onCall: (call: number, outcome: Outcome) => void): Promise<void> {
  const session = await openDemo(front.url);
  try {
    for (let call = 0; call < calls; call++) {
      if (call > 0) await session.page.reload();
      await session.page.click('#call');
      const s = await waitForStats(session.page, (x) => x.postToConnectedMs !== null || x.connectionState === 'failed', 15_000);
      const why = async (): Promise<string> =>
        `not connected: ${s.connectionState} ${JSON.stringify(await session.page.evaluate('({ state: window.parley.state, error: window.parley.error, ice: window.parley.iceState, dtls: window.parley.dtlsState })'))}`;
      onCall(call, s.postToConnectedMs ?? (await why()));
      await session.page.click('#hangup');
    }
  } finally {
    await session.close();
  }
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

/** `calls` Firefox ESR calls through the front (whose target is already set), one Firefox for all. */
export async function firefoxCalls(
  front: Front,
  calls: number,
  label: string,
  onCall: (call: number, outcome: Outcome) => void,
): Promise<void> {
  const pages = await startPageServer(front.url, FIREFOX_PROBE);
  const firefox = await launchFirefox(pages.url);
  try {
    for (let call = 0; call < calls; call++) {
      const r = await pages.waitFor((x) => x.result !== undefined, 40_000, `Firefox call ${call} to ${label}`);
      const res = r.result as { postToConnectedMs: number | null; state: string; error: string | null };
      onCall(call, res.postToConnectedMs ?? `not connected: ${res.state} ${res.error ?? ''}`);
    }
  } finally {
    await firefox.close();
    await pages.close();
  }
}
