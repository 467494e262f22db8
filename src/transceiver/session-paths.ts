// Where a call's packets come from and go to (sans-IO): the relay each recent client address
// used, so an ICE answer or a newly nominated address is reached through the right relay, and
// the rule for following a relay change on the selected address. LRU-bounded: a handful of
// addresses per call, so a credential holder cannot make a session keep many.
import { formatAddress } from '../core/address.ts';
import type { TransportAddress } from '../core/address.ts';
import type { SessionPath } from './session.ts';

const MAX_PATHS = 8;

/** Per-packet comparison without building strings (addresses are canonical text, as dgram prints them). */
export function sameAddress(a: TransportAddress, b: TransportAddress): boolean {
  return a.port === b.port && a.address === b.address;
}

export class ClientPaths {
  readonly #paths = new Map<string, SessionPath>();

  /** Records the path a packet came by (most recent last; the oldest is evicted). */
  remember(path: SessionPath): void {
    const key = formatAddress(path.client);
    this.#paths.delete(key);
    this.#paths.set(key, path);
    if (this.#paths.size > MAX_PATHS) this.#paths.delete(this.#paths.keys().next().value as string);
  }

  get(client: TransportAddress): SessionPath | undefined {
    return this.#paths.get(formatAddress(client));
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
