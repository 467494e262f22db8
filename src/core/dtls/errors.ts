// The DTLS error catalog (STYLE.md rules 6 and 14): every way a handshake or connection can end
// badly has one stable code here, with the TLS alert we send for it. `DtlsFailure` is the plain
// object carried by the `failed` event; `DtlsError` is thrown inside the module and for misuse of
// the public API (bad options, send before connected).
import { ParleyError, reasonCatalog, errorCatalog, type CodeOf } from '../errors.ts';

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

/** Stable failure codes, each with what it means (docs/errors.md). */
export const DTLS_ERRORS = errorCatalog('DTLS', {
  fingerprintMismatch: ['ERR_DTLS_FINGERPRINT_MISMATCH', "the peer's certificate does not match the SDP a=fingerprint (RFC 8842 §5)"],
  badCertificate: [
    'ERR_DTLS_BAD_CERTIFICATE',
    "the peer's certificate does not parse, or its key is not ECDSA P-256/P-384 or RSA 2048..4096",
  ],
  noClientCertificate: ['ERR_DTLS_NO_CLIENT_CERTIFICATE', 'the DTLS client sent no certificate (WebRTC requires one, RFC 8827 §6.5)'],
  badSignature: ['ERR_DTLS_BAD_SIGNATURE', 'a ServerKeyExchange or CertificateVerify signature does not verify'],
  badFinished: ['ERR_DTLS_BAD_FINISHED', "the peer's Finished verify_data is wrong (RFC 5246 §7.4.9)"],
  noSharedCipher: ['ERR_DTLS_NO_SHARED_CIPHER', 'no cipher suite in common (we offer ECDHE-ECDSA/RSA with AES-GCM or ChaCha20-Poly1305)'],
  noSharedGroup: ['ERR_DTLS_NO_SHARED_GROUP', 'no ECDHE group in common (X25519, P-256, P-384)'],
  noSharedSignature: ['ERR_DTLS_NO_SHARED_SIGNATURE_ALGORITHM', "no signature scheme in common for our or the peer's certificate key"],
  noSrtpProfile: ['ERR_DTLS_NO_SRTP_PROFILE', 'no use_srtp profile in common (RFC 5764 §4.1.2)'],
  noExtendedMasterSecret: ['ERR_DTLS_NO_EXTENDED_MASTER_SECRET', 'the peer does not support extended_master_secret (RFC 7627)'],
  protocolVersion: ['ERR_DTLS_PROTOCOL_VERSION', 'the peer does not speak DTLS 1.2'],
  unexpectedMessage: ['ERR_DTLS_UNEXPECTED_MESSAGE', 'a handshake message out of order or in the wrong epoch'],
  decodeError: ['ERR_DTLS_DECODE_ERROR', 'a handshake message that does not parse'],
  illegalParameter: ['ERR_DTLS_ILLEGAL_PARAMETER', 'a parseable value we did not offer or cannot accept (cipher, group, key, extension)'],
  handshakeTimeout: ['ERR_DTLS_HANDSHAKE_TIMEOUT', 'the handshake did not complete within its 30 s budget'],
  peerAlert: ['ERR_DTLS_PEER_ALERT', 'the peer sent a fatal alert'],
  internalError: ['ERR_DTLS_INTERNAL_ERROR', 'a bug, or record sequence numbers exhausted'],
  // API misuse: thrown to the caller, never a `failed` event.
  invalidOptions: ['ERR_DTLS_INVALID_OPTIONS', 'bad endpoint options or exporter arguments (thrown to the caller)'],
  notConnected: ['ERR_DTLS_NOT_CONNECTED', 'send or export before the handshake completed (thrown to the caller)'],
  messageTooLarge: ['ERR_DTLS_MESSAGE_TOO_LARGE', 'application data larger than one record (thrown to the caller)'],
});
export const DtlsCode = DTLS_ERRORS.codes;
export type DtlsCode = CodeOf<typeof DTLS_ERRORS>;

/**
 * Why a received record was dropped without ending the association (RFC 6347 §4.1.2.7: invalid
 * records are discarded silently). Counted per endpoint, for metrics (STYLE.md rule 4).
 */
export const DTLS_DROPS = reasonCatalog('dtls', {
  truncated: 'bytes after the last whole record of a datagram',
  bad_version: 'record version is not DTLS 1.2 (or 1.0 before keys)',
  oversized: 'record fragment longer than 2^14 bytes',
  no_keys_for_epoch: 'a protected record of an epoch we have no keys for',
  replay: 'record sequence number already seen (RFC 6347 §4.1.2.6)',
  bad_record_mac: 'a protected record that does not authenticate',
  malformed_handshake: 'a handshake fragment that does not parse or cannot be buffered',
  data_before_connected: 'application data before the handshake completed',
  unprotected_alert: 'a plaintext alert after keys were in use',
  unknown_content_type: 'a record content type DTLS 1.2 does not define',
});
export type DtlsDropReason = (typeof DTLS_DROPS.reasons)[number];

/** What the `failed` event carries. */
export interface DtlsFailure {
  code: string;
  message: string;
}

export class DtlsError extends ParleyError<DtlsCode> {
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
