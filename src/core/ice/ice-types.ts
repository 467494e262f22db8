// Shared shapes of the ICE objects (ice-lite-agent.ts, ice-controlling-client.ts): what they
// emit and dump. Types only; the counter names are in errors.ts.
import type { TransportAddress } from '../address.ts';
import type { IceErrorCode, IceLiteCounter } from './errors.ts';

/** A datagram to send; the I/O shell sends `data` to `to` (through the relay). */
export interface IceTransmit {
  readonly to: TransportAddress;
  readonly data: Buffer;
}

export type IceLiteEvent =
  /** The first nomination (RFC 8445 §7.3.1.5): media may flow to `address`. */
  | { readonly type: 'selected'; readonly address: TransportAddress }
  /** The peer nominated the pair selected provisionally (by its first valid check), RFC 8445 §7.3.1.5. */
  | { readonly type: 'nominated'; readonly address: TransportAddress }
  /** A later nomination from another address: NAT rebinding or a network change. */
  | { readonly type: 'selected-changed'; readonly from: TransportAddress; readonly to: TransportAddress }
  /** `address` answered our request back: it receives what we send (IceLiteAgent.isConfirmed). */
  | { readonly type: 'confirmed'; readonly address: TransportAddress }
  /** RFC 7675 §5.1: no valid check on the selected pair for consentTimeoutMs. Terminal. */
  | { readonly type: 'consent_lost' };

export type IceClientEvent =
  /** The nominated pair works; `mappedAddress` is our address as the peer sees it. */
  | { readonly type: 'connected'; readonly mappedAddress: TransportAddress | undefined }
  /** Checks timed out or were refused before connecting (RFC 8445 §7.2.5.2, §7.2.5.3). Terminal. */
  | { readonly type: 'failed'; readonly code: IceErrorCode; readonly reason: string }
  /** RFC 7675 §5.1: no authenticated response for consentTimeoutMs. Terminal. */
  | { readonly type: 'consent_lost' };

/** IceLiteAgent.dump(): state for tests and operations; holds no secrets. */
export interface IceLiteDump {
  readonly localUfrag: string;
  readonly remoteUfrag: string | undefined;
  readonly hasRemotePwd: boolean;
  readonly selected: string | undefined;
  readonly nominated: boolean;
  readonly validPairs: ReadonlyArray<{ readonly remote: string; readonly lastCheckAt: number }>;
  /** How many Binding requests we sent back (one per new address, at most MAX_CHECKS_BACK). */
  readonly checksBack: number;
  readonly lastConsentAt: number;
  readonly consentLost: boolean;
  readonly closed: boolean;
  readonly stats: Readonly<Record<IceLiteCounter, number>>;
}
