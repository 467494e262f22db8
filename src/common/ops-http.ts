// The operations HTTP endpoint every Parley process serves: GET /metrics (Prometheus text),
// /healthz (the process is alive: 200 unless `healthy()` says otherwise) and /readyz (200 only
// when `ready()` is true, else 503). Nothing else: no signaling, no admin actions.
//
// API (stable; relay and transceiver use it):
//   const ops = await startOpsHttp({ host, port, metrics: registry, ready: () => bool, healthy?, log? });
//   ops.address  → TransportAddress actually bound (port 0 → the chosen port)
//   await ops.close()   idempotent
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TransportAddress } from '../core/address.ts';
import type { Logger } from './log.ts';
import type { MetricsRegistry } from './metrics.ts';
import { PROMETHEUS_CONTENT_TYPE } from './metrics.ts';

export interface OpsHttpOptions {
  readonly host: string;
  readonly port: number;
  readonly metrics: MetricsRegistry;
  readonly ready: () => boolean;
  readonly healthy?: () => boolean;
  readonly log?: Logger;
}

export interface OpsHttp {
  readonly address: TransportAddress;
  close(): Promise<void>;
}

export async function startOpsHttp(o: OpsHttpOptions): Promise<OpsHttp> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
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
    } else if (path === '/readyz') {
      const ok = o.ready();
      status = ok ? 200 : 503;
      body = ok ? 'ready\n' : 'not ready\n';
    } else {
      status = 404;
      body = 'not found\n';
    }
    res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
    res.end(req.method === 'HEAD' ? undefined : body);
  });
  // Scrapers keep connections open; do not let them hold the process on close.
  server.keepAliveTimeout = 5000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port, o.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => o.log?.error('ops http error', { err }));
  const a = server.address() as AddressInfo;
  const address: TransportAddress = { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
  let closing: Promise<void> | undefined;
  return {
    address,
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
