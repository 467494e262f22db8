// Picks free local ports for `parley dev` (which must tell the transceiver the relay's port
// before either child starts) and for tests that must not depend on 8080/3478 being free.
// Every requested port is bound (port 0) at the same time and only then released, so one call
// never hands out the same port twice. Another process can still take a port between release
// and the child's bind; callers retry on that (parley dev restarts with fresh ports).
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { createServer } from 'node:net';
import type { Server } from 'node:net';

export interface PortRequest {
  readonly host: string;
  readonly kind: 'udp' | 'tcp';
}

function holdUdp(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind({ address: host, port: 0 }, () => resolve(s));
  });
}

function holdTcp(host: string): Promise<Server> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => resolve(srv));
  });
}

/** One free port per request, in order, all distinct per kind. */
export async function freePorts(requests: readonly PortRequest[]): Promise<number[]> {
  const held: (Socket | Server)[] = [];
  try {
    const ports: number[] = [];
    for (const r of requests) {
      if (r.kind === 'udp') {
        const s = await holdUdp(r.host);
        held.push(s);
        ports.push(s.address().port);
      } else {
        const srv = await holdTcp(r.host);
        held.push(srv);
        const a = srv.address();
        ports.push(typeof a === 'object' && a ? a.port : 0);
      }
    }
    return ports;
  } finally {
    await Promise.all(held.map((h) => new Promise<void>((res) => ('send' in h ? h.close(() => res()) : h.close(() => res())))));
  }
}

/** One free UDP port on `host` (also used by other test suites). */
export async function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts([{ host, kind: 'udp' }]))[0];
}

/** One free TCP port on `host` (also used by other test suites). */
export async function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return (await freePorts([{ host, kind: 'tcp' }]))[0];
}
