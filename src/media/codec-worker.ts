// A codec worker thread (media/codec-pool.ts starts them): holds the Opus decoders and encoders of
// the calls given to it, runs each request batch (media/codec-wire.ts) in order and posts one
// reply batch back. libopus through Parley's own addon (native/src/opus_native.c), not
// @evan/opus: that addon crashes when a worker thread's environment is torn down.
// Bounded: at most MAX_SLOTS codecs; a record it cannot read ends the batch (the pool sees the
// short reply, fails what is missing and counts it); nothing a batch says throws out of it.
// Every encoder uses the pool's BridgeEncoderSettings (the worker's workerData).
import { parentPort, workerData } from 'node:worker_threads';
import { CodecOp, RECORD_HEADER, BatchWriter } from './codec-wire.ts';
import type { BridgeEncoderSettings } from './opus.ts';
import { loadOpusAddon, OPUS_APPLICATION_CODES } from './opus-recovery.ts';

const MAX_SLOTS = 100_000;
const loaded = loadOpusAddon();
if (loaded instanceof Error) throw loaded;
const addon = loaded;
const port = parentPort!;
const encoder = workerData as BridgeEncoderSettings;
const application = OPUS_APPLICATION_CODES[encoder.application];

interface Slot {
  readonly dec: object;
  readonly enc: object;
  readonly pcm: Int16Array;
}
const slots = new Map<number, Slot>();
const reply = new BatchWriter();
const packet = Buffer.allocUnsafe(4000);

function run(buf: ArrayBuffer): void {
  const b = Buffer.from(buf);
  for (let at = 0; at + RECORD_HEADER <= b.length;) {
    const op = b[at];
    const n = b.readUInt16LE(at + 2);
    const id = b.readUInt32LE(at + 4);
    const start = at + RECORD_HEADER;
    if (start + n > b.length) break;
    at = start + n + (n & 1);
    if (op === CodecOp.Open) {
      const rate = b.readUInt32LE(start);
      if (slots.size >= MAX_SLOTS) continue;
      // A rate libopus refuses leaves the slot unopened: its operations then fail, counted by the pool.
      try {
        slots.set(id, {
          dec: addon.create(rate, 1),
          enc: addon.createEncoder(rate, application, encoder.complexity),
          pcm: new Int16Array(rate / 50),
        });
      } catch {
        slots.delete(id);
      }
      continue;
    }
    if (op === CodecOp.Close) {
      slots.delete(id);
      continue;
    }
    if (op < CodecOp.Decode || op > CodecOp.Encode) continue;
    const slot = slots.get(id);
    if (slot === undefined) {
      reply.reply(undefined);
      continue;
    }
    try {
      if (op === CodecOp.Encode) {
        const pcm = new Int16Array(buf, start, n / 2);
        const len = addon.encode(slot.enc, pcm, packet);
        reply.reply(len > 0 ? packet.subarray(0, len) : undefined, len);
      } else {
        const payload = op === CodecOp.Conceal ? null : b.subarray(start, start + n);
        const got = addon.decode(slot.dec, payload, op === CodecOp.DecodeFec, slot.pcm);
        const pcm = slot.pcm;
        reply.reply(got === pcm.length ? new Uint8Array(pcm.buffer, pcm.byteOffset, pcm.byteLength) : undefined, got);
      }
    } catch {
      reply.reply(undefined);
    }
  }
  const out = reply.take();
  port.postMessage(out, [out]);
}

port.on('message', (buf: ArrayBuffer) => run(buf));
