// A call's data channels as its media handler sees them (HandlerChannel, handlers/media-handler.ts),
// over the peer's PeerData. What the handler asks (open, send, close) is queued and applied when
// the session is next driven (at the end of the current input, or after onWake), so SCTP always
// runs with a fresh `now`; send() answers at once from the bytes buffered plus those queued.
// The channel's callbacks run inside the drive and are contained like onAudio.
// Limits (docs/datachannels.md): MAX_CHANNELS_PER_CALL open channels (a caller's extra ones are
// closed at once and counted), the send buffer of the call (maxSendBufferBytes), the caller's
// a=max-message-size. Not here: SCTP, DCEP (src/core), what a call is (session.ts).
import type { ChannelInfo, ChannelInit, DataChannelEvent } from '../../core/datachannel/index.ts';
import { DataChannelCode, DataChannelError } from '../../core/datachannel/index.ts';
import type { PeerData } from '../../core/peer/index.ts';
import { SctpCode, SctpError } from '../../core/sctp/index.ts';
import type { HandlerErrorListener, HandlerMethod } from '../handlers/contain.ts';
import type { HandlerChannel, HandlerChannelState } from '../handlers/media-handler.ts';

/** Channels one call may have open, whoever opened them. */
export const MAX_CHANNELS_PER_CALL = 64;
/** What a queued message costs beyond its bytes (so empty messages are not free). */
const OP_OVERHEAD = 64;

/** Why the call's channel layer refused something the caller or handler did (counted per call and in /metrics). */
export type CallChannelDrop = 'send_buffer_full' | 'too_many_channels';

export interface CallChannelsOptions {
  readonly data: PeerData;
  /** The caller's a=max-message-size (0: no limit). */
  readonly maxSendMessageSize: number;
  /** The call's send buffer (SCTP maxSendBufferBytes). */
  readonly maxBufferedBytes: number;
  readonly onChannel: (channel: HandlerChannel) => void;
  readonly onError: HandlerErrorListener;
  /** Something was queued outside a drive: drive me. */
  readonly wake: () => void;
  /** Told of every drop of ours (a process-wide metric). */
  readonly onDrop?: (reason: CallChannelDrop) => void;
}

type Op =
  | { readonly kind: 'open'; readonly ch: Channel; readonly init: ChannelInit }
  | { readonly kind: 'send'; readonly ch: Channel; readonly data: string | Buffer; readonly cost: number }
  | { readonly kind: 'close'; readonly ch: Channel };

class Channel implements HandlerChannel {
  readonly #owner: CallChannels;
  id: number;
  label: string;
  protocol: string;
  ordered: boolean;
  maxRetransmits: number | undefined;
  maxPacketLifeTime: number | undefined;
  readonly remote: boolean;
  readyState: HandlerChannelState;
  /** Bytes queued here and not yet given to SCTP. */
  pending = 0;
  #threshold = 0;
  onOpen: (() => void) | undefined;
  onMessage: ((data: string | Buffer) => void) | undefined;
  onBufferedAmountLow: (() => void) | undefined;
  onClose: (() => void) | undefined;

  constructor(owner: CallChannels, info: Omit<ChannelInfo, 'negotiated'>, state: HandlerChannelState) {
    this.#owner = owner;
    this.id = info.id;
    this.label = info.label;
    this.protocol = info.protocol;
    this.ordered = info.ordered;
    this.maxRetransmits = info.maxRetransmits;
    this.maxPacketLifeTime = info.maxPacketLifeTime;
    this.remote = info.remote;
    this.readyState = state;
  }

  get bufferedAmount(): number {
    return this.#owner.buffered(this) + this.pending;
  }
  get bufferedAmountLowThreshold(): number {
    return this.#threshold;
  }
  set bufferedAmountLowThreshold(bytes: number) {
    if (!Number.isInteger(bytes) || bytes < 0)
      throw new DataChannelError(DataChannelCode.invalidChannel, 'bufferedAmountLowThreshold is a byte count');
    this.#threshold = bytes;
    this.#owner.threshold(this);
  }

  send(data: string | Buffer): boolean {
    return this.#owner.send(this, data);
  }

  close(): void {
    this.#owner.close(this);
  }
}

export class CallChannels {
  readonly #o: CallChannelsOptions;
  readonly #channels = new Map<number, Channel>();
  readonly #ops: Op[] = [];
  #pendingBytes = 0;
  /** Channels open or opening (the limit counts both). */
  #count = 0;
  #ended = false;
  readonly drops: Record<CallChannelDrop, number> = { send_buffer_full: 0, too_many_channels: 0 };

  constructor(o: CallChannelsOptions) {
    this.#o = o;
  }

