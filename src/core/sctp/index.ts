// SCTP for WebRTC data channels (RFC 8261, RFC 9260, RFC 8831): the sans-IO association and
// what its users need. See docs/datachannels.md.
export { SctpAssociation, SCTP_PORT, DEFAULT_MAX_MESSAGE_SIZE, zeroStats } from './association.ts';
export { DEFAULT_MTU } from './options.ts';
export { SctpBudget, processBudget, DEFAULT_PROCESS_BUDGET_BYTES } from './budget.ts';
export { crc32c } from './crc32c.ts';
export { SCTP_DROPS, SCTP_ERRORS, SctpCode, SctpError, ErrorCause } from './errors.ts';
export type { SctpDropReason, SctpFailure } from './errors.ts';
export type { SctpDump, SctpEvent, SctpOptions, SctpState, SctpStats, SendOptions } from './types.ts';
