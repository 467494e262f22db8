// A peer's outbound Opus stream (sans-IO), the same at both ends: frames come from a bounded
// queue (what a media handler pushes) or, when the queue is empty, from an AudioSource that is
// asked once per slot (a handler that pulls, the client's pre-encoded frames). They leave one
// per 20 ms on the caller's clock, stamped as RTP (RFC 3550 §5.1; RFC 7587 §4.2: +960 ticks per
// 20 ms frame). After a gap — nothing to send in some slots, or slots skipped after a stall —
// the timestamp jumps by the elapsed time and the marker bit is set, as RFC 3551 §4.1 asks for
// the first packet of a talkspurt, so the far end's jitter buffer re-syncs instead of
// time-stretching; the sequence number moves by one, so the far end sees a pause, not a loss.
// Not here: SRTP (the peer protects what tick() returns) or a timer (the peer asks due()).
import type { Rng } from '../rng.ts';
import { DTMF_DIGITS, FRAME_MS, TICKS_PER_FRAME, encodeTelephoneEvent, writeRtp } from '../rtp/index.ts';

/**
 * RFC 4733 key presses: 100 ms of tone by default (one packet per 20 ms slot, each with the
 * duration so far; §2.5.1.4: the final packet is sent 3 times, E set, duration unchanged), then
 * a 60 ms pause (a silent slot each).
 */
export const DTMF_DEFAULT_DURATION_MS = 100;
/** §2.5.2.3: the duration field is 16 bits of the 48 kHz clock (1.365 s); longer presses would need segments, so they are refused. */
export const DTMF_MIN_DURATION_MS = 40;
export const DTMF_MAX_DURATION_MS = 1000;
/** Key presses waiting to be sent at once; more are refused (a handler cannot queue minutes of keys). */
export const DTMF_MAX_QUEUED = 64;
const DTMF_END_REPEATS = 3;
const DTMF_PAUSE_SLOTS = 3;
/** -10 dBm0, a typical key press level (RFC 4733 §2.3.4). */
const DTMF_VOLUME = 10;

/** 60 s of audio: a model that streams its reply faster than real time loses nothing. */
export const DEFAULT_QUEUE_FRAMES = 3000;
/** The ring starts this small and doubles up to maxQueueFrames, so an idle call holds little. */
const INITIAL_RING_FRAMES = 64;
/** A clock that falls further behind than this (a stalled event loop) skips slots instead of bursting. */
export const DEFAULT_MAX_LAG_MS = 3 * FRAME_MS;
/**
 * Queued frames whose slots a stall made late go at once, up to this far behind: skipping their
 * slots instead would hold every later frame back by the stall for the rest of the call (a
 * handler that queues in real time, as an agent echoing or speaking at 1×, never lets the queue
 * drain), and what is still queued at the hang-up is lost. A burst is what a browser's jitter
 * buffer expects after a sender stalls (libwebrtc sends audio as it is produced, bursts and all).
 */
export const DEFAULT_MAX_CATCH_UP_MS = 1000;

/** Frames produced on demand, one per 20 ms slot, when the queue is empty. */
export interface AudioSource {
  /** The frame for the slot being sent at `now`, or undefined for none in this slot. */
  pull(now: number): Buffer | undefined;
  /** `slots` slots were skipped after a stall; no frame is asked for them. */
  skip?(slots: number): void;
  /** True once the source has nothing more to give: the 20 ms clock stops when the queue is empty too. */
  readonly done?: boolean;
}

export interface RtpSenderOptions {
  readonly ssrc: number;
  readonly payloadType: number;
  /** RFC 3550 §5.1: the initial sequence number and timestamp are random. */
  readonly rng: Rng;
  readonly source?: AudioSource;
  readonly maxQueueFrames?: number;
  readonly maxLagMs?: number;
  /** Queued frames catch up (burst) after a stall of up to this; longer stalls skip slots (default 1 s). */
  readonly maxCatchUpMs?: number;
}

