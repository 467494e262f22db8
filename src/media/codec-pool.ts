// The bridges' Opus codec on worker threads (`--codec-threads N`, docs/media.md): a FrameCodecs
// whose calls are spread over N workers (media/codec-worker.ts), each call kept on one worker for
// its life so its decoder and encoder state stay in one place and its results come back in order.
// Everything the calls ask within a batch window (10 ms by default, from the first operation)
// goes to their worker as ONE message (a transferred ArrayBuffer, media/codec-wire.ts), flushed by
// one timer for the whole pool, and comes back as one: two messages per 20 ms per worker, never
// one per frame.
// A worker that dies fails what it had (decodes arrive as undecodable, encodes are dropped, each
// counted), is started again, and its calls get fresh codecs. A sink that throws is contained
// and counted like a throwing handler (handlers/contain.ts). Not here: the codec itself (the
// worker), the inline provider (media/frame-codec.ts).
import { Worker } from 'node:worker_threads';
import { BatchWriter, CodecOp, ReplyReader } from './codec-wire.ts';
import type { DecodeKind, FrameCodec, FrameCodecOptions, FrameCodecs, FrameCodecSink } from './frame-codec.ts';
import { BRIDGE_ENCODER_DEFAULTS, isOpusComplexity, OPUS_APPLICATIONS } from './opus.ts';
import type { BridgeEncoderSettings } from './opus.ts';
import { loadOpusAddon } from './opus-recovery.ts';

const WORKER_URL = new URL('./codec-worker.ts', import.meta.url);
/** More threads than this is a mistake (the machine's cores are the useful bound). */
export const MAX_CODEC_THREADS = 64;

/** What the pool counts (the transceiver logs them; tests read them). */
export interface CodecPoolStats {
  readonly threads: number;
  /** Request batches posted to the workers. */
  readonly batches: number;
  /** Operations (decodes and encodes) sent. */
  readonly operations: number;
  /** Operations that failed in a worker or were lost with one. */
  readonly failures: number;
  /** Sink callbacks that threw (contained). */
  readonly sinkErrors: number;
  /** Workers started again after one died. */
  readonly restarts: number;
}

/** How long the first operation of a batch waits for the others (see CodecPoolOptions.batchMs). */
export const DEFAULT_CODEC_BATCH_MS = 10;

export interface CodecPoolOptions {
  readonly threads: number;
  /**
   * A batch goes to its worker this long after its first operation (default 10 ms; 0: at the end
   * of the event-loop turn). Each message costs a wake-up of the worker and one of the event loop
   * for the reply — on the 2-core VM of docs/performance.md ~0.3 ms of CPU together, more than 3
   * frames' codec work — so per-turn batches (thousands a second at 100 calls) cost more than
   * the codec they moved; at 10 ms a worker gets 100 batches a second each way whatever the call
   * count, and audio waits at most that long more (the call's output queue and the realtime 40 ms
   * append batch absorb it).
   */
  readonly batchMs?: number;
  /** Told of a worker that died and of a sink that threw (for a log line). */
  readonly onError?: (what: 'worker' | 'sink', err: unknown) => void;
  /** The worker's script (default media/codec-worker.ts); tests give one that dies on cue. */
  readonly workerUrl?: URL;
  /** How every encoder of the pool encodes (default BRIDGE_ENCODER_DEFAULTS, as the inline codecs). */
  readonly encoder?: BridgeEncoderSettings;
}

type EntryKind = DecodeKind | 'encode' | 'after';
interface Entry {
  readonly codec: PooledCodec;
  readonly kind: EntryKind;
  readonly gen: number;
  readonly fn?: (cancelled: boolean) => void;
}

export class CodecPool implements FrameCodecs {
  readonly #lanes: Lane[] = [];
  readonly #onError: CodecPoolOptions['onError'];
  readonly #batchMs: number;
  readonly workerUrl: URL;
  /** What each worker is started with (workerData). */
  readonly encoder: BridgeEncoderSettings;
  #nextSlot = 1;
  #scheduled = false;
  #closed = false;
  readonly counts = { batches: 0, operations: 0, failures: 0, sinkErrors: 0, restarts: 0 };

