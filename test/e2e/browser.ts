// Drives Debian's Chromium through playwright-core for the browser end-to-end test and
// bench/browser-connect.ts: a fake microphone playing a 440 Hz WAV we generate, the demo page,
// and an init script that keeps a handle on the page's RTCPeerConnection (the demo does not
// expose it) and timestamps the signaling POST and the 'connected' state, so the test can read
// getStats() itself and the bench can measure POST → connected. Nothing here changes web/.
import { access, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { encodeWav } from '../../src/media/wav.ts';
import { generateTone } from '../../src/media/tone.ts';

export const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';

/** True when the Chromium binary exists; in CI its absence is a failure, not a skip. */
export async function chromiumAvailable(): Promise<boolean> {
  try {
    await access(CHROMIUM);
    return true;
  } catch {
    return false;
  }
}

/** A test's skip reason: false when Chromium is installed; with CI=true a missing Chromium is an error. */
export async function chromiumSkip(): Promise<false | string> {
  const available = await chromiumAvailable();
  if (!available && process.env.CI === 'true')
    throw new Error(`CI=true and Chromium is missing at ${CHROMIUM}: the browser test must run in CI`);
  return available ? false : `Chromium not found at ${CHROMIUM} (set PARLEY_CHROMIUM)`;
}

export interface BrowserSession {
  readonly browser: Browser;
  readonly page: Page;
  close(): Promise<void>;
}

// Runs in the page before its own scripts. Plain JS: it is serialised into the page (the
// Firefox test serves it in a <script> of its own).
export const INIT_SCRIPT = `
  window.__parleyTest = { pcs: [], postAt: null, connectedAt: null };
  const Native = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends Native {
    constructor(...args) {
      super(...args);
      window.__parleyTest.pcs.push(this);
      this.addEventListener('connectionstatechange', () => {
        if (this.connectionState === 'connected' && window.__parleyTest.connectedAt === null) window.__parleyTest.connectedAt = performance.now();
      });
    }
  };
  const nativeFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    if (init && init.method === 'POST' && window.__parleyTest.postAt === null) window.__parleyTest.postAt = performance.now();
    return nativeFetch(input, init);
  };
`;

export interface ChromiumOptions {
  /** More command-line switches. */
  readonly args?: readonly string[];
  /** Runs Chromium under this command line (e.g. netns.ts `wrap`: inside a network namespace). */
  readonly wrap?: (argv: readonly string[]) => string[];
}

/**
 * Launches Chromium with a fake microphone playing `toneHz` (a 10 s WAV Chromium loops) and opens
 * `pageUrl`, with `initScript` run before the page's own scripts (none when null).
 */
export async function openDemo(
  pageUrl: string,
  toneHz = 440,
  initScript: string | null = INIT_SCRIPT,
  o: ChromiumOptions = {},
): Promise<BrowserSession> {
  const dir = await mkdtemp(join(tmpdir(), 'parley-browser-'));
  const wav = join(dir, `tone-${toneHz}.wav`);
  await writeFile(wav, encodeWav({ sampleRate: 48000, channels: 1, samples: generateTone(10_000, { frequency: toneHz, amplitude: 0.5 }) }));
  // playwright-core starts one executable: a wrapped Chromium is a shell script that execs the wrapper.
  let executablePath = CHROMIUM;
  if (o.wrap) {
    executablePath = join(dir, 'chromium');
    const argv = o.wrap([CHROMIUM]).map((a) => `'${a.replaceAll("'", "'\\''")}'`);
    await writeFile(executablePath, `#!/bin/sh\nexec ${argv.join(' ')} "$@"\n`, { mode: 0o755 });
  }
  const browser = await chromium.launch({
    executablePath,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--use-fake-device-for-media-stream',
      '--use-fake-ui-for-media-stream',
      // No --allow-loopback-in-peer-connection: Chromium pairs its host candidate on eth0 with
      // the relay's 127.0.0.1 candidate and Linux routes that (checked: local 192.0.2.2 host →
      // remote 127.0.0.1 connects), which is closer to what a real browser does.
      `--use-file-for-fake-audio-capture=${wav}`,
      // Headless Chromium may not play audio out, but WebRTC decoding and stats do not need it.
      '--autoplay-policy=no-user-gesture-required',
      ...(o.args ?? []),
    ],
  });
  try {
    const context = await browser.newContext();
    if (initScript !== null) await context.addInitScript(initScript);
    const page = await context.newPage();
    await page.goto(pageUrl);
    return {
      browser,
      page,
      close: async () => {
        await browser.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await browser.close();
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}

export interface PeerStats {
  readonly connectionState: string;
  readonly remoteAddress: string | null;
  readonly remotePort: number | null;
  /** The selected pair's transport: 'udp' or 'tcp' (the remote candidate's protocol). */
  readonly protocol: string | null;
  readonly packetsReceived: number;
  readonly totalAudioEnergy: number;
  readonly audioLevel: number;
  readonly packetsSent: number;
  readonly postToConnectedMs: number | null;
}

// Serialised into the page (the project compiles without DOM types, so it is plain JS text).
// An expression (a promise of the PeerStats), so the Firefox test can embed it in its page.
// Chromium and Firefox (153 ESR) both name the selected pair in their transport stats.
export const PEER_STATS_SCRIPT = `(async () => {
  const t = window.__parleyTest;
  const pc = t.pcs[t.pcs.length - 1];
  const out = {
    connectionState: pc ? pc.connectionState : 'none', remoteAddress: null, remotePort: null, protocol: null,
    packetsReceived: 0, totalAudioEnergy: 0, audioLevel: 0, packetsSent: 0,
    postToConnectedMs: t.postAt !== null && t.connectedAt !== null ? t.connectedAt - t.postAt : null,
  };
  if (!pc || pc.connectionState === 'closed') return out;
  const report = await pc.getStats();
  let pairId;
  report.forEach((r) => {
    if (r.type === 'transport' && r.selectedCandidatePairId) pairId = r.selectedCandidatePairId;
    if (r.type === 'inbound-rtp' && r.kind === 'audio') {
      out.packetsReceived = r.packetsReceived || 0;
      out.totalAudioEnergy = r.totalAudioEnergy || 0;
      out.audioLevel = r.audioLevel || 0;
    }
    if (r.type === 'outbound-rtp' && r.kind === 'audio') out.packetsSent = r.packetsSent || 0;
  });
  const pair = pairId ? report.get(pairId) : undefined;
  const remote = pair ? report.get(pair.remoteCandidateId) : undefined;
  if (remote) {
    out.remoteAddress = remote.address || remote.ip || null;
    out.remotePort = remote.port || null;
    out.protocol = remote.protocol || null;
  }
  return out;
})()`;

/** getStats() of the page's latest RTCPeerConnection, reduced to what the tests check. */
export async function peerStats(page: Page): Promise<PeerStats> {
  return (await page.evaluate(PEER_STATS_SCRIPT)) as PeerStats;
}

/** Polls `peerStats` until `ok` holds or `timeoutMs` passes; returns the last sample. */
export async function waitForStats(page: Page, ok: (s: PeerStats) => boolean, timeoutMs: number): Promise<PeerStats> {
  const deadline = Date.now() + timeoutMs;
  let s = await peerStats(page);
  while (!ok(s) && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 100));
    s = await peerStats(page);
  }
  return s;
}