export class RtpSender {
  readonly ssrc: number;
  readonly #pt: number;
  readonly #max: number;
  readonly #maxLag: number;
  readonly #maxCatchUp: number;
  readonly #source: AudioSource | undefined;
  /** A ring buffer (never Array.shift: 3000 frames would make every dequeue O(n)). */
  #ring: (Buffer | undefined)[] = new Array<Buffer | undefined>(INITIAL_RING_FRAMES);
  #head = 0;
  #count = 0;
  /** Frames that left the queue since the start: sent, dropped when full, or cleared. */
  #taken = 0;
  #seq: number;
  #ts: number;
  #lastSentAt: number | undefined;
  /** When the next frame is due; undefined when idle (nothing queued, nothing to pull). */
  #due: number | undefined;
  #dropped = 0;
  #packets = 0;
  #octets = 0;
  /** Key presses to send: each slot of a press is one telephone-event packet instead of audio. */
  #dtmf: { readonly event: number; readonly pt: number; readonly toneSlots: number }[] = [];
  /** Slots of the current press sent so far, and its RTP timestamp (equal for all its packets). */
  #dtmfSlot = 0;
  #dtmfTs = 0;

  constructor(o: RtpSenderOptions) {
    this.ssrc = o.ssrc >>> 0;
    this.#pt = o.payloadType;
    this.#max = o.maxQueueFrames ?? DEFAULT_QUEUE_FRAMES;
    this.#maxLag = o.maxLagMs ?? DEFAULT_MAX_LAG_MS;
    this.#maxCatchUp = Math.max(this.#maxLag, o.maxCatchUpMs ?? DEFAULT_MAX_CATCH_UP_MS);
    this.#source = o.source;
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
    return this.#count;
  }
  /** Frames that left the queue (sent, dropped or cleared) since the start; with `queued`, marks say when a frame has gone. */
  get taken(): number {
    return this.#taken;
  }

