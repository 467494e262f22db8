// The data-channel half of an AudioPeer, sans-IO: one SCTP association with its DataChannels
// manager (src/core/datachannel) riding the peer's DTLS as application data (RFC 8261 §3: one
// SCTP packet per DTLS record). Stream ids follow the DTLS role (RFC 8832 §6); the DTLS client
// sends INIT once DTLS connects (RFC 8841 §10.2 leaves it to either side; we cope with both, and
// with both at once); the association's timers join the peer's one deadline.
// Audio first: SCTP DATA is paced (./pacer.ts: cwnd/SRTT with a burst allowance and a cap per
// 20 ms slot) and one input sends at most `maxBurstPackets` of it, after the RTP and RTCP that
// were due. The association builds packets only as the pacer allows (setSendAllowance), so what
// it counts as sent has left; a backlog waits for the pacer's deadline, and a shell returns to its
// event loop (and the 20 ms audio timer) between bursts. Control chunks (SACK…) and audio are never paced.
// An SCTP close (ABORT, SHUTDOWN, failure) ends the channels and nothing else.
// Not here: DTLS, SDP, what a channel means to its owner (the transceiver's handler API).
import { DataChannels } from '../datachannel/index.ts';
import type { ChannelInfo, ChannelInit, DataChannelDropReason, DataChannelEvent } from '../datachannel/index.ts';
import type { Rng } from '../rng.ts';
import { Pacer } from './pacer.ts';
import type { PacerOptions } from './pacer.ts';
import { DEFAULT_MTU, SCTP_PORT } from '../sctp/index.ts';
import type { SctpDropReason, SctpOptions, SctpState, SctpStats } from '../sctp/index.ts';

/** RFC 8841 §6: a peer that announces no a=max-message-size takes messages of 64 KiB. */
export const DEFAULT_REMOTE_MAX_MESSAGE_SIZE = 65536;
/** SCTP packets one input may put in front of the next one (64 × 1200 bytes ≈ 77 KB). */
export const DEFAULT_MAX_BURST_PACKETS = 64;

/** What an AudioPeer needs to carry data channels; absent when SDP negotiated none. */
export interface PeerDataOptions {
  /** Our a=sctp-port and the far end's (RFC 8841 §5); default 5000. */
  readonly port?: number;
  readonly remotePort?: number;
  /** The far end's a=max-message-size (RFC 8841 §6): 0 = no limit; default 64 KiB. */
  readonly remoteMaxMessageSize?: number;
  /** Association limits (docs/datachannels.md); the rng and ports come from the peer and SDP. */
  readonly sctp?: Omit<SctpOptions, 'rng' | 'port' | 'remotePort'>;
  readonly maxBurstPackets?: number;
  /** How SCTP output is spread in time (./pacer.ts); the defaults suit a browser behind a relay. */
  readonly pacing?: PacerOptions;
  /** Send INIT once DTLS connects; default: when we are the DTLS client. Both may (simultaneous open, RFC 9260 §5.2.1). */
  readonly initiate?: boolean;
  /** Told of every SCTP packet or chunk the association drops (a process-wide metric). */
  readonly onSctpDrop?: (reason: SctpDropReason) => void;
  /** Told of every message the channel layer drops (a process-wide metric). */
  readonly onChannelDrop?: (reason: DataChannelDropReason) => void;
}

/** Channel-level counters of one peer (DCEP not counted as messages). */
export interface PeerDataStats {
  readonly state: SctpState;
  readonly messagesIn: number;
  readonly bytesIn: number;
  readonly messagesOut: number;
  readonly bytesOut: number;
  readonly channelsOpened: number;
  readonly channelsClosed: number;
  readonly sctp: Readonly<SctpStats>;
  readonly sctpDrops: Readonly<Record<SctpDropReason, number>>;
  readonly channelDrops: Readonly<Record<DataChannelDropReason, number>>;
}

interface Link {
  readonly role: 'client' | 'server';
  readonly rng: Rng;
  /** One SCTP packet for the far end: the peer sends it as a DTLS record. */
  readonly transmit: (packet: Buffer) => void;
  readonly event: (e: DataChannelEvent) => void;
}

export class PeerData {
  readonly #dc: DataChannels;
  readonly #link: Link;
  readonly #burst: number;
  readonly #mtu: number;
  readonly #pacer: Pacer;
  readonly #initiate: boolean;
  readonly #counts = { messagesIn: 0, bytesIn: 0, messagesOut: 0, bytesOut: 0, channelsOpened: 0, channelsClosed: 0 };
  #now = 0;
  /** DTLS is connected: packets may flow. */
  #live = false;
  #ended = false;

