// One call's Opus codec as the bridges use it (handlers/pcm.ts, handlers/realtime/): decode the
// caller's packets to PCM at the bridge's rate and encode 20 ms PCM frames back, results handed
// to the call's sink IN THE ORDER ASKED. Two providers: `inlineCodecs` runs each operation at once
// on the calling thread (media/opus.ts, media/opus-recovery.ts: what every call did before), and
// media/codec-pool.ts runs them on worker threads, results arriving a turn later. The bridges are
// written once against this shape, so both behave the same apart from when a result arrives.
// Both encode with the process's BridgeEncoderSettings (media/opus.ts: application and complexity).
// Not here: jitter buffering, framing, pacing (the bridges and the call's output queue).
import { BRIDGE_ENCODER_DEFAULTS, createOpusDecoder, createOpusEncoder } from './opus.ts';
import type { BridgeEncoderSettings, OpusDecoder, OpusEncoder, PcmRate } from './opus.ts';
import { createRecoveringDecoder } from './opus-recovery.ts';
import type { RecoveringDecoder } from './opus-recovery.ts';

/** What a decode rebuilds: a received packet, the frame lost before a packet from its in-band FEC, or a lost frame by the codec's PLC. */
export type DecodeKind = 'packet' | 'fec' | 'conceal';

export interface FrameCodecOptions {
  /** The PCM rate both ways (8, 16, 24 or 48 kHz; libopus decodes to and encodes from it itself). */
  readonly sampleRate: PcmRate;
  /** Decode with libopus's recovering decoder (FEC and PLC) where it loads (the PCM layer); false: a plain decoder (realtime). */
  readonly recovery: boolean;
}

/** Where one call's results go, in the order the operations were asked. */
export interface FrameCodecSink {
  /** One decoded 20 ms frame (the sink's to keep), or undefined: the packet did not decode. */
  decoded(pcm: Int16Array | undefined, kind: DecodeKind): void;
  /** One encoded 20 ms Opus packet (the sink's to keep); encodes dropped by cancelEncodes() never arrive. */
  encoded(opus: Buffer): void;
}

export interface FrameCodec {
  /** Whether 'fec' and 'conceal' decodes rebuild frames with libopus (else the sink conceals by itself). */
  readonly recovering: boolean;
  /** Decodes `packet` (kind 'packet'), the frame lost before it ('fec'), or conceals one lost frame ('conceal', no packet). */
  decode(kind: DecodeKind, packet?: Buffer): void;
  /** Encodes one 20 ms frame (sampleRate / 50 samples); the samples are copied before this returns. */
  encode(pcm: Int16Array): void;
  /** Encodes asked and not yet handed to the sink (they are audio the caller will hear, not yet queued). */
  readonly pendingEncodes: number;
  /** Barge-in: encodes asked so far never reach the sink. */
  cancelEncodes(): void;
  /**
   * Runs `fn` once every operation asked before it has reached the sink (at once when none is
   * waiting). `cancelled` is true when cancelEncodes() ran in between: audio asked before `fn`
   * was dropped.
   */
  after(fn: (cancelled: boolean) => void): void;
  /** Idempotent; results still on their way are dropped. */
  close(): void;
}

/** Makes one FrameCodec per call. */
export interface FrameCodecs {
  open(options: FrameCodecOptions, sink: FrameCodecSink): FrameCodec;
}

/** Each operation at once, on the calling thread: @evan/opus, with libopus's recovering decoder when asked and it loads; encodes with `encoder`. */
export function createInlineCodecs(encoder: BridgeEncoderSettings = BRIDGE_ENCODER_DEFAULTS): FrameCodecs {
  return {
    open(options, sink) {
      return new InlineCodec(options, sink, encoder);
    },
  };
}

/** createInlineCodecs with the default encoder settings (what a handler given no codecs uses). */
export const inlineCodecs: FrameCodecs = createInlineCodecs();

class InlineCodec implements FrameCodec {
  readonly recovering: boolean;
  readonly #sink: FrameCodecSink;
  readonly #samples: number;
  readonly #recovery: RecoveringDecoder | undefined;
  readonly #decoder: OpusDecoder | undefined;
  readonly #encoder: OpusEncoder;
  #closed = false;

  constructor(o: FrameCodecOptions, sink: FrameCodecSink, encoder: BridgeEncoderSettings) {
    this.#sink = sink;
    this.#samples = o.sampleRate / 50;
    const recovery = o.recovery ? createRecoveringDecoder(o.sampleRate) : undefined;
    this.#recovery = recovery instanceof Error ? undefined : recovery;
    this.recovering = this.#recovery !== undefined;
    this.#decoder = this.#recovery ? undefined : createOpusDecoder({ sampleRate: o.sampleRate });
    this.#encoder = createOpusEncoder({ ...encoder, sampleRate: o.sampleRate });
  }

  get pendingEncodes(): number {
    return 0;
  }

  decode(kind: DecodeKind, packet?: Buffer): void {
    if (this.#closed) return;
    let pcm: Int16Array | undefined;
    try {
      const r = this.#recovery;
      if (kind === 'packet') pcm = r ? r.decode(packet!) : this.#decoder!.decode(packet!);
      else if (r) pcm = kind === 'fec' ? r.decodeFec(packet!) : r.conceal();
      if (pcm !== undefined && pcm.length !== this.#samples) pcm = undefined;
    } catch {
      pcm = undefined;
    }
    this.#sink.decoded(pcm, kind);
  }

  encode(pcm: Int16Array): void {
    if (!this.#closed) this.#sink.encoded(this.#encoder.encode(pcm));
  }

  cancelEncodes(): void {}

  after(fn: (cancelled: boolean) => void): void {
    fn(false);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#decoder?.close();
    this.#encoder.close();
  }
}
