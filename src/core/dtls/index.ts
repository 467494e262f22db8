// DTLS 1.2 for WebRTC (RFC 6347, RFC 5764, RFC 8827 §6.5), sans-IO. This is the module's public
// surface; everything else under src/core/dtls is internal. See docs/dtls.md.
export { DtlsEndpoint } from './endpoint.ts';
export { generateCertificate } from './certificate.ts';
export { DTLS_DROPS, DTLS_ERRORS, DtlsCode, DtlsError } from './errors.ts';
export type { DtlsDropReason } from './errors.ts';
export type { X25519 } from './ecdhe.ts';
export type { Tls12Prf } from './prf.ts';
export type { PeerKeys } from './certificate.ts';
export type { PeerKey } from './signature.ts';
export type { RecordAead, RecordAeadFactory } from './record.ts';
export type { DtlsCertificate, DtlsCrypto, DtlsEvent, DtlsFailure, DtlsOptions, DtlsState, SrtpProfileName } from './types.ts';