  constructor(link: Link, o: PeerDataOptions) {
    this.#link = link;
    this.#burst = Math.max(1, o.maxBurstPackets ?? DEFAULT_MAX_BURST_PACKETS);
    this.#pacer = new Pacer(o.pacing);
    this.#mtu = o.sctp?.mtu ?? DEFAULT_MTU;
    this.#initiate = o.initiate ?? link.role === 'client';
    this.#dc = new DataChannels({
      ...o.sctp,
      role: link.role,
      rng: link.rng,
      port: o.port ?? SCTP_PORT,
      remotePort: o.remotePort ?? SCTP_PORT,
      onDrop: o.onSctpDrop,
      onChannelDrop: o.onChannelDrop,
    });
    this.#dc.association.setRemoteMaxMessageSize(o.remoteMaxMessageSize ?? DEFAULT_REMOTE_MAX_MESSAGE_SIZE);
  }

  /** The largest message we receive (our a=max-message-size) and may send (the far end's). */
  get maxMessageSize(): number {
    return this.#dc.association.maxMessageSize;
  }

  /** DTLS connected: SCTP may speak. The initiator (by default the DTLS client) sends INIT; the other waits for one. */
  start(now: number): void {
    if (this.#live || this.#ended) return;
    this.#live = true;
    this.#now = now;
    if (this.#initiate) this.#dc.connect(now);
    this.pump(now);
  }

  /** One DTLS application-data record: an SCTP packet. */
  handle(packet: Buffer, now: number): void {
    if (!this.#live) return;
    this.#now = now;
    this.#dc.handle(packet, now);
    this.pump(now);
  }

  handleTimeout(now: number): void {
    if (!this.#live) return;
    this.#now = now;
    const due = this.#dc.pollTimeout();
    if (due !== undefined && now >= due) this.#dc.handleTimeout(now);
    this.pump(now);
  }

  /** The association's deadline, or while the pacer holds DATA back, when it lets more go. */
  pollTimeout(): number | undefined {
    if (!this.#live) return undefined;
    const dc = this.#dc.pollTimeout();
    if (!this.#dc.association.pacedBack) return dc;
    const paced = this.#pacer.nextSendAt(this.#now);
    return dc === undefined ? paced : Math.min(dc, paced);
  }

  /** Opens a channel toward the far end (before DTLS connects too: it opens once SCTP does). */
  open(init: ChannelInit, now: number): number {
    this.#now = now;
    const id = this.#dc.open(init, now);
    this.pump(now);
    return id;
  }

  /** Sends one message: false when the send buffer is full (wait for `buffered_low`). Throws when the channel is not open or the message too large. */
  send(id: number, data: string | Buffer, now: number): boolean {
    this.#now = now;
    const ok = this.#dc.send(id, data, now);
    if (ok) {
      this.#counts.messagesOut++;
      this.#counts.bytesOut += typeof data === 'string' ? Buffer.byteLength(data) : data.length;
    }
    this.pump(now);
    return ok;
  }

  close(id: number, now: number): void {
    this.#now = now;
    this.#dc.close(id, now);
    this.pump(now);
  }

  /** Bytes queued or unacknowledged on the whole association. */
  get bufferedTotal(): number {
    return this.#dc.association.bufferedAmount;
  }

  bufferedAmount(id: number): number {
    return this.#dc.bufferedAmount(id);
  }

  setBufferedAmountLowThreshold(id: number, bytes: number): void {
    this.#dc.setBufferedAmountLowThreshold(id, bytes);
  }

  channel(id: number): Readonly<ChannelInfo> | undefined {
    return this.#dc.channel(id);
  }

  /** Ends the association (ABORT when `sendAbort` and DTLS still carries it) and every channel. Idempotent. */
  end(now: number, sendAbort: boolean): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#now = now;
    this.#dc.closeAll(now);
    if (sendAbort && this.#live) this.pump(now, false);
    this.#live = false;
    // What DTLS can no longer carry is dropped; the events (every channel_closed, closed) still go out.
    while (this.#dc.pollTransmit() !== undefined);
    this.pump(now);
  }

  stats(): PeerDataStats {
    const a = this.#dc.association;
    return { state: a.state, ...this.#counts, sctp: { ...a.stats }, sctpDrops: { ...a.drops }, channelDrops: { ...this.#dc.drops } };
  }

  /** Hands the far end the SCTP packets the pacer allows (at most one burst of DATA) and every event; `paced` false sends all (the final ABORT). */
  pump(now: number, paced = true): void {
    this.#now = now;
    const dc = this.#dc;
    if (this.#live) {
      const pacer = this.#pacer;
      const a = dc.association;
      pacer.setRate(a.cwnd, a.srtt);
      const allowance = paced ? Math.min(pacer.allowance(now), this.#burst * this.#mtu) : Infinity;
      a.setSendAllowance(allowance, now);
      for (let p = dc.pollTransmit(); p !== undefined; p = dc.pollTransmit()) this.#link.transmit(p);
      // Only DATA is charged: SACKs and other control chunks are never paced, and charging them
      // let a call that receives fast (a SACK every second packet) starve its own sending.
      // What is left lapses: DATA is built only here, where the pacer is charged for it.
      if (paced) {
        pacer.sent(allowance - a.sendAllowance, now);
        a.setSendAllowance(0, now);
      }
    }
    for (let e = dc.pollEvent(); e !== undefined; e = dc.pollEvent()) {
      if (e.type === 'message') {
        this.#counts.messagesIn++;
        this.#counts.bytesIn += typeof e.data === 'string' ? Buffer.byteLength(e.data) : e.data.length;
      } else if (e.type === 'channel_open') this.#counts.channelsOpened++;
      else if (e.type === 'channel_closed') this.#counts.channelsClosed++;
      this.#link.event(e);
    }
  }
}
