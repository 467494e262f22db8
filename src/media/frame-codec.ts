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
import { loadOpusAddon } from './opus-recovery.ts';
import type { OpusAddon } from './opus-recovery.ts';

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
 * Each operation at once, on the calling thread, encoding with `encoder` (@evan/opus). Decodes with
 * libopus through Parley's addon where it loads (media/opus-recovery.ts: FEC and PLC too), into
 * one array per call; else with @evan/opus (no FEC or PLC). Packets are cut from per-call slabs.
 */
export function createInlineCodecs(encoder: BridgeEncoderSettings = BRIDGE_ENCODER_DEFAULTS): FrameCodecs {
  return {
    open(options, sink) {
      return new InlineCodec(options, sink, encoder);
    },
  };
}

/** createInlineCodecs with the default encoder settings (what a handler given no codecs uses). */
export const inlineCodecs: FrameCodecs = createInlineCodecs();

/** RFC 6716 §3.2.1: the largest packet one 20 ms Opus frame can take. */
const MAX_FRAME_PACKET_BYTES = 1275;
/**
 * Encoded packets are copied into slabs of this size, one call's packets only: about a second of
 * packets at the bridge's default encoder (~70 B each), so a slab is released once that second
 * has been sent, and it holds no other call's or other code's buffers alive.
 */
const PACKET_SLAB_BYTES = 4096;

/**
 * Why not @evan/opus both ways: it returns a fresh ArrayBuffer per decode (960 B at 24 kHz) and per
 * encode; the packet then waits in the call's output queue for up to seconds, long enough to be
 * promoted with its backing store, and V8 tracks and sweeps each. Here a call decodes into one
 * array (the sink copies what it keeps), and each packet is one view of a per-call slab (the
 * encoder's own buffer dies young). Why not the addon's encoder too: on this machine the system
 * libopus (Debian's 1.3.1) encodes a 24 kHz frame in ~33 µs against @evan/opus's ~30 µs, while
 * both decode in ~17.5 µs (docs/performance.md, "gc3").
 */
class InlineCodec implements FrameCodec {
  readonly recovering: boolean;
  readonly #sink: FrameCodecSink;
  readonly #samples: number;
  /** libopus through the addon: every frame of this call decoded into #pcm. */
  readonly #addon: { readonly lib: OpusAddon; readonly decoder: object } | undefined;
  readonly #pcm: Int16Array;
  /** Without the addon: @evan/opus (a fresh array per frame). */
  readonly #decoder: OpusDecoder | undefined;
  readonly #encoder: OpusEncoder;
  #slab = Buffer.allocUnsafeSlow(PACKET_SLAB_BYTES);
  #slabUsed = 0;
  #closed = false;

  constructor(o: FrameCodecOptions, sink: FrameCodecSink, encoder: BridgeEncoderSettings) {
    this.#sink = sink;
    this.#samples = o.sampleRate / 50;
    this.#pcm = new Int16Array(this.#samples);
    const lib = loadOpusAddon();
    // One libopus decoder does packets, FEC and PLC alike (the addon's decode()).
    this.#addon = lib instanceof Error ? undefined : { lib, decoder: lib.create(o.sampleRate, 1) };
    this.recovering = o.recovery && this.#addon !== undefined;
    this.#decoder = this.#addon ? undefined : createOpusDecoder({ sampleRate: o.sampleRate });
    this.#encoder = createOpusEncoder({ ...encoder, sampleRate: o.sampleRate });
  }

  get pendingEncodes(): number {
    return 0;
  }

  decode(kind: DecodeKind, packet?: Buffer): void {
    if (this.#closed) return;
    let pcm: Int16Array | undefined;
    try {
      const a = this.#addon;
      if (a) {
        // 'conceal': no packet (PLC); 'fec': the frame before `packet`, from its redundancy.
        const n = a.lib.decode(a.decoder, kind === 'conceal' ? null : packet!, kind === 'fec', this.#pcm);
        pcm = n === this.#samples ? this.#pcm : undefined;
      } else if (kind === 'packet') {
        pcm = this.#decoder!.decode(packet!);
        if (pcm.length !== this.#samples) pcm = undefined;
      }
    } catch {
      pcm = undefined;
    }
    this.#sink.decoded(pcm, kind);
  }

  encode(pcm: Int16Array): void {
    if (this.#closed) return;
    const packet = this.#encoder.encode(pcm);
    const n = packet.length;
    if (n > MAX_FRAME_PACKET_BYTES) throw new MediaError(MediaErrorCode.OpusEncodeFailed, `Opus encode returned ${n} bytes`);
    if (this.#slabUsed + n > this.#slab.length) {
      this.#slab = Buffer.allocUnsafeSlow(PACKET_SLAB_BYTES);
      this.#slabUsed = 0;
    }
    const at = this.#slabUsed;
    packet.copy(this.#slab, at);
    this.#slabUsed = at + n;
    this.#sink.encoded(this.#slab.subarray(at, at + n));
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
