// PCM handlers: the handler API for agents that want samples, not Opus. pcmHandler() wraps a
// PcmHandler into a MediaHandlerFactory that does the media work once for everyone:
// caller Opus → jitter buffer (src/media/jitter-buffer.ts: in order, one frame per 20 ms of
// media; a lost frame rebuilt from the next packet's in-band FEC, else by libopus's PLC —
// media/opus-recovery.ts — or, without libopus, a faded repeat; each counted) → libopus decodes
// straight to the handler's rate (8, 16, 24 or 48 kHz; media/opus.ts, no resampler) → onPcm(); and
// back: write(pcm) of any length at that rate → 20 ms frames → Opus (encoded from that rate) → the call's paced output queue, bounded in
// seconds, write() returning false (and dropping) past the bound. flush() is barge-in (queued
// audio and the partial frame go at once); marks are the call's (ctx.mark). The factory may be
// async, like any handler factory (dial the agent while the POST waits).
// Not here: a wire protocol (media-stream.ts speaks Twilio's over this).
import { FRAME_MS } from '../../core/rtp/index.ts';
import { JitterBuffer } from '../../media/jitter-buffer.ts';
import type { JitterStats } from '../../media/jitter-buffer.ts';
import { inlineCodecs } from '../../media/frame-codec.ts';
import type { DecodeKind, FrameCodec, FrameCodecs } from '../../media/frame-codec.ts';
import { isPcmRate } from '../../media/opus.ts';
import type { PcmRate } from '../../media/opus.ts';
import { isFecCapable } from '../../media/opus-recovery.ts';
import { HandlerError, HandlerErrorCode } from './errors.ts';
import type {
  DtmfEvent,
  HandlerChannel,
  HandlerStats,
  InboundOpusFrame,
  MediaHandler,
  MediaHandlerContext,
  MediaHandlerFactory,
  RealtimeEvent,
} from './media-handler.ts';

export type { PcmRate };

export interface PcmHandlerOptions {
  /** Samples per second of the PCM the handler reads and writes: 8000, 16000, 24000 or 48000. */
  readonly sampleRate: PcmRate;
  /** Jitter buffer depth in 20 ms frames (default 3). */
  readonly jitterFrames?: number;
  /** Output queue bound in seconds (default 60, at most 60: the call's ring); write() past it returns false and drops. */
  readonly maxQueueSeconds?: number;
  /** Told of each counted drop (a process-wide metric). */
  readonly onDrop?: (reason: PcmDropReason) => void;
  /** Rebuild lost frames with libopus (in-band FEC, else its PLC) when it loads (default true); false: a faded repeat. */
  readonly lossRecovery?: boolean;
  /** Where the Opus work runs (default inline, on the event loop; media/codec-pool.ts: worker threads). */
  readonly codecs?: FrameCodecs;
}

/** What the PCM layer drops, each counted: caller frames that arrived too late or twice (the jitter buffer), that did not decode, and handler audio past the queue bound or not PCM. */
export const PCM_DROP_REASONS = ['late_caller_audio', 'duplicate_caller_audio', 'bad_caller_audio', 'output_full', 'bad_pcm'] as const;
export type PcmDropReason = (typeof PCM_DROP_REASONS)[number];

/** What a PCM handler is told about each caller frame. */
export interface PcmFrameInfo {
  /**
   * True when the network lost this frame (or it did not decode) and it was rebuilt: from the
   * next packet's in-band FEC (`fec`), by libopus's concealment, or, without libopus, as a
   * faded repeat of the last frame.
   */
  readonly concealed: boolean;
  /** True when this lost frame was decoded from the next packet's in-band FEC data (the caller sent useinbandfec). */
  readonly fec: boolean;
  /** Frames given to onPcm since the call started: this frame starts at index × 20 ms of media time. */
  readonly index: number;
}

export interface PcmHandlerContext extends MediaHandlerContext {
  readonly sampleRate: PcmRate;
  /**
   * Queues PCM at sampleRate for the caller (any length: it is cut into 20 ms frames, the rest
   * waits for more). False when the queue is over maxQueueSeconds: this audio was dropped (counted).
   * The samples are copied before write returns: the caller may reuse the array.
   */
  write(pcm: Int16Array): boolean;
  /** Barge-in: drops everything queued (and a partial frame) at once; pending marks settle played=false. Returns ms dropped. */
  flush(): number;
  /** Audio queued for the caller and not yet played, in ms. */
  readonly queuedMs: number;
  /** The caller side's jitter buffer counters. */
  readonly jitter: JitterStats;
}

export interface PcmHandler {
  /** One 20 ms frame of the caller at sampleRate, in order (the array is the handler's to keep). */
  onPcm(pcm: Int16Array, info: PcmFrameInfo): void;
  onDtmf?(event: DtmfEvent): void;
  onChannel?(channel: HandlerChannel): void;
  onEvent?(event: RealtimeEvent): void;
  /** This call's counters for GET's stats.handler (next to the PCM layer's own). */
  stats?(): HandlerStats;
  close(): void;
}

