// The UDP transport of a client call (./call-transport.ts): one socket per call, bound on the
// local host at port 0. Sends skip dgram's per-send DNS lookup (every destination is a literal
// IP from the answer). rebind() opens a new socket and closes the old one; a datagram still
// queued on the old one is dropped, as a NAT would. UdpCallDriver is the call driver on it.
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import type { TransportAddress } from '../core/address.ts';
import type { Clock } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CallDriver } from './call-driver.ts';
import type { CallTransport, CallTransportFactory, TransportSink } from './call-transport.ts';

export type { CallBinding } from './call-driver.ts';

/** Every destination is a literal IP (the answer's candidates): skip dgram's per-send DNS lookup. */
function literalLookup(host: string, _opts: unknown, cb: (err: Error | null, address: string, family: number) => void): void {
  cb(null, host, host.includes(':') ? 6 : 4);
}

function bindSocket(host: string): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4', lookup: literalLookup as never });
    s.once('error', reject);
    s.bind({ address: host, port: 0 }, () => {
      s.off('error', reject);
      resolve(s);
    });
  });
}

function socketAddress(s: Socket): TransportAddress {
  const a = s.address();
  return { address: a.address, port: a.port, family: a.family === 'IPv6' ? 'IPv6' : 'IPv4' };
}

/** A UDP socket per call. */
export const udpTransport: CallTransportFactory = async (host: string, sink: TransportSink): Promise<CallTransport> => {
  let socket = await bindSocket(host);
  let closed = false;
  const listen = (s: Socket): void => {
    s.on('message', (msg, rinfo) => {
      // A datagram still queued on a socket replaced by rebind() is dropped, as a NAT would.
      if (closed || socket !== s) return;
      sink.receive(msg, { address: rinfo.address, port: rinfo.port, family: rinfo.family === 'IPv6' ? 'IPv6' : 'IPv4' });
    });
    // ICMP errors (port unreachable) surface as socket errors on Linux; consent handles loss.
    s.on('error', () => {});
  };
  listen(socket);
  let address = socketAddress(socket);
  return {
    name: 'udp',
    get address() {
      return address;
    },
    send(data, to) {
      if (!closed) socket.send(data, to.port, to.address);
    },
    async rebind() {
      const next = await bindSocket(host);
      const old = socket;
      socket = next;
      listen(next);
      old.close();
      address = socketAddress(next);
      return address;
    },
    close() {
      if (closed) return;
      closed = true;
      socket.close();
    },
  };
};

/** The call driver over UDP: a socket per call, one timer for all. */
export class UdpCallDriver extends CallDriver {
  constructor(clock: Clock = systemClock) {
    super(udpTransport, clock);
  }
}
