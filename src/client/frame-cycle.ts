// What a client call sends: pre-encoded 20 ms Opus frames, shared between calls, handed to the
// peer's RTP sender one per slot (an AudioSource), cycling through the list until `total` frames
// have gone. Slots the sender skips after a stall of this process are skipped here too — the
// frames for them are never sent, so the call still ends on time and the echo meter matches no
// reply to them. Not here: pacing or RTP (src/core/peer/rtp-sender.ts).
import type { AudioSource } from '../core/peer/index.ts';
import type { EchoRttMeter } from './echo-rtt.ts';

export class FrameCycle implements AudioSource {
  readonly #frames: readonly Buffer[];
  readonly #total: number;
  readonly #echo: EchoRttMeter | undefined;
  /** Frames sent or skipped so far: the index of the next one. */
  #next = 0;
  #skipped = 0;

  constructor(frames: readonly Buffer[], total: number, echo: EchoRttMeter | undefined) {
    if (frames.length === 0) throw new RangeError('a frame cycle needs at least one frame');
    this.#frames = frames;
    this.#total = total;
    this.#echo = echo;
  }

  /** Frames not sent because this process stalled (client-side starvation, not the network). */
  get skipped(): number {
    return this.#skipped;
  }

  get done(): boolean {
    return this.#next >= this.#total;
  }

  pull(now: number): Buffer | undefined {
    if (this.done) return undefined;
    this.#echo?.onSend(this.#next, now);
    return this.#frames[this.#next++ % this.#frames.length];
  }

  skip(slots: number): void {
    const n = Math.min(slots, this.#total - this.#next);
    if (n <= 0) return;
    this.#echo?.onSkip(this.#next, n);
    this.#next += n;
    this.#skipped += n;
  }
}
