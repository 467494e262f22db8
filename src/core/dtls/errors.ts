// The DTLS error catalog (STYLE.md rules 6 and 14): every way a handshake or connection can end
// badly has one stable code here, with the TLS alert we send for it. `DtlsFailure` is the plain
// object carried by the `failed` event; `DtlsError` is thrown inside the module and for misuse of
// the public API (bad options, send before connected).
import { ParleyError } from '../errors.ts';

/** TLS alert descriptions we send or recognise (RFC 5246 §7.2, RFC 6347 §4.1.2.7). */
export const AlertDescription = {
  closeNotify: 0,
  unexpectedMessage: 10,
  badRecordMac: 20,
  handshakeFailure: 40,
  badCertificate: 42,
  unsupportedCertificate: 43,
  illegalParameter: 47,
  decodeError: 50,
  decryptError: 51,
  protocolVersion: 70,
  insufficientSecurity: 71,
  internalError: 80,
  unsupportedExtension: 110,
} as const;
export type AlertDescription = (typeof AlertDescription)[keyof typeof AlertDescription];

/** Stable failure codes. The value after each code is the fatal alert we send (undefined: none). */
export const DtlsCode = {
  fingerprintMismatch: 'ERR_DTLS_FINGERPRINT_MISMATCH',
  badCertificate: 'ERR_DTLS_BAD_CERTIFICATE',
  noClientCertificate: 'ERR_DTLS_NO_CLIENT_CERTIFICATE',
  badSignature: 'ERR_DTLS_BAD_SIGNATURE',
  badFinished: 'ERR_DTLS_BAD_FINISHED',
  noSharedCipher: 'ERR_DTLS_NO_SHARED_CIPHER',
  noSharedGroup: 'ERR_DTLS_NO_SHARED_GROUP',
  noSharedSignature: 'ERR_DTLS_NO_SHARED_SIGNATURE_ALGORITHM',
  noSrtpProfile: 'ERR_DTLS_NO_SRTP_PROFILE',
  noExtendedMasterSecret: 'ERR_DTLS_NO_EXTENDED_MASTER_SECRET',
  protocolVersion: 'ERR_DTLS_PROTOCOL_VERSION',
  unexpectedMessage: 'ERR_DTLS_UNEXPECTED_MESSAGE',
  decodeError: 'ERR_DTLS_DECODE_ERROR',
  illegalParameter: 'ERR_DTLS_ILLEGAL_PARAMETER',
  handshakeTimeout: 'ERR_DTLS_HANDSHAKE_TIMEOUT',
  peerAlert: 'ERR_DTLS_PEER_ALERT',
  internalError: 'ERR_DTLS_INTERNAL_ERROR',
  // API misuse: thrown to the caller, never a `failed` event.
  invalidOptions: 'ERR_DTLS_INVALID_OPTIONS',
  notConnected: 'ERR_DTLS_NOT_CONNECTED',
  messageTooLarge: 'ERR_DTLS_MESSAGE_TOO_LARGE',
} as const;
export type DtlsCode = (typeof DtlsCode)[keyof typeof DtlsCode];

/**
 * Why a received record was dropped without ending the association (RFC 6347 §4.1.2.7: invalid
 * records are discarded silently). Counted per endpoint, for metrics (STYLE.md rule 4).
 */
export const DtlsDrop = {
  truncated: 'truncated',
  badVersion: 'bad_version',
  oversized: 'oversized',
  noKeys: 'no_keys_for_epoch',
  replay: 'replay',
  badRecordMac: 'bad_record_mac',
  malformedHandshake: 'malformed_handshake',
  dataBeforeConnected: 'data_before_connected',
  unprotectedAlert: 'unprotected_alert',
  unknownContentType: 'unknown_content_type',
} as const;
export type DtlsDropReason = (typeof DtlsDrop)[keyof typeof DtlsDrop];

/** What the `failed` event carries. */
export interface DtlsFailure {
  code: string;
  message: string;
}

export class DtlsError extends ParleyError {
  /** The fatal alert to send to the peer, if any. */
  readonly alert: AlertDescription | undefined;
  constructor(code: DtlsCode, message: string, alert?: AlertDescription) {
    super(code, message);
    this.alert = alert;
  }
}

/** Shorthands for the failures the handshake raises, so each site names code and alert once. */
export const fail = {
  decode: (what: string): DtlsError => new DtlsError(DtlsCode.decodeError, `malformed ${what}`, AlertDescription.decodeError),
  unexpected: (what: string): DtlsError =>
    new DtlsError(DtlsCode.unexpectedMessage, `unexpected ${what}`, AlertDescription.unexpectedMessage),
  illegal: (what: string): DtlsError => new DtlsError(DtlsCode.illegalParameter, what, AlertDescription.illegalParameter),
  handshake: (code: DtlsCode, what: string): DtlsError => new DtlsError(code, what, AlertDescription.handshakeFailure),
};