export type PcmHandlerFactory = (ctx: PcmHandlerContext) => PcmHandler | Promise<PcmHandler>;

const MAX_QUEUE_SECONDS = 60;
/** Concealment fades a repeated frame by half each time; after this many it is silence. */
const CONCEAL_REPEATS = 3;

/** A MediaHandlerFactory for a handler that reads and writes PCM at one rate. Throws ERR_HANDLER_BAD_OPTION for a bad rate. */
export function pcmHandler(options: PcmHandlerOptions, factory: PcmHandlerFactory): MediaHandlerFactory {
  const rate = options.sampleRate;
  if (!isPcmRate(rate))
    throw new HandlerError(HandlerErrorCode.BadOption, `PCM sample rate must be 8000, 16000, 24000 or 48000, got ${rate}`);
  const maxQueueSeconds = options.maxQueueSeconds ?? MAX_QUEUE_SECONDS;
  if (!(maxQueueSeconds > 0 && maxQueueSeconds <= MAX_QUEUE_SECONDS))
    throw new HandlerError(HandlerErrorCode.BadOption, `maxQueueSeconds must be in (0, ${MAX_QUEUE_SECONDS}], got ${maxQueueSeconds}`);
  return (ctx) => {
    const bridge = new PcmBridge(ctx, rate, Math.round((maxQueueSeconds * 1000) / FRAME_MS), options);
    let made: PcmHandler | Promise<PcmHandler>;
    try {
      made = factory(bridge.context);
    } catch (err) {
      bridge.close();
      throw err;
    }
    if (typeof (made as Promise<PcmHandler>).then === 'function') {
      return (made as Promise<PcmHandler>).then(
        (h) => bridge.attach(h),
        (err: unknown) => {
          bridge.close();
          throw err;
        },
      );
    }
    return bridge.attach(made as PcmHandler);
  };
}

class PcmBridge {
  readonly context: PcmHandlerContext;
  readonly #ctx: MediaHandlerContext;
  readonly #rate: PcmRate;
  readonly #frameSamples: number;
  readonly #maxFrames: number;
  readonly #onDrop: ((reason: PcmDropReason) => void) | undefined;
  readonly #jitter: JitterBuffer;
  /**
   * Decoder (libopus with FEC and PLC, media/opus-recovery.ts, when it loads; else @evan/opus and a
   * faded repeat) and encoder, inline or on a worker thread: results come back in order (#decoded, #encoded).
   */
  readonly #codec: FrameCodec;
  /** Frames the network lost (or that did not decode), by how they were rebuilt. */
  readonly #recovered = { fec: 0, plc: 0, repeat: 0 };
  readonly #partial: Int16Array;
  #partialFill = 0;
  #last: Int16Array | undefined;
  #concealed = 0;
  #index = 0;
  #handler: PcmHandler | undefined;
  #closed = false;
  readonly #drops = Object.fromEntries(PCM_DROP_REASONS.map((r) => [r, 0])) as Record<PcmDropReason, number>;