  /** The pool, or why there is none: libopus through Parley's addon is what the workers run. */
  static start(o: CodecPoolOptions): CodecPool | Error {
    if (!Number.isInteger(o.threads) || o.threads < 1 || o.threads > MAX_CODEC_THREADS)
      return new RangeError(`codec threads must be an integer in 1..${MAX_CODEC_THREADS}, got ${o.threads}`);
    const batchMs = o.batchMs ?? DEFAULT_CODEC_BATCH_MS;
    if (!(Number.isInteger(batchMs) && batchMs >= 0 && batchMs <= 100))
      return new RangeError(`codec batch must be an integer in 0..100 ms, got ${o.batchMs}`);
    const enc = o.encoder ?? BRIDGE_ENCODER_DEFAULTS;
    if (!(OPUS_APPLICATIONS as readonly string[]).includes(enc.application) || !isOpusComplexity(enc.complexity))
      return new RangeError(`codec encoder settings: application ${enc.application}, complexity ${enc.complexity}`);
    const addon = loadOpusAddon();
    if (addon instanceof Error) return addon;
    return new CodecPool(o);
  }

  private constructor(o: CodecPoolOptions) {
    this.#onError = o.onError;
    this.#batchMs = o.batchMs ?? DEFAULT_CODEC_BATCH_MS;
    this.workerUrl = o.workerUrl ?? WORKER_URL;
    this.encoder = { ...(o.encoder ?? BRIDGE_ENCODER_DEFAULTS) };
    for (let i = 0; i < o.threads; i++) this.#lanes.push(new Lane(this));
  }

