// The Data Channel Establishment Protocol messages (RFC 8832 §5): DATA_CHANNEL_OPEN with its
// channel type, reliability parameter, label and protocol, and DATA_CHANNEL_ACK. Both travel on
// the channel's own stream with PPID 50. decodeDcep() is total: undefined for anything malformed.
// Not here: what opening a channel does (channels.ts).

export const Ppid = {
  dcep: 50,
  string: 51,
  /** Deprecated partial string/binary (RFC 8831 §8): delivered as whole messages. */
  stringPartial: 52,
  binary: 53,
  binaryPartial: 54,
  stringEmpty: 56,
  binaryEmpty: 57,
} as const;

const MSG_OPEN = 0x03;
const MSG_ACK = 0x02;

/** RFC 8832 §5.1 channel types: low bits reliability, 0x80 unordered. */
export const ChannelType = {
  reliable: 0x00,
  partialRexmit: 0x01,
  partialTimed: 0x02,
  unorderedFlag: 0x80,
} as const;

export interface DcepOpen {
  type: 'open';
  ordered: boolean;
  maxRetransmits?: number;
  maxPacketLifeTime?: number;
  priority: number;
  label: string;
  protocol: string;
}

export type DcepMessage = DcepOpen | { type: 'ack' };

export function decodeDcep(b: Buffer): DcepMessage | undefined {
  if (b.length === 1 && b[0] === MSG_ACK) return { type: 'ack' };
  if (b.length < 12 || b[0] !== MSG_OPEN) return undefined;
  const channelType = b[1];
  const reliability = channelType & 0x7f;
  if (reliability > ChannelType.partialTimed) return undefined;
  const labelLength = b.readUInt16BE(8);
  const protocolLength = b.readUInt16BE(10);
  if (b.length !== 12 + labelLength + protocolLength) return undefined;
  const param = b.readUInt32BE(4);
  const label = b.toString('utf8', 12, 12 + labelLength);
  const protocol = b.toString('utf8', 12 + labelLength);
  const open: DcepOpen = {
    type: 'open',
    ordered: (channelType & ChannelType.unorderedFlag) === 0,
    priority: b.readUInt16BE(2),
    label,
    protocol,
  };
  if (reliability === ChannelType.partialRexmit) open.maxRetransmits = param;
  if (reliability === ChannelType.partialTimed) open.maxPacketLifeTime = param;
  return open;
}

export function encodeOpen(o: Omit<DcepOpen, 'type'>): Buffer {
  const label = Buffer.from(o.label, 'utf8');
  const protocol = Buffer.from(o.protocol, 'utf8');
  const b = Buffer.alloc(12 + label.length + protocol.length);
  b[0] = MSG_OPEN;
  let type: number =
    o.maxRetransmits !== undefined
      ? ChannelType.partialRexmit
      : o.maxPacketLifeTime !== undefined
        ? ChannelType.partialTimed
        : ChannelType.reliable;
  if (!o.ordered) type |= ChannelType.unorderedFlag;
  b[1] = type;
  b.writeUInt16BE(o.priority, 2);
  b.writeUInt32BE(o.maxRetransmits ?? o.maxPacketLifeTime ?? 0, 4);
  b.writeUInt16BE(label.length, 8);
  b.writeUInt16BE(protocol.length, 10);
  label.copy(b, 12);
  protocol.copy(b, 12 + label.length);
  return b;
}

export function encodeAck(): Buffer {
  return Buffer.from([MSG_ACK]);
}
