// Building the Binding responses an ICE agent sends (RFC 8445 §7.3, RFC 8489 §6.3, §9.1.3).
// Encoding only: which response to send is the agent's decision.
import type { TransportAddress } from '../address.ts';
import {
  encodeStun,
  xorMappedAddressAttribute,
  errorCodeAttribute,
  unknownAttributesAttribute,
  StunClass,
  StunMethod,
  type RawAttribute,
  type StunErrorCodeValue,
  type StunIntegrity,
} from '../stun/index.ts';

/**
 * RFC 8445 §7.3.1.4 / RFC 8489 §9.1.3: the success response carries XOR-MAPPED-ADDRESS = the
 * request's source, MESSAGE-INTEGRITY with the same password that checked the request (the
 * responder's own ICE password) and FINGERPRINT (RFC 8445 §7).
 */
export function bindingSuccess(transactionId: Uint8Array, mapped: TransportAddress, password: string, integrity?: StunIntegrity): Buffer {
  return encodeStun(
    {
      method: StunMethod.Binding,
      class: StunClass.SuccessResponse,
      transactionId,
      attributes: [xorMappedAddressAttribute(mapped, transactionId)],
    },
    { integrityKey: password, fingerprint: true, integrity },
  );
}

/** Bytes of bindingSuccess(…, mapped, …), known without signing it (for the issue #19 budget before an answer is built). */
export function bindingSuccessLength(mapped: TransportAddress): number {
  // Header, XOR-MAPPED-ADDRESS (its value is 8 or 20 bytes: no padding), MESSAGE-INTEGRITY, FINGERPRINT.
  return 20 + 4 + xorMappedAddressAttribute(mapped, NO_TRANSACTION_ID).value.length + (4 + 20) + (4 + 4);
}
const NO_TRANSACTION_ID = new Uint8Array(12);

/**
 * An error response. `password` is given only when the request was authenticated: RFC 8489
 * §9.1.3 — a 400 or 401 answering a request that failed the credential checks carries no
 * MESSAGE-INTEGRITY (there is no agreed key to protect it with).
 */
export function bindingError(
  transactionId: Uint8Array,
  error: StunErrorCodeValue,
  password?: string,
  unknown?: readonly number[],
  integrity?: StunIntegrity,
): Buffer {
  const attributes: RawAttribute[] = [errorCodeAttribute(error)];
  // RFC 8489 §14.13: a 420 lists the attributes not understood.
  if (unknown) attributes.push(unknownAttributesAttribute(unknown));
  return encodeStun(
    { method: StunMethod.Binding, class: StunClass.ErrorResponse, transactionId, attributes },
    { integrityKey: password, fingerprint: true, integrity },
  );
}