  constructor(ctx: MediaHandlerContext, rate: PcmRate, maxFrames: number, o: PcmHandlerOptions) {
    this.#ctx = ctx;
    this.#rate = rate;
    this.#frameSamples = (rate * FRAME_MS) / 1000;
    this.#maxFrames = maxFrames;
    this.#onDrop = o.onDrop;
    this.#jitter = new JitterBuffer({ depthFrames: o.jitterFrames });
    // libopus decodes to and encodes from the handler's rate itself (media/opus.ts): no resampler.
    this.#codec = (o.codecs ?? inlineCodecs).open(
      { sampleRate: rate, recovery: o.lossRecovery !== false },
      { decoded: (pcm, kind) => this.#decoded(pcm, kind), encoded: (opus) => this.#ctx.send(opus) },
    );
    this.#partial = new Int16Array(this.#frameSamples);
    // The handler's context: the call's, plus the PCM members (getters read the call's live values).
    this.context = Object.create(ctx, {
      sampleRate: { value: rate, enumerable: true },
      write: { value: (pcm: Int16Array) => this.#write(pcm) },
      flush: { value: () => this.#flush() },
      mark: { value: (done: (played: boolean) => void) => this.#mark(done) },
      queuedMs: { get: () => this.#queuedFrames * FRAME_MS + (this.#partialFill * 1000) / rate },
      jitter: { get: () => this.#jitter.stats },
    }) as PcmHandlerContext;
  }

  attach(h: PcmHandler): MediaHandler {
    this.#handler = h;
    if (this.#closed) h.close();
    return {
      onAudio: (frame: InboundOpusFrame) => this.#onAudio(frame),
      stats: () => ({ ...h.stats?.(), ...this.#stats() }),
      onDtmf: (event: DtmfEvent) => h.onDtmf?.(event),
      onChannel: h.onChannel && ((channel: HandlerChannel) => h.onChannel!(channel)),
      onEvent: h.onEvent && ((event: RealtimeEvent) => h.onEvent!(event)),
      close: () => this.close(),
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#codec.close();
    this.#handler?.close();
  }

  get concealed(): number {
    return this.#concealed;
  }

  /** Frames for the caller: queued in the call, and encoding. */
  get #queuedFrames(): number {
    return this.#ctx.queuedFrames + this.#codec.pendingEncodes;
  }

  #onAudio(frame: InboundOpusFrame): void {
    if (this.#closed) return;
    // Copy: the receive path may reuse the packet's buffer once onAudio returns.
    const pushed = this.#jitter.push(frame.sequence, Buffer.from(frame.payload));
    if (pushed !== 'kept') this.#drop(pushed === 'late' ? 'late_caller_audio' : 'duplicate_caller_audio');
    for (let out = this.#jitter.pop(); out !== undefined && !this.#closed; out = this.#jitter.pop()) {
      if (!out.lost) this.#codec.decode('packet', out.payload);
      else if (this.#codec.recovering) {
        // libopus: the lost frame from the next packet's in-band FEC when that packet is held
        // and can carry it, else the codec's PLC; either continues the decoder's state.
        if (out.next !== undefined && isFecCapable(out.next)) this.#codec.decode('fec', out.next);
        else this.#codec.decode('conceal');
      } else this.#codec.after(() => this.#repeat());
    }
  }

  /** One decode's result, in order: a frame for the handler, concealed when it did not decode. */
  #decoded(pcm: Int16Array | undefined, kind: DecodeKind): void {
    if (this.#closed) return;
    if (kind === 'packet') {
      if (pcm === undefined) {
        this.#drop('bad_caller_audio');
        return this.#repeat();
      }
      // Kept for concealment (a copy: the codec's array is valid only during this call).
      (this.#last ??= new Int16Array(this.#frameSamples)).set(pcm);
      this.#concealed = 0;
      return this.#handler?.onPcm(pcm.slice(), { concealed: false, fec: false, index: this.#index++ });
    }
    if (pcm === undefined) return this.#repeat();
    const fec = kind === 'fec';
    this.#recovered[fec ? 'fec' : 'plc']++;
    this.#handler?.onPcm(pcm.slice(), { concealed: true, fec, index: this.#index++ });
  }

  /** Without libopus (or an undecodable frame): the last frame again, at half the level each time. */
  #repeat(): void {
    if (this.#closed) return;
    this.#recovered.repeat++;
    this.#handler?.onPcm(this.#conceal(), { concealed: true, fec: false, index: this.#index++ });
  }

  #drop(reason: PcmDropReason): void {
    this.#drops[reason]++;
    this.#onDrop?.(reason);
  }

  /** GET's stats.handler: the caller side's jitter buffer and what this layer dropped. */
  #stats(): HandlerStats {
    const j = this.#jitter.stats;
    return {
      framesToHandler: this.#index,
      concealed: j.lost,
      recoveredByFec: this.#recovered.fec,
      concealedByPlc: this.#recovered.plc,
      concealedByRepeat: this.#recovered.repeat,
      jitterResyncs: j.resyncs,
      pcmDrops: { ...this.#drops },
    };
  }

  #conceal(): Int16Array {
    const out = new Int16Array(this.#frameSamples);
    const last = this.#last;
    this.#concealed++;
    if (last === undefined || this.#concealed > CONCEAL_REPEATS) return out;
    const gain = 0.5 ** this.#concealed;
    for (let i = 0; i < out.length; i++) out[i] = Math.round(last[i] * gain);
    return out;
  }

  #write(pcm: Int16Array): boolean {
    if (this.#closed) return false;
    if (!(pcm instanceof Int16Array)) {
      this.#drop('bad_pcm');
      return false;
    }
    if (this.#queuedFrames >= this.#maxFrames) {
      this.#drop('output_full');
      return false;
    }
    const n = this.#frameSamples;
    for (let i = 0; i < pcm.length;) {
      const take = Math.min(pcm.length - i, n - this.#partialFill);
      this.#partial.set(pcm.subarray(i, i + take), this.#partialFill);
      this.#partialFill += take;
      i += take;
      if (this.#partialFill === n) {
        this.#partialFill = 0;
        this.#codec.encode(this.#partial);
      }
    }
    return true;
  }

  /** A mark counts the partial frame too: it is padded with silence and queued first. */
  #mark(done: (played: boolean) => void): void {
    if (this.#partialFill > 0 && !this.#closed) {
      this.#partial.fill(0, this.#partialFill);
      this.#partialFill = 0;
      this.#codec.encode(this.#partial);
    }
    // Once the frames before it are queued in the call; a flush in between drops them, and the mark.
    this.#codec.after((cancelled) => (cancelled ? done(false) : this.#ctx.mark(done)));
  }

  #flush(): number {
    const ms = this.#queuedFrames * FRAME_MS + (this.#partialFill * 1000) / this.#rate;
    this.#partialFill = 0;
    this.#codec.cancelEncodes();
    this.#ctx.clearAudio();
    return ms;
  }
}
