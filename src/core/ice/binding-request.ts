// Building an ICE connectivity check (RFC 8445 §7.2.2): a Binding Request with USERNAME
// "<remote ufrag>:<local ufrag>", PRIORITY, ICE-CONTROLLING or ICE-CONTROLLED, optionally
// USE-CANDIDATE, MESSAGE-INTEGRITY keyed with the remote password, then FINGERPRINT.
// Encoding only; transactions and retransmission live in ice-controlling-client.ts.
import {
  encodeStun,
  usernameAttribute,
  priorityAttribute,
  iceControllingAttribute,
  iceControlledAttribute,
  useCandidateAttribute,
  StunClass,
  StunMethod,
  type RawAttribute,
  type StunIntegrity,
} from '../stun/index.ts';

export interface ConnectivityCheck {
  readonly transactionId: Uint8Array;
  readonly localUfrag: string;
  readonly remoteUfrag: string;
  /** The responder's password: it verifies our MESSAGE-INTEGRITY (RFC 8445 §7.2.2). */
  readonly remotePwd: string;
  readonly priority: number;
  readonly role: { readonly controlling: boolean; readonly tieBreaker: bigint };
  readonly useCandidate?: boolean;
  /** The HMAC-SHA1 that signs MESSAGE-INTEGRITY; default node:crypto's. */
  readonly integrity?: StunIntegrity;
}

/**
 * RFC 8445 §5.1.2.1 priority of the peer-reflexive candidate a check's source would become:
 * type preference 110 (prflx), local preference 65535, component 1.
 */
export const PEER_REFLEXIVE_PRIORITY = (110 << 24) + (65535 << 8) + (256 - 1);

export function connectivityCheck(c: ConnectivityCheck): Buffer {
  const attributes: RawAttribute[] = [
    usernameAttribute(`${c.remoteUfrag}:${c.localUfrag}`),
    priorityAttribute(c.priority),
    c.role.controlling ? iceControllingAttribute(c.role.tieBreaker) : iceControlledAttribute(c.role.tieBreaker),
  ];
  if (c.useCandidate) attributes.push(useCandidateAttribute());
  return encodeStun(
    { method: StunMethod.Binding, class: StunClass.Request, transactionId: c.transactionId, attributes },
    { integrityKey: c.remotePwd, fingerprint: true, integrity: c.integrity },
  );
}
