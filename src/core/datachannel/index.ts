// WebRTC data channels (RFC 8831, DCEP RFC 8832) over Parley's SCTP association. See docs/datachannels.md.
export { DataChannels } from './channels.ts';
export type { DataChannelsOptions } from './channels.ts';
export { decodeDcep, encodeAck, encodeOpen, Ppid } from './dcep.ts';
export type { DcepMessage, DcepOpen } from './dcep.ts';
export { DATACHANNEL_DROPS, DATACHANNEL_ERRORS, DataChannelCode, DataChannelError } from './types.ts';
export type { ChannelInfo, ChannelInit, DataChannelDropReason, DataChannelEvent } from './types.ts';