  open(init: ChannelInit): HandlerChannel {
    if (this.#ended) throw new DataChannelError(DataChannelCode.notOpen, 'the call has ended');
    if (this.#count >= MAX_CHANNELS_PER_CALL)
      throw new DataChannelError(DataChannelCode.invalidChannel, `a call has at most ${MAX_CHANNELS_PER_CALL} channels`);
    if (typeof init?.label !== 'string') throw new DataChannelError(DataChannelCode.invalidChannel, 'a channel needs a label');
    const ch = new Channel(
      this,
      {
        id: init.id ?? -1,
        label: init.label,
        protocol: init.protocol ?? '',
        ordered: init.ordered !== false,
        maxRetransmits: init.maxRetransmits,
        maxPacketLifeTime: init.maxPacketLifeTime,
        remote: false,
      },
      'connecting',
    );
    this.#count++;
    this.#queue({ kind: 'open', ch, init });
    return ch;
  }

  send(ch: Channel, data: string | Buffer): boolean {
    if (ch.readyState !== 'open' || this.#ended) return false;
    if (typeof data !== 'string' && !Buffer.isBuffer(data))
      throw new DataChannelError(DataChannelCode.invalidChannel, 'send() takes a string or a Buffer');
    const bytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    const max = this.#o.maxSendMessageSize;
    if (max > 0 && bytes > max) throw new SctpError(SctpCode.messageTooLarge, `message of ${bytes} bytes exceeds the caller's ${max}`);
    const cost = bytes + OP_OVERHEAD;
    if (this.#o.data.bufferedTotal + this.#pendingBytes + cost > this.#o.maxBufferedBytes) {
      this.#drop('send_buffer_full');
      return false;
    }
    ch.pending += cost;
    this.#pendingBytes += cost;
    this.#queue({ kind: 'send', ch, data, cost });
    return true;
  }

  close(ch: Channel): void {
    if (ch.readyState === 'closing' || ch.readyState === 'closed') return;
    ch.readyState = 'closing';
    this.#queue({ kind: 'close', ch });
  }

  buffered(ch: Channel): number {
    return ch.id >= 0 && ch.readyState !== 'closed' ? this.#o.data.bufferedAmount(ch.id) : 0;
  }

  threshold(ch: Channel): void {
    if (ch.id >= 0 && ch.readyState === 'open') this.#o.data.setBufferedAmountLowThreshold(ch.id, ch.bufferedAmountLowThreshold);
  }

  /** Applies what the handler queued, in order, at `now` (the session's drive). */
  apply(now: number): void {
    const data = this.#o.data;
    for (let i = 0; i < this.#ops.length; i++) {
      const op = this.#ops[i];
      const ch = op.ch;
      if (op.kind === 'send') {
        ch.pending -= op.cost;
        this.#pendingBytes -= op.cost;
        if (ch.readyState !== 'open') continue;
        // A process-wide budget that filled since send() answered: the message is dropped, counted.
        if (!data.send(ch.id, op.data, now)) this.#drop('send_buffer_full');
      } else if (op.kind === 'open') {
        if (ch.readyState !== 'connecting') continue;
        try {
          ch.id = data.open(op.init, now);
          this.#channels.set(ch.id, ch);
        } catch (err) {
          this.#gone(ch);
          this.#call('onClose', ch.onClose);
          this.#o.onError('onOpen', err);
        }
      } else if (ch.id >= 0 && this.#channels.get(ch.id) === ch) {
        data.close(ch.id, now);
      } else if (ch.readyState !== 'closed') {
        // Closed before its open was applied.
        this.#gone(ch);
        this.#call('onClose', ch.onClose);
      }
    }
    this.#ops.length = 0;
  }

  /** A data-channel event of the peer. */
  onEvent(e: DataChannelEvent): void {
    switch (e.type) {
      case 'channel_open': {
        const mine = this.#channels.get(e.id);
        if (mine !== undefined && !e.remote) {
          mine.readyState = 'open';
          this.threshold(mine);
          this.#call('onOpen', mine.onOpen);
          return;
        }
        const over = this.#count >= MAX_CHANNELS_PER_CALL;
        const ch = this.#track(e);
        this.#count++;
        if (!over) return this.#o.onChannel(ch);
        // Past the limit: closed at once (its id is reset, the caller sees it close); the handler never sees it.
        this.#drop('too_many_channels');
        this.close(ch);
        return;
      }
      case 'message': {
        const ch = this.#channels.get(e.id);
        if (ch !== undefined && ch.readyState === 'open') this.#call('onMessage', ch.onMessage, e.data);
        return;
      }
      case 'buffered_low': {
        const ch = this.#channels.get(e.id);
        if (ch !== undefined) this.#call('onBufferedAmountLow', ch.onBufferedAmountLow);
        return;
      }
      case 'channel_closed': {
        const ch = this.#channels.get(e.id);
        if (ch === undefined) return;
        this.#channels.delete(e.id);
        const counted = ch.readyState !== 'closed';
        this.#gone(ch);
        if (counted) this.#call('onClose', ch.onClose);
        return;
      }
      case 'closed':
        this.#ended = true;
        return;
      case 'connected':
        return;
    }
  }

  /** The call ended: no callbacks after this. */
  end(): void {
    this.#ended = true;
    this.#ops.length = 0;
    this.#pendingBytes = 0;
    for (const ch of this.#channels.values()) ch.readyState = 'closed';
    this.#channels.clear();
  }

  get channelCount(): number {
    return this.#count;
  }

  #track(info: ChannelInfo): Channel {
    const ch = new Channel(this, info, 'open');
    this.#channels.set(info.id, ch);
    return ch;
  }

  #gone(ch: Channel): void {
    if (ch.readyState === 'closed') return;
    ch.readyState = 'closed';
    this.#count--;
  }

  #drop(reason: CallChannelDrop): void {
    this.drops[reason]++;
    this.#o.onDrop?.(reason);
  }

  #queue(op: Op): void {
    this.#ops.push(op);
    this.#o.wake();
  }

  #call<A extends unknown[]>(method: HandlerMethod, fn: ((...args: A) => void) | undefined, ...args: A): void {
    if (fn === undefined || this.#ended) return;
    try {
      fn(...args);
    } catch (err) {
      this.#o.onError(method, err);
    }
  }
}
