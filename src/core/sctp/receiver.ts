// The receive side of an association (RFC 9260 §6.2, §6.5, §6.7; RFC 3758 §3.6): each DATA chunk
// is classified (new, duplicate, too far ahead, bad stream), its bytes go to reassembly within
// the limits, and the SACK policy decides when a SACK is owed (every second DATA packet, at once
// on gaps, duplicates, FORWARD-TSN or the I bit, else after the delayed-ack time) and what window
// it advertises. In-order SACKs are at least minSackIntervalMs apart (then they cover more
// packets, at most MAX_PACKETS_PER_SACK): a peer sending thousands of packets a second would
// otherwise get a SACK datagram for every second one, and those small datagrams fill a
// browser's UDP receive buffer (charged per datagram, not per byte) ahead of our DATA and RTP.
// Not here: sending the SACK or acting on a violation (association.ts).
import type { SctpBudget } from './budget.ts';
import { DataFlag, decodeData, decodeForwardTsn, encodeCause, encodeSack } from './chunks.ts';
import { ErrorCause } from './errors.ts';
import type { SctpDropReason } from './errors.ts';
import { COMMON_HEADER, DATA_HEADER } from './packet.ts';
import { HELD_CHUNK_OVERHEAD, Reassembly } from './reassembly.ts';
import type { Delivered } from './reassembly.ts';
import { tsnAdd } from './serial.ts';
import { MAX_TSN_AHEAD, TsnTracker } from './tsn-tracker.ts';
import type { SctpStats } from './types.ts';

/** What one DATA chunk asks of the association besides counting. */
export type DataOutcome =
  | { kind: 'ok' }
  | { kind: 'drop'; reason: SctpDropReason }
  /** RFC 9260 §6.5: acknowledged and discarded; this ERROR value is owed to the peer. */
  | { kind: 'report'; reason: SctpDropReason; error: Buffer }
  /** The peer broke the protocol: ABORT with this cause and end. */
  | { kind: 'abort'; cause: number; info: Buffer; message: string };

/** In-order SACKs may be spaced, but one is owed by this many DATA packets whatever the time. */
export const MAX_PACKETS_PER_SACK = 16;

export interface ReceiverSetup {
  peerInitialTsn: number;
  inboundStreams: number;
  maxBytes: number;
  maxMessageSize: number;
  budget: SctpBudget;
  delayedAckMs: number;
  minSackIntervalMs: number;
  mtu: number;
  stats: SctpStats;
}

export class Receiver {
  readonly tracker: TsnTracker;
  readonly reassembly: Reassembly;
  /** Whole messages since the last take (the association turns them into events). */
  readonly delivered: Delivered[] = [];
  readonly #o: ReceiverSetup;
  #sackNow = false;
  #sackAt: number | undefined;
  #packetsUnacked = 0;
  #lastSackAt = -Infinity;

  constructor(o: ReceiverSetup) {
    this.#o = o;
    this.tracker = new TsnTracker(o.peerInitialTsn);
    this.reassembly = new Reassembly({ maxBytes: o.maxBytes, maxMessageSize: o.maxMessageSize, budget: o.budget });
  }

  /** When the delayed SACK is due (undefined: none pending). */
  get sackAt(): number | undefined {
    return this.#sackAt;
  }

  get sackOwed(): boolean {
    return this.#sackNow;
  }

  /** A SACK goes with the next packet (a timer expired, or something asked for one). */
  requestSack(): void {
    this.#sackNow = true;
  }

