// DataChannels: WebRTC data channels (RFC 8831) on one SCTP association, with DCEP (RFC 8832),
// sans-IO like the association it owns: handle(packet, now) / handleTimeout(now) in,
// pollTransmit() / pollEvent() / pollTimeout() out. A channel is one SCTP stream; its id follows
// the DTLS role (RFC 8832 §6: the DTLS client uses even ids, the server odd); a negotiated
// channel skips DCEP. Closing resets the outgoing stream (RFC 8831 §6.7); the peer answers by
// resetting its own, and the channel is closed once both directions are. Strings go with PPID
// 51, bytes with 53, and empty ones as one zero byte with PPID 56/57 (RFC 8831 §6.6).
// Not here: SDP, DTLS, the W3C object API (the peer integration builds those on this).
import { SctpAssociation } from '../sctp/association.ts';
import type { SctpEvent, SctpOptions } from '../sctp/types.ts';
import { decodeDcep, encodeAck, encodeOpen, Ppid } from './dcep.ts';
import { DATACHANNEL_DROPS, DataChannelCode, DataChannelError } from './types.ts';
import type { ChannelInfo, ChannelInit, DataChannelDropReason, DataChannelEvent } from './types.ts';
import type { SansIo } from '../output.ts';

const DEFAULT_PRIORITY = 256;
const ZERO = Buffer.from([0]);

interface Channel extends ChannelInfo {
  priority: number;
  state: 'connecting' | 'open' | 'closing';
  /** Our DATA_CHANNEL_OPEN is not acknowledged yet: send ordered until it is (RFC 8832 §6). */
  awaitingAck: boolean;
  outgoingReset: boolean;
  incomingReset: boolean;
}

export interface DataChannelsOptions extends SctpOptions {
  /** The DTLS role of this end: picks even (client) or odd (server) stream ids. */
  role: 'client' | 'server';
  /** Told of every message dropped (the `drops` counters as they happen), for process metrics. */
  onChannelDrop?: (reason: DataChannelDropReason) => void;
}

export class DataChannels implements SansIo<Buffer, DataChannelEvent> {
  readonly association: SctpAssociation;
  readonly #parity: 0 | 1;
  readonly #channels = new Map<number, Channel>();
  readonly #events: DataChannelEvent[] = [];
  readonly #drops = Object.fromEntries(DATACHANNEL_DROPS.reasons.map((r) => [r, 0])) as Record<DataChannelDropReason, number>;
  readonly #onDrop: ((reason: DataChannelDropReason) => void) | undefined;
  #connected = false;
  #now = 0;

  constructor(o: DataChannelsOptions) {
    if (o.role !== 'client' && o.role !== 'server')
      throw new DataChannelError(DataChannelCode.invalidChannel, "role must be 'client' or 'server'");
    this.association = new SctpAssociation(o);
    this.#parity = o.role === 'client' ? 0 : 1;
    this.#onDrop = o.onChannelDrop;
  }

  get drops(): Readonly<Record<DataChannelDropReason, number>> {
    return this.#drops;
  }

  /** Sends INIT (the DTLS client usually does; both may). */
  connect(now: number): void {
    this.association.connect(now);
  }

  handle(packet: Buffer, now: number): void {
    this.#now = now;
    this.association.handle(packet, now);
    this.#pump();
  }

  handleTimeout(now: number): void {
    this.#now = now;
    this.association.handleTimeout(now);
    this.#pump();
  }

  pollTransmit(): Buffer | undefined {
    const t = this.association.pollTransmit();
    this.#pump();
    return t;
  }

  pollEvent(): DataChannelEvent | undefined {
    this.#pump();
    return this.#events.shift();
  }

  pollTimeout(): number | undefined {
    return this.association.pollTimeout();
  }

