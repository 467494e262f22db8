// Picks free local ports by binding port 0 and releasing it: for `parley dev` (which must tell
// the transceiver the relay's port before either child starts) and for tests that must not
// depend on 8080/3478 being free. There is a small window in which another process could take
// the port; on 127.0.0.1 in a test run that is acceptable, and a clash fails loudly at bind.
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';

export function freeUdpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    s.once('error', reject);
    s.bind({ address: host, port: 0 }, () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

export function freeTcpPort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen({ host, port: 0, exclusive: true }, () => {
      const a = srv.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}
