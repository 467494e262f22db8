// The ICE-TCP transport of a client call (RFC 6544; ./call-transport.ts): our candidate is
// active (we connect; RFC 6544 §4.5 advertises it with port 9), the answer's are passive (the
// relay's --listen-tcp). Every packet travels as an RFC 4571 frame (src/core/framing). A
// connection per remote candidate, opened by the first STUN packet sent to it: the relay
// accepts a connection only if its first frame is a Binding Request that verifies (issue #17),
// so anything else to a candidate with no connection is dropped, and ICE's own checks
// (retransmissions, consent) open the next one. When a connection that had carried packets
// closes, the driver is told (`lost`) and nominates at once over a new connection — a relay
// restart costs a reconnect, not a 30 s consent timeout. Bounded: unsent bytes per connection
// (past MAX_QUEUED_BYTES packets are dropped, as UDP would lose them) and connections per call.
// TcpCallDriver is the call driver on it.
import net from 'node:net';
import type { TransportAddress } from '../core/address.ts';
import { classifyPacket } from '../core/demux.ts';
import { RFC4571_MAX_FRAME, Rfc4571Deframer, frameRfc4571 } from '../core/framing/rfc4571.ts';
import type { Clock } from '../common/clock.ts';
import { systemClock } from '../common/clock.ts';
import { CallDriver } from './call-driver.ts';
import type { CallTransport, CallTransportFactory, TransportSink } from './call-transport.ts';

/** RFC 6544 §4.5: an active candidate's port is meaningless; it is advertised as 9 (discard). */
export const ACTIVE_CANDIDATE_PORT = 9;
/** Unsent bytes a connection may hold before packets are dropped (≈ 3 s of audio at 50 pps). */
const MAX_QUEUED_BYTES = 64 * 1024;
/** Connections one call holds at once (one per candidate tried; the answer lists a few). */
const MAX_CONNECTIONS = 8;

interface Connection {
  readonly socket: net.Socket;
  /** A frame came back: the relay took our check, so losing it is worth telling the call. */
  carried: boolean;
}

const key = (a: TransportAddress): string => `${a.address}|${a.port}`;
const isWildcard = (host: string): boolean => host === '0.0.0.0' || host === '::';

/** Active ICE-TCP connections for one call. */
export const tcpTransport: CallTransportFactory = (host: string, sink: TransportSink): Promise<CallTransport> => {
  const connections = new Map<string, Connection>();
  let closed = false;
  const address: TransportAddress = { address: host, port: ACTIVE_CANDIDATE_PORT, family: host.includes(':') ? 'IPv6' : 'IPv4' };

  const connect = (to: TransportAddress): Connection => {
    const socket = net.connect({
      host: to.address,
      port: to.port,
      family: to.family === 'IPv6' ? 6 : 4,
      ...(isWildcard(host) ? {} : { localAddress: host }),
      noDelay: true, // one voice frame per write: Nagle would hold them back
    });
    const conn: Connection = { socket, carried: false };
    const deframer = new Rfc4571Deframer(RFC4571_MAX_FRAME);
    socket.on('data', (chunk: Buffer) => {
      const r = deframer.push(chunk);
      // RFC 4571 has no resync: a broken stream is closed, and ICE reconnects.
      if ('error' in r) return void socket.destroy();
      for (const f of r.frames) {
        conn.carried = true;
        if (!closed && connections.get(key(to)) === conn) sink.receive(f, to);
      }
    });
    // Refused, reset, unreachable: 'close' follows, and ICE decides what to try next.
    socket.on('error', () => {});
    socket.on('close', () => {
      if (connections.get(key(to)) !== conn) return;
      connections.delete(key(to));
      if (conn.carried && !closed) sink.lost();
    });
    connections.set(key(to), conn);
    return conn;
  };

  const dropAll = (): void => {
    const all = [...connections.values()];
    connections.clear();
    for (const c of all) c.socket.destroy();
  };

  return Promise.resolve({
    name: 'tcp',
    address,
    send(data, to) {
      if (closed || data.length === 0 || data.length > RFC4571_MAX_FRAME) return;
      let conn = connections.get(key(to));
      if (!conn) {
        // Only a check may open a connection (the relay's first-frame rule); media waits for ICE.
        if (classifyPacket(data) !== 'stun' || connections.size >= MAX_CONNECTIONS) return;
        conn = connect(to);
      }
      // A relay that stops reading must not grow our memory: drop, as a full UDP buffer would.
      if (conn.socket.writableLength > MAX_QUEUED_BYTES) return;
      conn.socket.write(frameRfc4571(data));
    },
    rebind() {
      // New connections (so new local ports) on the next check, which the driver sends at once.
      dropAll();
      return Promise.resolve(address);
    },
    close() {
      if (closed) return;
      closed = true;
      dropAll();
    },
  });
};

/** The call driver over ICE-TCP: active connections per call, one timer for all. */
export class TcpCallDriver extends CallDriver {
  constructor(clock: Clock = systemClock) {
    super(tcpTransport, clock);
  }
}
