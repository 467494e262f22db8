// A data-channel probe for `parley call --datachannel` and `parley load --datachannel`: opens one
// ordered, reliable channel on a ClientCall, sends a message (a text, or N bytes) once or every
// `everyMs`, and matches what comes back (the echo handler returns each message on its channel)
// to what was sent, in order: byte-exact or counted as a mismatch, with its round-trip time.
// Sans-IO: time is a parameter; the caller drains the call after send(). Not here: timers.
import type { DataChannelEvent } from '../core/datachannel/index.ts';
import type { PeerData } from '../core/peer/index.ts';

export interface ChannelProbeOptions {
  readonly label: string;
  /** Sent as text (PPID 51) when a string, as binary (PPID 53) when a Buffer. */
  readonly message: string | Buffer;
  /** Told of every reply: what came back and its round trip. */
  readonly onReply?: (data: string | Buffer, rttMs: number) => void;
}

export interface ChannelProbeStats {
  readonly label: string;
  readonly open: boolean;
  readonly sent: number;
  readonly received: number;
  /** Sent and not come back (yet, or ever: the channel is reliable, so only at hang-up). */
  readonly outstanding: number;
  /** Replies that were not byte-exact copies of what was sent in that place. */
  readonly mismatched: number;
  /** Sends the send buffer refused. */
  readonly refused: number;
  readonly rttMsAvg: number | undefined;
  readonly rttMsMax: number | undefined;
  readonly rttSamples: readonly number[];
}

/** Round trips kept for percentiles (a long load run keeps the first ones). */
const MAX_SAMPLES = 100_000;

export class ChannelProbe {
  readonly #o: ChannelProbeOptions;
  readonly #inFlight: number[] = [];
  readonly #rtts: number[] = [];
  #id: number | undefined;
  #open = false;
  #sent = 0;
  #received = 0;
  #mismatched = 0;
  #refused = 0;
  #rttSum = 0;
  #rttMax = 0;

  constructor(o: ChannelProbeOptions) {
    this.#o = o;
  }

  get open(): boolean {
    return this.#open;
  }

  /** Opens the channel (it opens once SCTP does). */
  start(data: PeerData, now: number): void {
    this.#id = data.open({ label: this.#o.label }, now);
  }

  /** Sends one message if the channel is open; false when it is not or the send buffer is full. */
  send(data: PeerData, now: number): boolean {
    if (!this.#open || this.#id === undefined) return false;
    if (!data.send(this.#id, this.#o.message, now)) {
      this.#refused++;
      return false;
    }
    this.#sent++;
    this.#inFlight.push(now);
    return true;
  }

  /** The call's data-channel events; true when this one opened our channel. */
  onEvent(e: DataChannelEvent, now: number): boolean {
    if (e.type === 'channel_open' && e.id === this.#id) {
      this.#open = true;
      return true;
    }
    if (e.type === 'channel_closed' && e.id === this.#id) this.#open = false;
    if (e.type === 'closed') this.#open = false;
    if (e.type !== 'message' || e.id !== this.#id) return false;
    const at = this.#inFlight.shift();
    this.#received++;
    const m = this.#o.message;
    const exact = typeof m === 'string' ? e.data === m : Buffer.isBuffer(e.data) && m.equals(e.data);
    if (!exact) this.#mismatched++;
    if (at === undefined) return false;
    const rtt = now - at;
    this.#rttSum += rtt;
    this.#rttMax = Math.max(this.#rttMax, rtt);
    if (this.#rtts.length < MAX_SAMPLES) this.#rtts.push(rtt);
    this.#o.onReply?.(e.data, rtt);
    return false;
  }

  stats(): ChannelProbeStats {
    const n = this.#rtts.length;
    return {
      label: this.#o.label,
      open: this.#open,
      sent: this.#sent,
      received: this.#received,
      outstanding: this.#inFlight.length,
      mismatched: this.#mismatched,
      refused: this.#refused,
      rttMsAvg: this.#received > 0 ? this.#rttSum / this.#received : undefined,
      rttMsMax: n > 0 ? this.#rttMax : undefined,
      rttSamples: this.#rtts,
    };
  }
}
