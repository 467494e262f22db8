// The operations HTTP endpoint every Parley process serves: GET /metrics (Prometheus text),
// /healthz (the process is alive: 200 unless `healthy()` says otherwise) and /readyz (200 only
// when `ready()` is true, else 503; `readyDetails()` lines follow as `warning: …`). Nothing else:
// no signaling; the one action is an optional
// POST its owner defines (`post`: a relay without a shared store takes token revocations there).
//
// API (stable; relay and transceiver use it):
//   const ops = await startOpsHttp({ host, port, metrics: registry, ready: () => bool, healthy?, log? });
//   ops.address  → TransportAddress actually bound (port 0 → the chosen port)
//   await ops.close()   idempotent
// serveOps() answers the same three paths on a server of its own (the transceiver's signaling port).
import { HARDENED_HTTP_OPTIONS } from './http-limits.ts';
import { KeyedTokenBuckets } from '../core/rate-limit.ts';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders, IncomingMessage, Server, ServerResponse } from 'node:http';
import { listenHttp } from './http-listen.ts';
import type { ListeningHttp } from './http-listen.ts';
import type { Logger } from './log.ts';
import type { MetricsRegistry } from './metrics.ts';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.ts';

export interface OpsEndpoints {
  readonly metrics: MetricsRegistry;
  readonly ready: () => boolean;
  readonly healthy?: () => boolean;
  /**
   * Degraded but still serving (issue #20: Redis unreachable or lost): one line each, appended to
   * the /readyz body whatever its status, so an operator sees why without reading logs.
   */
  readonly readyDetails?: () => readonly string[];
}

export interface OpsHttpOptions extends OpsEndpoints {
  readonly host: string;
  readonly port: number;
  readonly log?: Logger;
  /**
   * One POST path: its body (at most maxBytes, else 413 unread) and headers → the status to
   * answer. At most `perIp` requests per second from one address (a token bucket; 429 past it,
   * unread); `refused` hears each 413 and 429.
   */
  readonly post?: {
    readonly path: string;
    readonly maxBytes: number;
    readonly perIp: { readonly ratePerSecond: number; readonly burst: number };
    readonly handle: (body: string, headers: IncomingHttpHeaders) => number;
    readonly refused?: (status: 413 | 429) => void;
  };
}

export const OPS_PATHS = ['/metrics', '/healthz', '/readyz'] as const;
export type OpsPath = (typeof OPS_PATHS)[number];

export function isOpsPath(path: string): path is OpsPath {
  return (OPS_PATHS as readonly string[]).includes(path);
}

/** Answers GET/HEAD of one of OPS_PATHS (the caller checked the method). */
export function serveOps(o: OpsEndpoints, path: OpsPath, req: IncomingMessage, res: ServerResponse): void {
  let status = 200;
  let type = 'text/plain; charset=utf-8';
  let body: string;
  if (path === '/metrics') {
    type = PROMETHEUS_CONTENT_TYPE;
    body = o.metrics.render();
  } else if (path === '/healthz') {
    const ok = o.healthy ? o.healthy() : true;
    status = ok ? 200 : 503;
    body = ok ? 'ok\n' : 'unhealthy\n';
  } else {
    const ok = o.ready();
    status = ok ? 200 : 503;
    body = (ok ? 'ready\n' : 'not ready\n') + (o.readyDetails?.() ?? []).map((d) => `warning: ${d}\n`).join('');
  }
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(req.method === 'HEAD' ? undefined : body);
}

export type OpsHttp = ListeningHttp;

/** Addresses whose POST rate is tracked at once (the oldest is forgotten past it: core/rate-limit.ts). */
const MAX_POST_SOURCES = 4096;

function handlePost(post: NonNullable<OpsHttpOptions['post']>, limit: KeyedTokenBuckets, req: IncomingMessage, res: ServerResponse): void {
  const refuse = (status: 413 | 429): void => {
    post.refused?.(status);
    res.writeHead(status, { connection: 'close', ...(status === 429 ? { 'retry-after': '1' } : {}) }).end();
    req.destroy();
  };
  if (!limit.take(req.socket.remoteAddress ?? '', performance.now())) return refuse(429);
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (!(declared <= post.maxBytes)) return refuse(413);
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size <= post.maxBytes) chunks.push(c);
  });
  req.on('end', () => {
    if (size > post.maxBytes) post.refused?.(413);
    const status = size > post.maxBytes ? 413 : post.handle(Buffer.concat(chunks).toString('utf8'), req.headers);
    res.writeHead(status, { 'cache-control': 'no-store' }).end();
  });
  req.on('error', () => res.destroy());
}

export async function startOpsHttp(o: OpsHttpOptions): Promise<OpsHttp> {
  const post = o.post;
  const limit = post && new KeyedTokenBuckets({ ...post.perIp, maxKeys: MAX_POST_SOURCES });
  const server: Server = createServer(HARDENED_HTTP_OPTIONS, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (post && limit && req.method === 'POST' && path === post.path) return void handlePost(post, limit, req, res);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (isOpsPath(path)) serveOps(o, path, req, res);
    else res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }).end('not found\n');
  });
  // Scrapers keep connections open; do not let them hold the process on close.
  server.keepAliveTimeout = 5000;
  return listenHttp(server, o.host, o.port, 'ops', o.log);
}
