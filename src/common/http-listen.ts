// Starting and stopping an HTTP server the way every Parley process does: listen on one address
// (a bind error rejects, e.g. EADDRINUSE), log later server errors, and close without waiting
// for kept-alive connections (browsers, load balancers and scrapers hold them open).
// Not here: routing or what a server answers (ops-http.ts, transceiver signaling).
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TransportAddress } from '../core/address.ts';
import type { Logger } from './log.ts';
import { DEFAULT_MAX_CONNECTIONS } from './http-limits.ts';

export interface ListeningHttp {
  /** The address actually bound (port 0 → the chosen port). */
  readonly address: TransportAddress;
  /** Stops accepting, drops open connections; idempotent. */
  close(): Promise<void>;
}

/** Listens on host:port; later server errors are logged as `${name} http error`. */
export async function listenHttp(
  server: Server,
  host: string,
  port: number,
  name: string,
  log?: Logger,
  limits: { readonly maxConnections?: number } = {},
): Promise<ListeningHttp> {
  // Beyond the cap Node closes each new connection at once (common/http-limits.ts).
  server.maxConnections = limits.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', (err) => log?.error(`${name} http error`, { err }));
  const a = server.address() as AddressInfo;
  let closing: Promise<void> | undefined;
  return {
    address: { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' },
    close(): Promise<void> {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
