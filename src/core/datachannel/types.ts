// The public vocabulary of Parley's data channels (RFC 8831/8832 over one SCTP association):
// how a channel is asked for, what the manager emits, and its error codes and drop reasons.
import { ParleyError } from '../errors.ts';
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

export const DataChannelCode = {
  invalidChannel: 'ERR_DATACHANNEL_INVALID_CHANNEL',
  idInUse: 'ERR_DATACHANNEL_ID_IN_USE',
  notOpen: 'ERR_DATACHANNEL_NOT_OPEN',
  noFreeId: 'ERR_DATACHANNEL_NO_FREE_ID',
} as const;
export type DataChannelCode = (typeof DataChannelCode)[keyof typeof DataChannelCode];

/** Why a received SCTP message was not delivered to a channel (counted, never thrown). */
export const DataChannelDrop = {
  malformedDcep: 'malformed_dcep',
  unknownPpid: 'unknown_ppid',
  noChannel: 'no_channel',
  idInUse: 'id_in_use',
} as const;
export type DataChannelDropReason = (typeof DataChannelDrop)[keyof typeof DataChannelDrop];

export class DataChannelError extends ParleyError {
  constructor(code: DataChannelCode, message: string) {
    super(code, message);
  }
}
