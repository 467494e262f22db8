// The test's own HTTP server for driving a browser without a driver library: it serves the
// demo page of `parley dev` (every request is passed through to the dev origin, the signaling
// POST and DELETE included), with one <script> added to index.html that (1) keeps a handle on
// the page's RTCPeerConnection (browser.ts INIT_SCRIPT, the same the Chromium test injects),
// (2) clicks Call, and (3) POSTs getStats() (browser.ts PEER_STATS_SCRIPT) and window.parley
// back here every 200 ms. The answer to each report carries the test's commands (hang up, dump
// the raw stats), so the test drives the page with no WebDriver. It runs on 127.0.0.1 and the
// browser opens it as http://localhost (a secure context, so getUserMedia works).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INIT_SCRIPT, PEER_STATS_SCRIPT } from '../browser.ts';
import type { PeerStats } from '../browser.ts';
import { PageReports, listenPageServer } from '../../support/page-reports.ts';

const PREFIX = '/__parley-test/';

/** What the page sends in every report. */
export interface PageReport {
  readonly seq: number;
  readonly stats: PeerStats | { readonly error: string };
  readonly page: {
    readonly state: string;
    readonly error: string | null;
    readonly location: string | null;
    readonly remoteAddress: string | null;
  };
  /** Every getStats() record, while the test asks for them with `dump`. */
  readonly raw?: Record<string, unknown>[];
  /** What a test's own probe (`probe` of startPageServer) reports. */
  readonly result?: unknown;
}

export interface PageCommands {
  hangup?: boolean;
  dump?: boolean;
}

export interface PageServer {
  /** The demo page, through this server, as http://localhost:PORT/. */
  readonly url: string;
  /** Commands sent with the answer to the page's next report. */
  readonly commands: PageCommands;
  /** The latest report, if any. */
  last(): PageReport | undefined;
  /** Resolves with the first report (from now on) that `ok` accepts; rejects after `timeoutMs` with the last one seen. */
  waitFor(ok: (r: PageReport) => boolean, timeoutMs: number, what: string): Promise<PageReport>;
  close(): Promise<void>;
}

// Plain JS served to the page. INIT_SCRIPT sits in a block so its top-level names stay private;
// reports go out with the fetch saved before it wraps fetch (it timestamps the first POST).
const PROBE = `
const send = window.fetch.bind(window);
{
${INIT_SCRIPT}
}
window.addEventListener('load', () => {
  document.getElementById('call').click();
  let seq = 0;
  let cmd = {};
  let hungUp = false;
  const tick = async () => {
    const p = window.parley;
    const body = { seq: seq++, page: { state: p.state, error: p.error, location: p.location, remoteAddress: p.remoteAddress } };
    try {
      body.stats = await ${PEER_STATS_SCRIPT};
      const t = window.__parleyTest;
      const pc = t.pcs[t.pcs.length - 1];
      if (cmd.dump && pc) {
        body.raw = [];
        (await pc.getStats()).forEach((r) => body.raw.push(r));
      }
    } catch (err) {
      body.stats = { error: String(err) };
    }
    try {
      const res = await send('${PREFIX}report', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      cmd = await res.json();
    } catch (err) {
      console.error('parley test: report failed', err);
    }
    if (cmd.hangup && !hungUp) {
      hungUp = true;
      document.getElementById('hangup').click();
    }
    setTimeout(tick, 200);
  };
  tick();
});
`;

/** Where a test's own probe POSTs its reports (JSON, a PageReport), as the default probe does. */
export const REPORT_PATH = `${PREFIX}report`;

/**
 * Starts the server in front of the demo page at `devPage` (parley dev's ready.page). `probe`
 * replaces the script added to the page (the default clicks Call and reports stats). `host`:
 * where it listens (default 127.0.0.1, opened as localhost).
 */
export async function startPageServer(devPage: string, probe: string = PROBE, host = '127.0.0.1'): Promise<PageServer> {
  const upstream = new URL(devPage);
  const commands: PageCommands = {};
  const reports = new PageReports<PageReport>();

  const onReport = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const report = JSON.parse((await readBody(req)).toString()) as PageReport;
    reports.push(report);
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(commands));
  };

  const passThrough = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const body = req.method === 'GET' || req.method === 'HEAD' ? undefined : await readBody(req);
    const headers: Record<string, string> = {};
    for (const h of ['content-type', 'authorization']) if (req.headers[h]) headers[h] = String(req.headers[h]);
    const up = await fetch(new URL(req.url ?? '/', upstream), { method: req.method, headers, body, signal: AbortSignal.timeout(10_000) });
    let data = Buffer.from(await up.arrayBuffer());
    const type = up.headers.get('content-type') ?? '';
    if (type.startsWith('text/html'))
      data = Buffer.from(data.toString().replace('<head>', `<head>\n  <script src="${PREFIX}probe.js"></script>`));
    const out: Record<string, string> = { 'cache-control': 'no-store' };
    for (const h of ['content-type', 'location']) {
      const v = up.headers.get(h);
      if (v !== null) out[h] = v;
    }
    res.writeHead(up.status, out).end(data);
  };

  const server = await listenPageServer(
    async (req, res) => {
      const path = (req.url ?? '/').split('?')[0];
      if (path === `${PREFIX}probe.js`) {
        res.writeHead(200, { 'content-type': 'text/javascript; charset=utf-8', 'cache-control': 'no-store' }).end(probe);
        return;
      }
      await (path === `${PREFIX}report` && req.method === 'POST' ? onReport(req, res) : passThrough(req, res));
    },
    502,
    host,
  );
  return {
    url: server.url,
    commands,
    last: () => reports.last,
    waitFor: (ok, timeoutMs, what) => reports.waitFor(ok, timeoutMs, what),
    close: () => server.close(),
  };
}

/** A request's whole body (test pages post small JSON reports). */
export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}
