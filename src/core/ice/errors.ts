// The ICE area's vocabulary (STYLE.md rules 4, 6 and 14): the codes of its typed errors and
// failures, why a Binding request is dropped unanswered, and what each agent counts per packet.
// The transceiver exports the lite agent's results as parley_transceiver_ice_checks_total{result}.
import { ParleyError, reasonCatalog, errorCatalog, type CodeOf } from '../errors.ts';

export const ICE_ERRORS = errorCatalog('ICE', {
  invalidOptions: ['ERR_ICE_INVALID_OPTIONS', 'an agent was built without credentials, or with a bad RTO or retransmission count'],
  checkTimeout: [
    'ERR_ICE_CHECK_TIMEOUT',
    'controlling client: a check or nomination got no answer after every retransmission (RFC 8445 §7.2.5.3)',
  ],
  checkRefused: [
    'ERR_ICE_CHECK_REFUSED',
    'controlling client: a check or nomination was answered with an error response (RFC 8445 §7.2.5.2)',
  ],
});
export const IceErrorCode = ICE_ERRORS.codes;
export type IceErrorCode = CodeOf<typeof ICE_ERRORS>;

export class IceError extends ParleyError<IceErrorCode> {}

/** Why checkBindingRequest (binding-request-check.ts) drops a request without answering it. */
export const ICE_CHECK_DROPS = reasonCatalog('ice_check', {
  malformed: 'not STUN (RFC 7983 first byte), or not STUN framing',
  indication: 'a Binding Indication: a keepalive, never answered (RFC 8445 §11)',
  response: 'a response or error response where a request was expected',
  fingerprint: 'FINGERPRINT missing or wrong (RFC 8445 §7: checks use the FINGERPRINT mechanism)',
  method: 'a request for a method other than Binding',
});
export type IceCheckDropReason = (typeof ICE_CHECK_DROPS.reasons)[number];

/** What the ICE-lite agent did with each packet. Stable: they are metric labels. */
export const ICE_LITE_RESULTS = reasonCatalog('ice_lite', {
  answered: 'a valid check, answered with a Binding Success',
  stun_error_400: 'answered 400 Bad Request: malformed, or missing USERNAME / MESSAGE-INTEGRITY (RFC 8489 §9.1.3)',
  stun_error_401: 'answered 401 Unauthorized: unknown USERNAME or wrong MESSAGE-INTEGRITY',
  stun_error_420: 'answered 420 Unknown Attribute (RFC 8489 §6.3.1)',
  stun_error_487: 'answered 487 Role Conflict: the peer claims the controlled role too (RFC 8445 §7.3.1.1)',
  drop_malformed: 'dropped: first byte is not STUN (RFC 7983), or not STUN framing at all',
  drop_fingerprint: 'dropped: FINGERPRINT missing or wrong',
  drop_response: 'dropped: a response to no request of ours',
  response_to_our_check:
    'consumed: the answer (success or error) to a Binding request back of ours; a signed success from where it went confirms that address',
  drop_answer_integrity:
    'dropped: an answer to our request back with a missing or wrong FINGERPRINT or MESSAGE-INTEGRITY (RFC 8489 §9.1.4); the request stays pending',
  held_by_budget:
    'not sent: an answer or request back toward an address that has not confirmed it receives would exceed the bytes received from it (issue #19)',
  drop_method: 'dropped: a request for a method other than Binding',
  indication: 'ignored: a Binding Indication (keepalive, RFC 8445 §11)',
});
export type IceLiteCounter = (typeof ICE_LITE_RESULTS.reasons)[number];

/** What the controlling client (parley call / load) counts per packet and retransmission. */
export const ICE_CLIENT_RESULTS = reasonCatalog('ice_client', {
  retransmits: 'a check, nomination or consent request sent again after its RTO',
  drop_malformed: 'dropped: not a STUN Binding response',
  drop_unknown_transaction: 'dropped: a response to no transaction of ours (a late retransmission, or checkNow())',
  drop_asymmetric: 'dropped: a response from another address than the check went to (RFC 8445 §7.2.5.2.1)',
  drop_fingerprint: 'dropped: a response with a missing or wrong FINGERPRINT',
  drop_integrity: 'dropped: a response whose MESSAGE-INTEGRITY does not verify with the peer password',
  answered: 'a valid check from the peer, answered with a Binding Success',
  request_refused: 'a check from the peer refused with 400, 401 or 420 (binding-request-check.ts)',
  stun_error_487: 'a check from a peer that claims the controlling role too, answered 487',
  drop_request: 'a request dropped unanswered: bad FINGERPRINT, not Binding, not STUN',
});
export type IceClientCounter = (typeof ICE_CLIENT_RESULTS.reasons)[number];
