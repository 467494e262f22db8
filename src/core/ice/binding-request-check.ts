// Checking a Binding request that reached an ICE agent (RFC 8445 §7.3, RFC 8489 §6.3, §9.1.3):
// the part every agent does the same way, lite or full — which requests are dropped without an
// answer, which are refused with 400 / 401 / 420, and which are valid checks. The role rules
// (RFC 8445 §7.3.1.1) and what a valid check means are each agent's own business.
import { classify } from '../demux.ts';
import {
  decodeStun,
  verifyFingerprint,
  verifyMessageIntegrity,
  isWellFramed,
  StunDecodeError,
  StunClass,
  StunMethod,
  StunErrorCodes,
  type StunHeaderInfo,
  type StunIntegrity,
  type StunMessage,
} from '../stun/index.ts';
import { bindingError } from './binding-response.ts';
import type { IceCheckDropReason } from './errors.ts';

export type BindingRequestVerdict =
  /** Not answered: not STUN, an indication, a response, a failed FINGERPRINT, not Binding. */
  | { readonly kind: 'drop'; readonly reason: IceCheckDropReason }
  /** Answered with `response`: 400 (malformed, no USERNAME or MESSAGE-INTEGRITY), 401, 420. */
  | { readonly kind: 'reject'; readonly code: 400 | 401 | 420; readonly response: Buffer }
  /** Authenticated with our password and addressed to our ufrag. */
  | { readonly kind: 'valid'; readonly message: StunMessage };

export interface BindingRequestCredentials {
  /** Our ICE password: MESSAGE-INTEGRITY must verify with it (short-term credentials). */
  readonly localPwd: string;
  /** Whether USERNAME ("<our ufrag>:<their ufrag>", RFC 8445 §7.2.2) names this session. */
  readonly usernameMatches: (username: string) => boolean;
  /** The HMAC-SHA1 that verifies MESSAGE-INTEGRITY (and signs a 420); default node:crypto's. */
  readonly integrity?: StunIntegrity;
}

export function checkBindingRequest(packet: Buffer, c: BindingRequestCredentials): BindingRequestVerdict {
  if (packet.length === 0 || classify(packet[0]) !== 'stun' || !isWellFramed(packet)) return drop('malformed');
  const m = decodeStun(packet);
  const header: StunHeaderInfo | undefined = m instanceof StunDecodeError ? m.header : m;
  if (!header) return drop('malformed');
  if (header.class === StunClass.Indication) return drop('indication');
  if (header.class !== StunClass.Request) return drop('response');
  // RFC 8489 §6.3 / RFC 8445 §7: a check failing FINGERPRINT may not be STUN at all, so it is
  // dropped without an answer. ICE checks always carry it, so a missing one fails too.
  if (!verifyFingerprint(packet)) return drop('fingerprint');
  // Only Binding is defined for ICE; answering other methods would make us a STUN server.
  if (header.method !== StunMethod.Binding) return drop('method');
  const tid = header.transactionId;
  if (m instanceof StunDecodeError) return reject(400, bindingError(tid, StunErrorCodes.BadRequest));
  // RFC 8489 §9.1.3: no USERNAME or no MESSAGE-INTEGRITY → 400; unknown USERNAME or bad
  // HMAC → 401. Neither answer carries MESSAGE-INTEGRITY.
  if (m.username === undefined || m.integrityOffset < 0) return reject(400, bindingError(tid, StunErrorCodes.BadRequest));
  if (!c.usernameMatches(m.username) || !verifyMessageIntegrity(packet, c.localPwd, c.integrity))
    return reject(401, bindingError(tid, StunErrorCodes.Unauthorized));
  // RFC 8489 §6.3.1: unknown comprehension-required attributes → 420, after authentication.
  if (m.unknownRequired.length > 0)
    return reject(420, bindingError(tid, StunErrorCodes.UnknownAttribute, c.localPwd, m.unknownRequired, c.integrity));
  return { kind: 'valid', message: m };
}

function drop(reason: IceCheckDropReason): BindingRequestVerdict {
  return { kind: 'drop', reason };
}

function reject(code: 400 | 401 | 420, response: Buffer): BindingRequestVerdict {
  return { kind: 'reject', code, response };
}
