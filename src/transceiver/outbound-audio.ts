// The call's outbound Opus stream (sans-IO): a bounded queue of frames from the media handler,
// paced at one frame per 20 ms on the caller's clock, stamped as RTP (RFC 3550 §5.1, RFC 7587
// §4.2: 48 kHz clock, so +960 per 20 ms frame). After a gap (the handler had nothing) the
// timestamp jumps by the elapsed time and the marker bit is set on the first frame, as RFC 3551
// §4.1 asks for the first packet of a talkspurt, so the browser's jitter buffer re-syncs instead
// of time-stretching. It does not encrypt (the session's SRTP does) and has no timer of its own:
// the session asks for `due()` and calls `tick(now)` when it passes.
import type { Rng } from '../core/rng.ts';
import { FRAME_MS, TICKS_PER_FRAME, writeRtp } from '../core/rtp/index.ts';

/** About one second of audio: a handler that bursts a reply may run this far ahead. */
export const DEFAULT_QUEUE_FRAMES = 50;
/** If the pacing loop falls this far behind (a stalled event loop), restart it instead of bursting. */
const MAX_LAG_MS = 3 * FRAME_MS;

export interface OutboundAudioOptions {
  readonly ssrc: number;
  readonly payloadType: number;
  /** RFC 3550 §5.1: the initial sequence number and timestamp are random. */
  readonly rng: Rng;
  readonly maxQueueFrames?: number;
}

export class OutboundAudio {
  readonly ssrc: number;
  readonly #pt: number;
  readonly #max: number;
  readonly #queue: Buffer[] = [];
  #seq: number;
  #ts: number;
  #lastSentAt: number | undefined;
  /** When the next frame is due; undefined when idle (nothing queued, nothing to pull). */
  #due: number | undefined;
  #dropped = 0;
  #packets = 0;
  #octets = 0;

  constructor(o: OutboundAudioOptions) {
    this.ssrc = o.ssrc >>> 0;
    this.#pt = o.payloadType;
    this.#max = o.maxQueueFrames ?? DEFAULT_QUEUE_FRAMES;
    const r = o.rng.bytes(6);
    this.#seq = r.readUInt16BE(0);
    this.#ts = r.readUInt32BE(2);
  }

  /** Frames dropped because the queue was full (the oldest goes first). */
  get dropped(): number {
    return this.#dropped;
  }
  /** RFC 3550 §6.4.1 sender's packet and octet counts (payload octets only). */
  get packetsSent(): number {
    return this.#packets;
  }
  get octetsSent(): number {
    return this.#octets;
  }
  /** The RTP timestamp of the last frame sent, for the SR (RFC 3550 §6.4.1). */
  get lastTimestamp(): number {
    return this.#ts;
  }
  get lastSentAt(): number | undefined {
    return this.#lastSentAt;
  }
  get queued(): number {
    return this.#queue.length;
  }

  /** Queues one Opus packet; schedules a send at once if the stream was idle. */
  enqueue(payload: Buffer, now: number): void {
    if (this.#queue.length >= this.#max) {
      this.#queue.shift();
      this.#dropped++;
    }
    this.#queue.push(payload);
    this.#due ??= this.#lastSentAt === undefined ? now : Math.max(now, this.#lastSentAt + FRAME_MS);
  }

  /** Keeps the 20 ms clock running even with an empty queue (for handlers that are pulled). */
  keepTicking(now: number): void {
    this.#due ??= now;
  }

  due(): number | undefined {
    return this.#due;
  }

  /**
   * At or after `due()` (or up to `earlyMs` before it): the next RTP packet (clear text), or
   * undefined when there is nothing to send. Sending a little early keeps the slot, so the
   * timeline and the 20 ms spacing of later frames do not move. `pull` is asked for a frame when the queue is empty; with `pull` the clock keeps
   * running through silence, without it the stream goes idle until the next enqueue.
   */
  tick(now: number, pull?: () => Buffer | undefined, earlyMs = 0): Buffer | undefined {
    if (this.#due === undefined || now + earlyMs < this.#due) return undefined;
    const slot = this.#due;
    const payload = this.#queue.shift() ?? pull?.();
    const next = slot + FRAME_MS;
    this.#due = this.#queue.length > 0 || pull ? (next < now - MAX_LAG_MS ? now : next) : undefined;
    if (payload === undefined) return undefined;
    // Timestamps follow the 20 ms slots, not the timer's actual firing time, so a late timer
    // does not put a false gap into the media timeline.
    return this.#stamp(payload, slot);
  }

  #stamp(payload: Buffer, slot: number): Buffer {
    // The first frame of the stream starts a talkspurt too.
    let marker = true;
    if (this.#lastSentAt !== undefined) {
      const elapsed = slot - this.#lastSentAt;
      // Continuous speech advances exactly one frame; after a gap, by the frames that fit in it.
      const frames = elapsed > FRAME_MS * 1.5 ? Math.round(elapsed / FRAME_MS) : 1;
      marker = frames > 1;
      this.#ts = (this.#ts + frames * TICKS_PER_FRAME) >>> 0;
      this.#seq = (this.#seq + 1) & 0xffff;
    }
    this.#lastSentAt = slot;
    this.#packets++;
    this.#octets += payload.length;
    return writeRtp(marker, this.#pt, this.#seq, this.#ts, this.ssrc, payload);
  }
}

