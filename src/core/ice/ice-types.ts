// Shared shapes of the ICE objects (ice-lite-agent.ts, ice-controlling-client.ts): what they
// emit and their counter names. Types and constants only.
import type { TransportAddress } from '../address.ts';

/** A datagram to send; the I/O shell sends `data` to `to` (through the relay). */
export interface IceTransmit {
  readonly to: TransportAddress;
  readonly data: Buffer;
}

export type IceLiteEvent =
  /** The first nomination (RFC 8445 §7.3.1.5): media may flow to `address`. */
  | { readonly type: 'selected'; readonly address: TransportAddress }
  /** A later nomination from another address: NAT rebinding or a network change. */
  | { readonly type: 'selected-changed'; readonly from: TransportAddress; readonly to: TransportAddress }
  /** RFC 7675 §5.1: no valid check on the selected pair for consentTimeoutMs. Terminal. */
  | { readonly type: 'consent-lost' };

export type IceClientEvent =
  /** The nominated pair works; `mappedAddress` is our address as the peer sees it. */
  | { readonly type: 'connected'; readonly mappedAddress: TransportAddress | undefined }
  /** Checks timed out or were refused before connecting (RFC 8445 §7.2.5.2, §7.2.5.3). Terminal. */
  | { readonly type: 'failed'; readonly reason: string }
  /** RFC 7675 §5.1: no authenticated response for consentTimeoutMs. Terminal. */
  | { readonly type: 'consent-lost' };

/**
 * What the lite agent did with each packet, counted (STYLE.md rule 4). Stable names: the
 * transceiver exports them as metric labels.
 */
export const IceLiteCounter = {
  /** A valid check, answered with a Binding Success. */
  Answered: 'answered',
  /** Answered 400 Bad Request: malformed, or missing USERNAME / MESSAGE-INTEGRITY. */
  BadRequest: 'error-400',
  /** Answered 401 Unauthorized: unknown USERNAME or wrong MESSAGE-INTEGRITY. */
  Unauthorized: 'error-401',
  /** Answered 420 Unknown Attribute. */
  UnknownAttribute: 'error-420',
  /** Answered 487 Role Conflict. */
  RoleConflict: 'error-487',
  /** Dropped: first byte is not STUN (RFC 7983), or not STUN framing at all. */
  DropMalformed: 'drop-malformed',
  /** Dropped: FINGERPRINT missing or wrong (RFC 8445 §7: checks use the FINGERPRINT mechanism). */
  DropFingerprint: 'drop-fingerprint',
  /** Dropped: a response; a lite agent sends no requests (RFC 8445 §2.5). */
  DropResponse: 'drop-response',
  /** Dropped: a request for a method other than Binding. */
  DropMethod: 'drop-method',
  /** Ignored: a Binding Indication (keepalive, RFC 8445 §11). */
  Indication: 'indication',
} as const;
export type IceLiteCounter = (typeof IceLiteCounter)[keyof typeof IceLiteCounter];

/** IceLiteAgent.dump(): state for tests and operations; holds no secrets. */
export interface IceLiteDump {
  readonly localUfrag: string;
  readonly remoteUfrag: string | undefined;
  readonly hasRemotePwd: boolean;
  readonly selected: string | undefined;
  readonly nominated: boolean;
  readonly validPairs: ReadonlyArray<{ readonly remote: string; readonly lastCheckAt: number }>;
  readonly lastConsentAt: number;
  readonly consentLost: boolean;
  readonly closed: boolean;
  readonly stats: Readonly<Record<IceLiteCounter, number>>;
}
