// The public vocabulary of Parley's data channels (RFC 8831/8832 over one SCTP association):
// how a channel is asked for, what the manager emits, and its error codes and drop reasons.
import { ParleyError, errorCatalog, reasonCatalog, type CodeOf } from '../errors.ts';
import type { SctpFailure } from '../sctp/errors.ts';

export interface ChannelInit {
  label: string;
  protocol?: string;
  /** Default true. */
  ordered?: boolean;
  /** Partial reliability by count (exclusive with maxPacketLifeTime). */
  maxRetransmits?: number;
  /** Partial reliability by time, in ms. */
  maxPacketLifeTime?: number;
  /** Pre-agreed channel (RFC 8832 §4 "negotiated"): no DCEP, both sides open the same id. */
  negotiated?: boolean;
  /** Stream id: required when negotiated, else chosen by DTLS role (client even, server odd). */
  id?: number;
  /** DCEP priority (RFC 8832 §5.1); default 256 ("normal" in RTCWEB). */
  priority?: number;
}

export interface ChannelInfo {
  id: number;
  label: string;
  protocol: string;
  ordered: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
  negotiated: boolean;
  /** Opened by the peer (its DATA_CHANNEL_OPEN) rather than by us. */
  remote: boolean;
}

export type DataChannelEvent =
  | { type: 'connected' }
  | ({ type: 'channel_open' } & ChannelInfo)
  | { type: 'message'; id: number; data: string | Buffer; binary: boolean }
  | { type: 'buffered_low'; id: number }
  | { type: 'channel_closed'; id: number }
  /** The association ended; every channel is closed with it. */
  | { type: 'closed'; error?: SctpFailure };

export const DATACHANNEL_ERRORS = errorCatalog('DATACHANNEL', {
  invalidChannel: [
    'ERR_DATACHANNEL_INVALID_CHANNEL',
    'bad channel options: id, label/protocol length, both reliability limits (thrown to the caller)',
  ],
  idInUse: ['ERR_DATACHANNEL_ID_IN_USE', 'open() with a stream id another channel holds (thrown to the caller)'],
  notOpen: ['ERR_DATACHANNEL_NOT_OPEN', 'send on a channel that is not open, or closing (thrown to the caller)'],
  noFreeId: ['ERR_DATACHANNEL_NO_FREE_ID', 'every stream id of our DTLS role is taken (thrown to the caller)'],
});
export const DataChannelCode = DATACHANNEL_ERRORS.codes;
export type DataChannelCode = CodeOf<typeof DATACHANNEL_ERRORS>;

/** Why a received SCTP message was not delivered to a channel (counted, never thrown). */
export const DATACHANNEL_DROPS = reasonCatalog('datachannel', {
  malformed_dcep: 'a DCEP message (PPID 50) that does not parse (RFC 8832 §5)',
  unknown_ppid: 'a message with a PPID data channels do not use',
  no_channel: 'a message on a stream with no open channel',
  id_in_use: 'a DATA_CHANNEL_OPEN for a stream id that is taken',
});
export type DataChannelDropReason = (typeof DATACHANNEL_DROPS.reasons)[number];

export class DataChannelError extends ParleyError<DataChannelCode> {
  constructor(code: DataChannelCode, message: string) {
    super(code, message);
  }
}