  get stats(): CodecPoolStats {
    return { threads: this.#lanes.length, ...this.counts };
  }

  open(options: FrameCodecOptions, sink: FrameCodecSink): FrameCodec {
    if (this.#closed) throw new Error('codec pool is closed');
    let lane = this.#lanes[0];
    for (const l of this.#lanes) if (l.calls < lane.calls) lane = l;
    return new PooledCodec(lane, this.#nextSlot++, options, sink);
  }

  /** Ends the workers; results still on their way are dropped. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#lanes.map((l) => l.close()));
  }

  /** One flush of every lane, batchMs after the first operation waiting (0: at the end of this turn's I/O). */
  schedule(): void {
    if (this.#scheduled || this.#closed) return;
    this.#scheduled = true;
    if (this.#batchMs === 0) setImmediate(this.#flush);
    else setTimeout(this.#flush, this.#batchMs).unref();
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    for (const l of this.#lanes) l.flush();
  };

  report(what: 'worker' | 'sink', err: unknown): void {
    if (what === 'sink') this.counts.sinkErrors++;
    try {
      this.#onError?.(what, err);
    } catch {
      /* a failing listener must not undo the containment */
    }
  }
}

/** One worker, the calls on it, the batch being written and the batches it is working on (FIFO). */
class Lane {
  readonly #pool: CodecPool;
  #worker: Worker;
  readonly #writer = new BatchWriter();
  #entries: Entry[] = [];
  readonly #inFlight: Entry[][] = [];
  /** Open calls on this worker: slot → sample rate (to open them again on a new worker). */
  readonly #open = new Map<number, number>();
  #closed = false;

  constructor(pool: CodecPool) {
    this.#pool = pool;
    this.#worker = this.#start();
  }

  get calls(): number {
    return this.#open.size;
  }

  #start(): Worker {
    const w = new Worker(this.#pool.workerUrl, { workerData: this.#pool.encoder });
    w.unref();
    w.on('message', (buf: ArrayBuffer) => this.#onReply(buf));
    let errored = false;
    w.on('error', (err) => {
      errored = true;
      this.#pool.report('worker', err);
    });
    w.on('exit', (code) => {
      if (this.#closed) return;
      if (!errored) this.#pool.report('worker', new Error(`codec worker exited with code ${code}`));
      this.#restart();
    });
    return w;
  }

  /** The worker died: fail what it had, start another, open every call's codec there again. */
  #restart(): void {
    this.#pool.counts.restarts++;
    for (const entries of this.#inFlight.splice(0)) this.#deliver(entries, undefined);
    this.#worker = this.#start();
    const reopen = new BatchWriter();
    for (const [slot, rate] of this.#open) reopen.record(CodecOp.Open, slot, rateBytes(rate));
    const buf = reopen.take();
    this.#inFlight.push([]);
    this.#worker.postMessage(buf, [buf]);
  }

  opened(slot: number, rate: number): void {
    this.#open.set(slot, rate);
    this.#writer.record(CodecOp.Open, slot, rateBytes(rate));
    this.#pool.schedule();
  }

  closed(slot: number): void {
    if (!this.#open.delete(slot)) return;
    this.#writer.record(CodecOp.Close, slot);
    this.#pool.schedule();
  }

  /** A request for this batch; its result goes to `entry` when the reply comes. */
  ask(op: CodecOp, slot: number, payload: Uint8Array | undefined, entry: Entry): void {
    this.#writer.record(op, slot, payload);
    this.#entries.push(entry);
    this.#pool.counts.operations++;
    this.#pool.schedule();
  }

  /** A callback in this lane's order, after everything asked before it. */
  then(entry: Entry): void {
    this.#entries.push(entry);
    this.#pool.schedule();
  }

  flush(): void {
    if (this.#closed || (this.#writer.length === 0 && this.#entries.length === 0)) return;
    const buf = this.#writer.take();
    this.#inFlight.push(this.#entries);
    this.#entries = [];
    this.#pool.counts.batches++;
    this.#worker.postMessage(buf, [buf]);
  }

  #onReply(buf: ArrayBuffer): void {
    const entries = this.#inFlight.shift();
    if (entries !== undefined) this.#deliver(entries, new ReplyReader(buf));
  }

  /** Each entry its result, in order; without a reply (the worker died) every operation failed. */
  #deliver(entries: Entry[], reply: ReplyReader | undefined): void {
    for (const e of entries) {
      let bytes: Uint8Array | undefined;
      if (e.kind !== 'after') {
        try {
          bytes = reply?.next();
        } catch {
          bytes = undefined;
        }
        if (bytes === undefined) this.#pool.counts.failures++;
      }
      try {
        e.codec.settle(e, bytes);
      } catch (err) {
        this.#pool.report('sink', err);
      }
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#inFlight.length = 0;
    this.#entries = [];
    await this.#worker.terminate();
  }
}

function rateBytes(rate: number): Uint8Array {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(rate);
  return b;
}

const OPS: Record<DecodeKind, CodecOp> = { packet: CodecOp.Decode, fec: CodecOp.DecodeFec, conceal: CodecOp.Conceal };

class PooledCodec implements FrameCodec {
  /** libopus's decoder in the worker: FEC and PLC always work (the realtime bridge just never asks for them). */
  readonly recovering = true;
  readonly #lane: Lane;
  readonly #slot: number;
  readonly #sink: FrameCodecSink;
  readonly #samples: number;
  /** Bumped by cancelEncodes(): encodes of an older generation are dropped when they come back. */
  #gen = 0;
  #pendingEncodes = 0;
  /** Entries asked and not yet settled (after() runs at once when none). */
  #outstanding = 0;
  #closed = false;

  constructor(lane: Lane, slot: number, o: FrameCodecOptions, sink: FrameCodecSink) {
    this.#lane = lane;
    this.#slot = slot;
    this.#sink = sink;
    this.#samples = o.sampleRate / 50;
    lane.opened(slot, o.sampleRate);
  }

  get pendingEncodes(): number {
    return this.#pendingEncodes;
  }

  decode(kind: DecodeKind, packet?: Buffer): void {
    if (this.#closed) return;
    this.#outstanding++;
    this.#lane.ask(OPS[kind], this.#slot, kind === 'conceal' ? undefined : packet, { codec: this, kind, gen: this.#gen });
  }

  encode(pcm: Int16Array): void {
    if (this.#closed) return;
    if (pcm.length !== this.#samples) throw new RangeError(`encode takes ${this.#samples} samples, got ${pcm.length}`);
    this.#outstanding++;
    this.#pendingEncodes++;
    const bytes = new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength);
    this.#lane.ask(CodecOp.Encode, this.#slot, bytes, { codec: this, kind: 'encode', gen: this.#gen });
  }

  cancelEncodes(): void {
    this.#gen++;
    this.#pendingEncodes = 0;
  }

  after(fn: (cancelled: boolean) => void): void {
    if (this.#closed) return fn(true);
    if (this.#outstanding === 0) return fn(false);
    this.#outstanding++;
    this.#lane.then({ codec: this, kind: 'after', gen: this.#gen, fn });
  }

  /** An entry's result (bytes undefined: it failed). Called by the lane, in order. */
  settle(e: Entry, bytes: Uint8Array | undefined): void {
    this.#outstanding--;
    const current = e.gen === this.#gen && !this.#closed;
    // A mark asked before the call ended still settles (as not played).
    if (e.kind === 'after') return e.fn!(!current);
    if (this.#closed) return;
    if (e.kind === 'encode') {
      if (!current) return;
      this.#pendingEncodes--;
      // A copy (~100 bytes): a view would keep the whole reply batch alive while the frame waits
      // in the call's output queue (up to 60 s).
      if (bytes !== undefined) this.#sink.encoded(Buffer.from(bytes));
      return;
    }
    const pcm =
      bytes === undefined || bytes.byteLength !== this.#samples * 2
        ? undefined
        : new Int16Array(bytes.buffer, bytes.byteOffset, this.#samples);
    this.#sink.decoded(pcm, e.kind);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#lane.closed(this.#slot);
  }
}
