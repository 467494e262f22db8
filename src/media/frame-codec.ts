// One call's Opus codec as the bridges use it (handlers/pcm.ts, handlers/realtime/): decode the
// caller's packets to PCM at the bridge's rate and encode 20 ms PCM frames back, results handed
// to the call's sink IN THE ORDER ASKED. Two providers: `inlineCodecs` runs each operation at once
// on the calling thread (media/opus.ts, media/opus-recovery.ts: what every call did before), and
// media/codec-pool.ts runs them on worker threads, results arriving a turn later. The bridges are
// written once against this shape, so both behave the same apart from when a result arrives.
// Both encode with the process's BridgeEncoderSettings (media/opus.ts: application and complexity).
// Not here: jitter buffering, framing, pacing (the bridges and the call's output queue).
import { MediaError, MediaErrorCode } from './errors.ts';
import { BRIDGE_ENCODER_DEFAULTS, createOpusDecoder, createOpusEncoder } from './opus.ts';
import type { BridgeEncoderSettings, OpusDecoder, OpusEncoder, PcmRate } from './opus.ts';
import { createRecoveringDecoder, loadOpusAddon, OPUS_APPLICATION_CODES } from './opus-recovery.ts';
import type { OpusAddon, RecoveringDecoder } from './opus-recovery.ts';

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
  /**
   * One decoded 20 ms frame, or undefined: the packet did not decode. The samples are valid until
   * this returns (the inline codec decodes every frame of a call into one array): copy what you keep.
   */
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

/**
 * Each operation at once, on the calling thread, encoding with `encoder`: libopus through Parley's
 * addon (media/opus-recovery.ts) where it loads — decoding into one array per call and encoding
 * into per-call slabs, so a frame costs no fresh ArrayBuffer either way — else @evan/opus (a fresh
 * buffer per result; no FEC or PLC).
 */
export function createInlineCodecs(encoder: BridgeEncoderSettings = BRIDGE_ENCODER_DEFAULTS): FrameCodecs {
  return {
    open(options, sink) {
      const addon = loadOpusAddon();
      return addon instanceof Error ? new InlineCodec(options, sink, encoder) : new AddonInlineCodec(addon, options, sink, encoder);
    },
  };
}

/** createInlineCodecs with the default encoder settings (what a handler given no codecs uses). */
export const inlineCodecs: FrameCodecs = createInlineCodecs();

/** @evan/opus (the fallback where the addon or libopus is missing), with libopus's recovering decoder when asked and it loads. */
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

/** RFC 6716 §3.2.1: the largest packet one 20 ms Opus frame can take (what libopus is given to encode into). */
const MAX_FRAME_PACKET_BYTES = 1275;
/**
 * Encoded packets are cut from slabs of this size, one call's packets only: about a second of
 * packets at the bridge's default encoder (~70 B each), so a slab is released once that second
 * has been sent, and it holds no other call's or other code's buffers alive.
 */
const PACKET_SLAB_BYTES = 4096;

/**
 * libopus through Parley's addon on the calling thread. Why not @evan/opus: it returns a fresh
 * ArrayBuffer per decode (960 B at 24 kHz) and per encode, three heap objects and a malloc each;
 * at 100 calls that is 10 000 backing stores a second for V8 to track and sweep. Here a call
 * decodes into one array (the sink copies what it keeps) and each packet is one view of a
 * per-call slab (the packet waits in the call's output queue, up to seconds).
 */
class AddonInlineCodec implements FrameCodec {
  readonly recovering: boolean;
  readonly #addon: OpusAddon;
  readonly #sink: FrameCodecSink;
  readonly #decoder: object;
  readonly #encoder: object;
  /** Every decoded frame of this call, handed to the sink (valid until decoded() returns). */
  readonly #pcm: Int16Array;
  /** What libopus encodes into; the packet is then copied into #slab. */
  readonly #scratch = Buffer.allocUnsafeSlow(MAX_FRAME_PACKET_BYTES);
  #slab = Buffer.allocUnsafeSlow(PACKET_SLAB_BYTES);
  #slabUsed = 0;
  #closed = false;

  constructor(addon: OpusAddon, o: FrameCodecOptions, sink: FrameCodecSink, encoder: BridgeEncoderSettings) {
    this.#addon = addon;
    this.#sink = sink;
    this.#pcm = new Int16Array(o.sampleRate / 50);
    // One libopus decoder does packets, FEC and PLC alike (the addon's decode()).
    this.recovering = o.recovery;
    this.#decoder = addon.create(o.sampleRate, 1);
    this.#encoder = addon.createEncoder(o.sampleRate, OPUS_APPLICATION_CODES[encoder.application], encoder.complexity);
  }

  get pendingEncodes(): number {
    return 0;
  }

  decode(kind: DecodeKind, packet?: Buffer): void {
    if (this.#closed) return;
    let ok: boolean;
    try {
      // 'conceal': no packet (PLC); 'fec': the frame before `packet`, from its redundancy.
      const n = this.#addon.decode(this.#decoder, kind === 'conceal' ? null : packet!, kind === 'fec', this.#pcm);
      ok = n === this.#pcm.length;
    } catch {
      ok = false;
    }
    this.#sink.decoded(ok ? this.#pcm : undefined, kind);
  }

  encode(pcm: Int16Array): void {
    if (this.#closed) return;
    if (pcm.length !== this.#pcm.length)
      throw new MediaError(MediaErrorCode.BadFrameSize, `Opus encode takes ${this.#pcm.length} samples (20 ms), got ${pcm.length}`);
    const n = this.#addon.encode(this.#encoder, pcm, this.#scratch);
    if (n <= 0) throw new MediaError(MediaErrorCode.OpusEncodeFailed, `Opus encode failed: libopus error ${n}`);
    if (this.#slabUsed + n > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(PACKET_SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    this.#scratch.copy(this.#slab, at, 0, n);
    this.#slabUsed = at + n;
    this.#sink.encoded(this.#slab.subarray(at, at + n));
  }

  cancelEncodes(): void {}

  after(fn: (cancelled: boolean) => void): void {
    fn(false);
  }

  close(): void {
    // The addon's decoder and encoder are freed by their finalizers once unreferenced.
    this.#closed = true;
  }
}