  /** Queues one Opus packet; schedules a send at once if the stream was idle. */
  enqueue(payload: Buffer, now: number): void {
    if (this.#count >= this.#max) {
      this.#shift();
      this.#dropped++;
    }
    if (this.#count === this.#ring.length) this.#grow();
    this.#ring[(this.#head + this.#count) % this.#ring.length] = payload;
    this.#count++;
    // An idle stream keeps its 20 ms grid. A frame that comes up to maxLag after its slot takes
    // that slot and goes at once, and so do frames queued behind it (tick's catch-up); later than
    // that (a pause in the input), the last slot at or before now. Moving the grid to a late
    // frame's arrival, as before, held every later frame of a 1× input (an echo, an agent speaking
    // as it is produced) back by that lateness for the rest of the call.
    if (this.#due === undefined) {
      const next = this.#lastSentAt === undefined ? now : this.#lastSentAt + FRAME_MS;
      this.#due = now - next <= this.#maxLag ? next : next + FRAME_MS * Math.floor((now - next) / FRAME_MS);
    }
  }

  /**
   * Queues key presses ('0'-'9', '*', '#', 'A'-'D'; others are skipped) as RFC 4733 events with
   * payload type `pt`, each `durationMs` long (rounded to 20 ms slots, clamped to
   * DTMF_MIN_DURATION_MS..DTMF_MAX_DURATION_MS). False (nothing queued) past DTMF_MAX_QUEUED presses.
   */
  queueDtmf(digits: string, pt: number, now: number, durationMs = DTMF_DEFAULT_DURATION_MS): boolean {
    const ms = Math.min(DTMF_MAX_DURATION_MS, Math.max(DTMF_MIN_DURATION_MS, durationMs));
    const toneSlots = Math.round(ms / FRAME_MS);
    const events = [...digits.toUpperCase()].map((d) => DTMF_DIGITS.indexOf(d)).filter((e) => e >= 0);
    if (this.#dtmf.length + events.length > DTMF_MAX_QUEUED) return false;
    for (const event of events) this.#dtmf.push({ event, pt, toneSlots });
    if (this.#dtmf.length > 0) this.#due ??= this.#lastSentAt === undefined ? now : Math.max(now, this.#lastSentAt + FRAME_MS);
    return true;
  }

  /** Key presses queued and not yet fully sent. */
  get dtmfQueued(): number {
    return this.#dtmf.length;
  }

  /** At connect: starts the 20 ms clock, for frames queued before (their first slot is now) and for the source. */
  start(now: number): void {
    if (this.#lastSentAt === undefined && this.#due !== undefined && this.#due < now) this.#due = now;
    if (this.#source && !this.#source.done) this.#due ??= now;
  }

  /** Drops every queued frame (barge-in) and returns how many; the source, if any, goes on. */
  clear(): number {
    const n = this.#count;
    while (this.#count > 0) this.#shift();
    return n;
  }

  /** Stops the clock and forgets the queue (the call ended). */
  stop(): void {
    this.#due = undefined;
    this.clear();
  }

  due(): number | undefined {
    return this.#due;
  }

  /**
   * At or after `due()` (or up to `earlyMs` before it): the next RTP packet (clear text), or
   * undefined when this slot has nothing to send. Sending a little early keeps the slot, so the
   * timeline and the 20 ms spacing of later frames do not move.
   */
  tick(now: number, earlyMs = 0): Buffer | undefined {
    let slot = this.#due;
    if (slot === undefined || now + earlyMs < slot) return undefined;
    const behind = now - slot;
    if (behind > this.#maxLag && !(this.#count > 0 && behind <= this.#maxCatchUp)) {
      // Behind by more than maxLag with nothing queued (a source makes audio by time), or by more
      // than maxCatchUp: the slots in between are skipped (time moved on without us), not sent
      // in a burst that would arrive as one lump.
      const skipped = Math.floor((now - slot) / FRAME_MS);
      slot += skipped * FRAME_MS;
      this.#source?.skip?.(skipped);
    }
    if (this.#dtmf.length > 0) return this.#dtmfTick(slot, now);
    const payload = this.#shift() ?? this.#source?.pull(now);
    const more = this.#count > 0 || (this.#source !== undefined && !this.#source.done);
    this.#due = more ? slot + FRAME_MS : undefined;
    if (payload === undefined) return undefined;
    // Timestamps follow the 20 ms slots, not the timer's actual firing time, so a late timer
    // does not put a false gap into the media timeline.
    return this.#stamp(payload, slot);
  }

  /** One slot of the current key press: its packet (the audio of this slot is dropped, as a phone mutes it), or a pause slot. */
  #dtmfTick(slot: number, now: number): Buffer | undefined {
    const press = this.#dtmf[0];
    const n = this.#dtmfSlot++;
    // The audio this slot would have carried is consumed so the audio timeline stays in step.
    if (this.#shift() === undefined) this.#source?.pull(now);
    let packet: Buffer | undefined;
    const tone = press.toneSlots;
    if (n < tone + DTMF_END_REPEATS - 1) {
      const end = n >= tone - 1;
      const duration = Math.min(n, tone - 1) * TICKS_PER_FRAME + TICKS_PER_FRAME;
      const payload = encodeTelephoneEvent({ event: press.event, end, volume: DTMF_VOLUME, duration });
      // §2.5.1.2: the first packet sets the marker bit and fixes the event's timestamp.
      const first = n === 0;
      const packetTs = first ? undefined : this.#dtmfTs;
      packet = this.#stamp(payload, slot, press.pt, first, packetTs);
      if (first) this.#dtmfTs = this.#ts;
    } else if (n >= tone + DTMF_END_REPEATS - 1 + DTMF_PAUSE_SLOTS - 1) {
      this.#dtmf.shift();
      this.#dtmfSlot = 0;
    }
    const more = this.#dtmf.length > 0 || this.#count > 0 || (this.#source !== undefined && !this.#source.done);
    this.#due = more ? slot + FRAME_MS : undefined;
    return packet;
  }

  #shift(): Buffer | undefined {
    if (this.#count === 0) return undefined;
    const payload = this.#ring[this.#head];
    this.#ring[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.#ring.length;
    this.#count--;
    this.#taken++;
    return payload;
  }

  #grow(): void {
    const size = Math.min(this.#max, this.#ring.length * 2);
    const next = new Array<Buffer | undefined>(size);
    for (let i = 0; i < this.#count; i++) next[i] = this.#ring[(this.#head + i) % this.#ring.length];
    this.#ring = next;
    this.#head = 0;
  }

  #stamp(payload: Buffer, slot: number, pt = this.#pt, forceMarker = false, eventTs?: number): Buffer {
    // The first frame of the stream starts a talkspurt too.
    let marker = true;
    if (this.#lastSentAt !== undefined) {
      const elapsed = slot - this.#lastSentAt;
      // Continuous speech advances exactly one frame; after a gap, by the frames that fit in it.
      const frames = elapsed > FRAME_MS * 1.5 ? Math.round(elapsed / FRAME_MS) : 1;
      marker = frames > 1 || forceMarker;
      this.#ts = (this.#ts + frames * TICKS_PER_FRAME) >>> 0;
      this.#seq = (this.#seq + 1) & 0xffff;
    }
    this.#lastSentAt = slot;
    this.#packets++;
    this.#octets += payload.length;
    return writeRtp(marker, pt, this.#seq, eventTs ?? this.#ts, this.ssrc, payload);
  }
}