  /** Opens a channel and returns its id; `channel_open` follows (at once once connected). */
  open(init: ChannelInit, now: number): number {
    this.#now = now;
    if (init.maxRetransmits !== undefined && init.maxPacketLifeTime !== undefined) {
      throw new DataChannelError(DataChannelCode.invalidChannel, 'maxRetransmits and maxPacketLifeTime are exclusive');
    }
    for (const v of [init.maxRetransmits, init.maxPacketLifeTime]) {
      if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffffffff))
        throw new DataChannelError(DataChannelCode.invalidChannel, 'reliability parameters are 32-bit unsigned integers');
    }
    if (Buffer.byteLength(init.label) > 0xffff || Buffer.byteLength(init.protocol ?? '') > 0xffff) {
      throw new DataChannelError(DataChannelCode.invalidChannel, 'label and protocol are at most 65535 bytes');
    }
    const negotiated = init.negotiated === true;
    if (negotiated && init.id === undefined) throw new DataChannelError(DataChannelCode.invalidChannel, 'a negotiated channel needs an id');
    const id = init.id ?? this.#freeId();
    if (!Number.isInteger(id) || id < 0 || id > 65534)
      throw new DataChannelError(DataChannelCode.invalidChannel, `channel id ${id} is not a stream id (0..65534)`);
    if (this.#channels.has(id)) throw new DataChannelError(DataChannelCode.idInUse, `channel id ${id} is in use`);
    const ch: Channel = {
      id,
      label: init.label,
      protocol: init.protocol ?? '',
      ordered: init.ordered !== false,
      maxRetransmits: init.maxRetransmits,
      maxPacketLifeTime: init.maxPacketLifeTime,
      negotiated,
      remote: false,
      priority: init.priority ?? DEFAULT_PRIORITY,
      state: 'connecting',
      awaitingAck: !negotiated,
      outgoingReset: false,
      incomingReset: false,
    };
    this.#channels.set(id, ch);
    if (this.#connected) this.#announce(ch);
    return id;
  }

  /**
   * Sends one message; true when queued, false when the send buffer is full (wait for
   * `buffered_low`). Throws when the channel is not open.
   */
  send(id: number, data: string | Buffer, now: number): boolean {
    this.#now = now;
    const ch = this.#channels.get(id);
    if (ch === undefined || ch.state !== 'open') throw new DataChannelError(DataChannelCode.notOpen, `channel ${id} is not open`);
    const text = typeof data === 'string';
    const bytes = text ? Buffer.from(data, 'utf8') : data;
    const empty = bytes.length === 0;
    const ppid = text ? (empty ? Ppid.stringEmpty : Ppid.string) : empty ? Ppid.binaryEmpty : Ppid.binary;
    const ok = this.association.send(id, ppid, empty ? ZERO : bytes, this.#sendOptions(ch), now);
    this.#pump();
    return ok;
  }

  /** Closes a channel by resetting its outgoing stream (RFC 8831 §6.7). Idempotent. */
  close(id: number, now: number): void {
    this.#now = now;
    const ch = this.#channels.get(id);
    if (ch === undefined || ch.state === 'closing') return;
    ch.state = 'closing';
    if (!this.#connected) {
      this.#closed(ch);
      return;
    }
    this.#resetOutgoing(ch);
    this.#pump();
  }

  bufferedAmount(id: number): number {
    return this.association.streamBufferedAmount(id);
  }

  /** `buffered_low` fires for the channel when its buffered bytes fall to `bytes` or below. */
  setBufferedAmountLowThreshold(id: number, bytes: number): void {
    this.association.setBufferedAmountLowThreshold(id, bytes);
  }

  channel(id: number): Readonly<ChannelInfo> | undefined {
    return this.#channels.get(id);
  }

  /** Ends the association (ABORT) and with it every channel. Idempotent. */
  closeAll(now: number): void {
    this.#now = now;
    this.association.close(now);
    this.#pump();
  }

  #sendOptions(ch: Channel): { unordered: boolean; maxRetransmits?: number; maxLifetimeMs?: number } {
    return { unordered: !ch.ordered && !ch.awaitingAck, maxRetransmits: ch.maxRetransmits, maxLifetimeMs: ch.maxPacketLifeTime };
  }

  #freeId(): number {
    const limit = this.association.outboundStreams || 65535;
    for (let id = this.#parity; id < limit; id += 2) if (!this.#channels.has(id)) return id;
    throw new DataChannelError(DataChannelCode.noFreeId, 'no free stream id for a new channel');
  }

  /** Sends our DATA_CHANNEL_OPEN (or, negotiated, nothing) and reports the channel open. */
  #announce(ch: Channel): void {
    if (ch.state !== 'connecting') return;
    if (ch.id >= this.association.outboundStreams) {
      this.#channels.delete(ch.id);
      this.#events.push({ type: 'channel_closed', id: ch.id });
      return;
    }
    if (!ch.negotiated) {
      const open = encodeOpen({
        ordered: ch.ordered,
        maxRetransmits: ch.maxRetransmits,
        maxPacketLifeTime: ch.maxPacketLifeTime,
        priority: ch.priority,
        label: ch.label,
        protocol: ch.protocol,
      });
      this.association.send(ch.id, Ppid.dcep, open, {}, this.#now);
    }
    ch.state = 'open';
    this.#events.push({ type: 'channel_open', ...info(ch) });
  }

  /** Turns the association's events into ours. */
  #pump(): void {
    for (let e = this.association.pollEvent(); e !== undefined; e = this.association.pollEvent()) this.#onSctp(e);
  }

  #onSctp(e: SctpEvent): void {
    switch (e.type) {
      case 'connected':
        this.#connected = true;
        this.#events.push({ type: 'connected' });
        for (const ch of [...this.#channels.values()]) this.#announce(ch);
        return;
      case 'message':
        return this.#onMessage(e.streamId, e.ppid, e.data);
      case 'stream_reset':
        for (const id of e.streamIds) {
          const ch = this.#channels.get(id);
          if (ch === undefined) continue;
          ch.incomingReset = true;
          if (ch.state !== 'closing') {
            ch.state = 'closing';
            this.#resetOutgoing(ch);
          }
          if (ch.outgoingReset) this.#closed(ch);
        }
        return;
      case 'stream_reset_done':
        for (const id of e.streamIds) {
          const ch = this.#channels.get(id);
          if (ch === undefined) continue;
          ch.outgoingReset = true;
          if (ch.incomingReset || !e.ok) this.#closed(ch);
        }
        return;
      case 'buffered_low':
        if (this.#channels.has(e.streamId)) this.#events.push({ type: 'buffered_low', id: e.streamId });
        return;
      case 'send_buffer_low':
        return;
      case 'closed':
        for (const ch of [...this.#channels.values()]) this.#closed(ch);
        this.#events.push(e.error === undefined ? { type: 'closed' } : { type: 'closed', error: e.error });
        return;
    }
  }

  #onMessage(id: number, ppid: number, data: Buffer): void {
    if (ppid === Ppid.dcep) return this.#onDcep(id, data);
    const ch = this.#channels.get(id);
    if (ch === undefined || ch.state === 'connecting') return this.#drop('no_channel');
    // Any message from the peer implies it saw our OPEN (RFC 8832 §6).
    ch.awaitingAck = false;
    switch (ppid) {
      case Ppid.string:
      case Ppid.stringPartial:
        this.#events.push({ type: 'message', id, data: data.toString('utf8'), binary: false });
        return;
      case Ppid.binary:
      case Ppid.binaryPartial:
        this.#events.push({ type: 'message', id, data, binary: true });
        return;
      case Ppid.stringEmpty:
        this.#events.push({ type: 'message', id, data: '', binary: false });
        return;
      case Ppid.binaryEmpty:
        this.#events.push({ type: 'message', id, data: Buffer.alloc(0), binary: true });
        return;
      default:
        this.#drop('unknown_ppid');
    }
  }

  #onDcep(id: number, data: Buffer): void {
    const m = decodeDcep(data);
    if (m === undefined) return this.#drop('malformed_dcep');
    const existing = this.#channels.get(id);
    if (m.type === 'ack') {
      if (existing === undefined) return this.#drop('no_channel');
      existing.awaitingAck = false;
      return;
    }
    if (existing !== undefined) return this.#drop('id_in_use');
    const ch: Channel = {
      id,
      label: m.label,
      protocol: m.protocol,
      ordered: m.ordered,
      maxRetransmits: m.maxRetransmits,
      maxPacketLifeTime: m.maxPacketLifeTime,
      negotiated: false,
      remote: true,
      priority: m.priority,
      state: 'open',
      awaitingAck: false,
      outgoingReset: false,
      incomingReset: false,
    };
    this.#channels.set(id, ch);
    // RFC 8832 §6: the ACK goes on the same stream, ordered and reliable.
    if (id < this.association.outboundStreams) this.association.send(id, Ppid.dcep, encodeAck(), {}, this.#now);
    this.#events.push({ type: 'channel_open', ...info(ch) });
  }

  #resetOutgoing(ch: Channel): void {
    if (this.association.state === 'established') this.association.resetStreams([ch.id], this.#now);
    else this.#closed(ch);
  }

  #closed(ch: Channel): void {
    if (this.#channels.get(ch.id) !== ch) return;
    this.#channels.delete(ch.id);
    this.#events.push({ type: 'channel_closed', id: ch.id });
  }

  #drop(reason: DataChannelDropReason): void {
    this.#drops[reason]++;
    this.#onDrop?.(reason);
  }
}

function info(ch: Channel): ChannelInfo {
  const out: ChannelInfo = {
    id: ch.id,
    label: ch.label,
    protocol: ch.protocol,
    ordered: ch.ordered,
    negotiated: ch.negotiated,
    remote: ch.remote,
  };
  if (ch.maxRetransmits !== undefined) out.maxRetransmits = ch.maxRetransmits;
  if (ch.maxPacketLifeTime !== undefined) out.maxPacketLifeTime = ch.maxPacketLifeTime;
  return out;
}
