// How a client call's packets reach the relay: the seam between the call driver (./call-driver.ts:
// one timer for every call, the drain loop) and the wire. One implementation per transport —
// UDP datagrams (./udp-driver.ts) and ICE-TCP, RFC 4571 frames on an active TCP connection
// (./tcp-driver.ts) — so the choice of transport is made once, when the driver is created, and
// nothing above this line asks which one it is. Types only.
import type { TransportAddress } from '../core/address.ts';

/** The transport a call's candidates use: `udp`, or `tcp` (RFC 6544 ICE-TCP, our side active). */
export type CallTransportName = 'udp' | 'tcp';

/** What a transport tells its driver. */
export interface TransportSink {
  /** One whole packet (a datagram, or one RFC 4571 frame) from `from`. */
  receive(data: Buffer, from: TransportAddress): void;
  /** A path that had carried packets ended (a TCP connection closed): check again at once. */
  lost(): void;
}

/** One call's local end: its socket (UDP) or its connections (TCP). */
export interface CallTransport {
  readonly name: CallTransportName;
  /** The host candidate to advertise (UDP: the bound socket; TCP: the host and port 9, RFC 6544 §4.5). */
  readonly address: TransportAddress;
  send(data: Buffer, to: TransportAddress): void;
  /** Moves to a new local port (NAT rebinding); what is still in flight to the old one is dropped. */
  rebind(): Promise<TransportAddress>;
  /** Closes everything; idempotent. */
  close(): void;
}

/** Opens one call's transport on the local `host`. */
export type CallTransportFactory = (host: string, sink: TransportSink) => Promise<CallTransport>;
