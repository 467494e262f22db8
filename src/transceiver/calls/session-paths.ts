// Where a call's packets come from and go to (sans-IO): the transceiver's PeerPaths. A path is a
// client address and the relay it came through; this keeps the relay each recent client address
// used, so an ICE answer or a newly nominated address is reached through the right relay, and
// the rule for following a relay change on the selected address. LRU-bounded: a handful of
// addresses per call, so a credential holder cannot make a session keep many.
import { formatAddress } from '../../core/address.ts';
import type { TransportAddress } from '../../core/address.ts';
import type { PeerPaths } from '../../core/peer/index.ts';
import type { RelayTransport } from '../../contracts/relay-header.ts';

/** How one client address reaches us: through which relay public address and relay socket, over UDP or TCP. */
export interface SessionPath {
  readonly client: TransportAddress;
  /** UDP, or a TCP connection to the relay (ICE-TCP; relay header version 2). */
  readonly transport: RelayTransport;
  /** The relay public address the client sent to (goes back in the relay header). */
  readonly relayPublic: TransportAddress;
  /** The relay's own socket address, where the transceiver sends the datagram. */
  readonly relaySocket: TransportAddress;
}

const MAX_PATHS = 8;

/** Per-packet comparison without building strings (addresses are canonical text, as dgram prints them). */
export function sameAddress(a: TransportAddress, b: TransportAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

export class ClientPaths implements PeerPaths<SessionPath> {
  readonly #paths = new Map<string, SessionPath>();

  /** Records the path a packet came by (most recent last; the oldest is evicted). */
  remember(path: SessionPath): void {
    const key = formatAddress(path.client);
    this.#paths.delete(key);
    this.#paths.set(key, path);
    if (this.#paths.size > MAX_PATHS) this.#paths.delete(this.#paths.keys().next().value as string);
  }

  lookup(client: TransportAddress): SessionPath | undefined {
    return this.#paths.get(formatAddress(client));
  }

  address(path: SessionPath): TransportAddress {
    return path.client;
  }

  /**
   * The path to use after an authenticated packet (valid check, SRTP/SRTCP that passed its
   * tag) came by `path`: the same client address through another relay socket or public
   * address — a relay restarted elsewhere, or the flow moved location — takes over; anything
   * else keeps `selected`. Returns undefined when nothing changes.
   */
  follow(selected: SessionPath | undefined, path: SessionPath): SessionPath | undefined {
    if (!selected || selected === path || !sameAddress(selected.client, path.client)) return undefined;
    if (sameAddress(selected.relaySocket, path.relaySocket) && sameAddress(selected.relayPublic, path.relayPublic)) return undefined;
    this.remember(path);
    return path;
  }
}