  onData(flags: number, value: Buffer): DataOutcome {
    const c = decodeData(flags, value);
    if (c === undefined) return { kind: 'drop', reason: 'malformed_chunk' };
    this.#o.stats.dataChunksIn++;
    if (c.payload.length === 0) {
      // RFC 9260 §6.2: a DATA chunk with no user data is answered with ABORT.
      const info = Buffer.alloc(4);
      info.writeUInt32BE(c.tsn, 0);
      return { kind: 'abort', cause: ErrorCause.noUserData, info, message: `DATA chunk ${c.tsn} carries no user data` };
    }
    const cls = this.tracker.classify(c.tsn);
    if (cls === 'duplicate') {
      this.tracker.noteDuplicate(c.tsn);
      this.#o.stats.duplicateTsnsIn++;
      this.#sackNow = true;
      return { kind: 'ok' };
    }
    if (cls === 'too_far') return { kind: 'drop', reason: 'tsn_out_of_window' };
    if (c.streamId >= this.#o.inboundStreams) {
      this.tracker.record(c.tsn);
      const info = Buffer.alloc(4);
      info.writeUInt16BE(c.streamId, 0);
      return { kind: 'report', reason: 'invalid_stream', error: encodeCause(ErrorCause.invalidStreamIdentifier, info) };
    }
    const inSequence = c.tsn === tsnAdd(this.tracker.cumTsn, 1);
    const r = this.reassembly.add(c, inSequence, this.delivered);
    if (r === 'full') {
      this.#sackNow = true;
      return { kind: 'drop', reason: 'receive_window_full' };
    }
    if (r === 'too_large') {
      const message = `message on stream ${c.streamId} exceeds max-message-size ${this.#o.maxMessageSize}`;
      return { kind: 'abort', cause: ErrorCause.protocolViolation, info: Buffer.from(message), message };
    }
    this.tracker.record(c.tsn);
    this.#o.stats.bytesIn += c.payload.length;
    if ((flags & DataFlag.immediate) !== 0) this.#sackNow = true;
    return { kind: 'ok' };
  }

  /** RFC 9260 §6.2, §6.7: after a packet that carried DATA. `quick`: no delaying (shutting down). */
  afterDataPacket(now: number, quick: boolean): void {
    this.#packetsUnacked++;
    if (quick || this.tracker.hasGaps || this.tracker.duplicatesPending || this.#o.delayedAckMs === 0) {
      this.#sackNow = true;
    } else if (this.#packetsUnacked >= 2) {
      const spacedAt = this.#lastSackAt + this.#o.minSackIntervalMs;
      if (now >= spacedAt || this.#packetsUnacked >= MAX_PACKETS_PER_SACK) this.#sackNow = true;
      else this.#sackAt = Math.min(this.#sackAt ?? Infinity, spacedAt);
    } else {
      this.#sackAt ??= now + this.#o.delayedAckMs;
    }
  }

  /** RFC 3758 §3.6; a drop reason, or undefined when handled (a SACK is owed either way). */
  onForwardTsn(v: Buffer): SctpDropReason | undefined {
    const f = decodeForwardTsn(v);
    if (f === undefined) return 'malformed_chunk';
    const ahead = this.tracker.distance(f.newCumTsn);
    this.#sackNow = true;
    if (ahead <= 0) return undefined; // nothing new, still answered with a SACK
    if (ahead > MAX_TSN_AHEAD) return 'invalid_forward_tsn';
    this.tracker.forward(f.newCumTsn);
    this.reassembly.forwardTsn(
      f.newCumTsn,
      f.streams.filter((s) => s.streamId < this.#o.inboundStreams),
      this.delivered,
    );
    return undefined;
  }

  /** The SACK value owed now; clears what made it owed. */
  takeSack(now: number): Buffer {
    this.#lastSackAt = now;
    this.#sackNow = false;
    this.#sackAt = undefined;
    this.#packetsUnacked = 0;
    // Our window in the sender's terms (payload bytes): the room we have, less the per-chunk
    // overhead we charge, for full-size chunks.
    const maxPayload = this.#o.mtu - COMMON_HEADER - DATA_HEADER;
    const aRwnd = Math.floor((this.reassembly.room * maxPayload) / (maxPayload + HELD_CHUNK_OVERHEAD));
    this.#o.stats.sacksOut++;
    return encodeSack(this.tracker.sack(aRwnd));
  }

  /** Frees everything held (the association ended). */
  clear(): void {
    this.reassembly.clear();
    this.delivered.length = 0;
    this.#sackNow = false;
    this.#sackAt = undefined;
  }
}
