// The Agents SDK test page's own origin: a tiny HTTP server on 127.0.0.1, opened by the browser
// as http://localhost:PORT (a secure context for getUserMedia, and another origin than Parley's
// http://127.0.0.1:PORT, so the SDK's POST goes through a real CORS preflight). It serves
// index.html, page.js bundled with `@openai/agents-realtime` by esbuild (the SDK's published
// ESM, browser conditions, unchanged), /config (Parley's calls URL and the `ek_` secret), and
// takes the page's reports on /report, answering each with the test's commands.
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { build, stop } from 'esbuild';
import { readBody } from '../firefox/page-server.ts';
import { PageReports, listenPageServer } from '../../support/page-reports.ts';

const HERE = fileURLToPath(new URL('./', import.meta.url));

/** What page.js reports (its `state`). */
export interface SdkPageReport {
  readonly phase: 'loading' | 'connecting' | 'connected' | 'heard' | 'interrupted' | 'closed' | 'error';
  readonly error: string | null;
  readonly connectMs: number | null;
  readonly callId: string | null;
  readonly events: string[];
  readonly eventCount: number;
  readonly transcripts: { readonly type: string; readonly text: string }[];
  readonly pair: { readonly address: string; readonly port: number; readonly type: string } | null;
  readonly heard: { readonly rms: number; readonly frequency: number; readonly sampleRate: number } | null;
  /** One per round: the model's tone heard, interrupt(), silence. */
  readonly interrupts: {
    readonly rmsBefore: number;
    /** Date.now() at interrupt(). */
    readonly wallAt: number;
    readonly silentAfterMs: number;
    readonly loudestAfterMs300: number;
    readonly trace: Record<string, number>[];
  }[];
  readonly closedAt: number | null;
}

export interface SdkPageConfig {
  /** Parley's calls URL: the SDK's `baseUrl`. */
  readonly baseUrl: string;
  /** The `ek_` client secret. */
  readonly apiKey: string;
  readonly instructions: string;
}

export interface SdkPageCommands {
  /** session.close() */
  close?: boolean;
  /** Stop reporting once closed. */
  done?: boolean;
}

export interface SdkPageServer {
  /** http://localhost:PORT/ */
  readonly url: string;
  readonly commands: SdkPageCommands;
  last(): SdkPageReport | undefined;
  /** The first report (from now on) that `ok` accepts; rejects after `timeoutMs`, or at once when the page reports an error. */
  waitFor(ok: (r: SdkPageReport) => boolean, timeoutMs: number, what: string): Promise<SdkPageReport>;
  close(): Promise<void>;
}

let bundled: Promise<string> | undefined;

/** page.js with the Agents SDK bundled in, as one classic script (built once per process). */
export function bundlePage(): Promise<string> {
  bundled ??= build({
    entryPoints: [`${HERE}page.js`],
    bundle: true,
    write: false,
    format: 'iife',
    platform: 'browser',
    target: 'es2022',
    logLevel: 'silent',
  }).then(async (r) => {
    // esbuild's service process would outlive the test otherwise.
    await stop();
    return r.outputFiles[0].text;
  });
  return bundled;
}

export async function startSdkPage(config: SdkPageConfig): Promise<SdkPageServer> {
  const script = await bundlePage();
  const html = await readFile(`${HERE}index.html`);
  const commands: SdkPageCommands = {};
  const reports = new PageReports<SdkPageReport>((r) => (r.phase === 'error' ? String(r.error) : undefined));

  const serve = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const path = (req.url ?? '/').split('?')[0];
    const reply = (type: string, body: string | Buffer): void => {
      res.writeHead(200, { 'content-type': type, 'cache-control': 'no-store' }).end(body);
    };
    if (req.method === 'POST' && path === '/report') {
      const report = JSON.parse((await readBody(req)).toString()) as SdkPageReport;
      reports.push(report);
      return reply('application/json', JSON.stringify(commands));
    }
    if (path === '/') return reply('text/html; charset=utf-8', html);
    if (path === '/page.js') return reply('text/javascript; charset=utf-8', script);
    if (path === '/config') return reply('application/json', JSON.stringify(config));
    res.writeHead(404).end();
  };
  const server = await listenPageServer(serve, 500);
  return {
    url: server.url,
    commands,
    last: () => reports.last,
    waitFor: (ok, timeoutMs, what) => reports.waitFor(ok, timeoutMs, what),
    close: () => server.close(),
  };
}
