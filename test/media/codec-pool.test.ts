// The bridges' codec on worker threads (media/codec-pool.ts, media/codec-worker.ts,
// media/codec-wire.ts): results come back per call in the order asked, decoded exactly as the
// inline libopus decoder decodes, encoded packets decode to the same tone; everything one turn
// asks goes to a worker as one message; cancelEncodes() drops encodes on their way and after()
// says so; a closed codec settles its pending after() as cancelled; the pool ends its workers.
// CI=true: libopus must load (nothing skips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { setImmediate as turn } from 'node:timers/promises';
import { CodecPool } from '../../src/media/codec-pool.ts';
import { BatchWriter, CodecOp, ReplyReader } from '../../src/media/codec-wire.ts';
import { inlineCodecs } from '../../src/media/frame-codec.ts';
import type { DecodeKind, FrameCodecSink } from '../../src/media/frame-codec.ts';
import { analyzeTone } from '../../src/media/analysis.ts';
import { createOpusEncoder } from '../../src/media/opus.ts';
import { createRecoveringDecoder, loadOpusAddon } from '../../src/media/opus-recovery.ts';
import { encodeTone } from '../../src/client/audio.ts';
import { POISON } from './fixtures/codec-worker-cue.ts';

const addon = loadOpusAddon();
const skip = addon instanceof Error && process.env.CI !== 'true' ? addon.message : false;

interface Recorded {
  readonly events: string[];
  readonly pcm: Int16Array[];
  readonly opus: Buffer[];
  readonly sink: FrameCodecSink;
}
function recorder(): Recorded {
  const r: Recorded = {
    events: [],
    pcm: [],
    opus: [],
    sink: {
      decoded(pcm: Int16Array | undefined, kind: DecodeKind) {
        r.events.push(pcm === undefined ? `${kind}:failed` : kind);
        if (pcm) r.pcm.push(pcm.slice());
      },
      encoded(opus: Buffer) {
        r.events.push('encoded');
        r.opus.push(Buffer.from(opus));
      },
    },
  };
  return r;
}

function startPool(threads: number): CodecPool {
  const pool = CodecPool.start({ threads });
  assert.ok(pool instanceof CodecPool, String(pool));
  return pool;
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 2000 && !done(); i++) await new Promise((r) => setTimeout(r, 2));
  assert.ok(done(), 'the pool answered');
}

test(
  'a frame per call per turn, 40 calls on 2 workers: one message per worker per turn, results in order and equal to the inline decoder',
  { skip },
  async () => {
    const pool = startPool(2);
    try {
      const packets = encodeTone(440, 0.4).slice(0, 20);
      const calls = Array.from({ length: 40 }, () => {
        const r = recorder();
        return { r, codec: pool.open({ sampleRate: 16000, recovery: true }, r.sink) };
      });
      for (const p of packets) {
        for (const c of calls) c.codec.decode('packet', p);
        await turn();
      }
      await until(() => calls.every((c) => c.r.pcm.length === packets.length));
      const s = pool.stats;
      assert.equal(s.operations, 40 * packets.length);
      assert.ok(s.batches <= 2 * packets.length + 2, `${s.batches} batches for ${packets.length} turns on 2 workers`);
      assert.equal(s.failures, 0);
      const ref = createRecoveringDecoder(16000);
      assert.ok(!(ref instanceof Error));
      const expected = packets.map((p) => ref.decode(p));
      for (const c of calls) {
        assert.deepEqual(
          c.r.events,
          packets.map(() => 'packet'),
        );
        c.r.pcm.forEach((pcm, i) => assert.deepEqual(pcm, expected[i], `frame ${i}`));
      }
      for (const c of calls) c.codec.close();
    } finally {
      await pool.close();
    }
  },
);

test('encode on a worker: the packets decode to the tone; decode failures, FEC and PLC arrive as asked, in order', { skip }, async () => {
  const pool = startPool(1);
  try {
    const r = recorder();
    const codec = pool.open({ sampleRate: 24000, recovery: false }, r.sink);
    const tone = new Int16Array(24000);
    for (let i = 0; i < tone.length; i++) tone[i] = Math.round(8000 * Math.sin((2 * Math.PI * 660 * i) / 24000));
    for (let i = 0; i < 50; i++) codec.encode(tone.subarray(i * 480, (i + 1) * 480));
    assert.equal(codec.pendingEncodes, 50);
    await until(() => r.opus.length === 50);
    assert.equal(codec.pendingEncodes, 0);
    const out = recorder();
    const dec = inlineCodecs.open({ sampleRate: 24000, recovery: false }, out.sink);
    for (const p of r.opus) dec.decode('packet', p);
    dec.close();
    const pcm = new Int16Array(out.pcm.reduce((n, f) => n + f.length, 0));
    out.pcm.reduce((at, f) => (pcm.set(f, at), at + f.length), 0);
    const a = analyzeTone(pcm.subarray(2400), { sampleRate: 24000 });
    assert.ok(Math.abs(a.frequency - 660) < 10, `${a.frequency} Hz`);

    codec.decode('packet', Buffer.alloc(0));
    codec.decode('conceal');
    codec.decode('fec', r.opus[10]);
    codec.decode('packet', r.opus[11]);
    await until(() => r.events.length === 54);
    assert.deepEqual(r.events.slice(50), ['packet:failed', 'conceal', 'fec', 'packet']);
    codec.close();
  } finally {
    await pool.close();
  }
});

test(
  'cancelEncodes drops the encodes on their way; after() runs once what came before has, told whether a cancel came between',
  { skip },
  async () => {
    const pool = startPool(1);
    try {
      const r = recorder();
      const codec = pool.open({ sampleRate: 8000, recovery: true }, r.sink);
      const settled: string[] = [];
      codec.after((cancelled) => settled.push(`idle:${cancelled}`));
      assert.deepEqual(settled, ['idle:false'], 'nothing waiting: at once');
      const frame = new Int16Array(160).fill(1000);
      for (let i = 0; i < 5; i++) codec.encode(frame);
      codec.after((cancelled) => settled.push(`a:${cancelled}:${r.opus.length}`));
      codec.cancelEncodes();
      assert.equal(codec.pendingEncodes, 0);
      codec.encode(frame);
      codec.after((cancelled) => settled.push(`b:${cancelled}:${r.opus.length}`));
      await until(() => settled.length === 3);
      assert.deepEqual(settled, ['idle:false', 'a:true:0', 'b:false:1']);
      assert.equal(r.opus.length, 1, 'only the encode after the cancel');
      codec.encode(frame);
      codec.after((cancelled) => settled.push(`closed:${cancelled}`));
      codec.close();
      await until(() => settled.length === 4);
      assert.equal(settled[3], 'closed:true');
      codec.after((cancelled) => settled.push(`late:${cancelled}`));
      assert.equal(settled[4], 'late:true');
      assert.equal(r.opus.length, 1, 'nothing reaches a closed codec');
    } finally {
      await pool.close();
    }
  },
);

test('a sink that throws is contained and counted; the other calls go on', { skip }, async () => {
  const errors: string[] = [];
  const pool = CodecPool.start({ threads: 1, onError: (what) => errors.push(what) });
  assert.ok(pool instanceof CodecPool);
  try {
    const bad = pool.open(
      { sampleRate: 8000, recovery: true },
      {
        decoded() {
          throw new Error('handler bug');
        },
        encoded() {},
      },
    );
    const r = recorder();
    const good = pool.open({ sampleRate: 8000, recovery: true }, r.sink);
    const p = createOpusEncoder({ sampleRate: 8000 }).encode(new Int16Array(160));
    bad.decode('packet', p);
    good.decode('packet', p);
    await until(() => r.pcm.length === 1);
    assert.deepEqual(errors, ['sink']);
    assert.equal(pool.stats.sinkErrors, 1);
    bad.close();
    good.close();
  } finally {
    await pool.close();
  }
});

test('--codec-threads bounds: 0, 65 and 1.5 threads are refused', () => {
  for (const threads of [0, 65, 1.5]) assert.ok(CodecPool.start({ threads }) instanceof RangeError, String(threads));
});

test('the wire: a record payload past the bound throws; a reply shorter than its request throws', () => {
  const w = new BatchWriter();
  assert.throws(() => w.record(CodecOp.Encode, 1, new Uint8Array(5000)), /payload 5000/);
  w.reply(new Uint8Array([1, 2, 3]));
  w.reply(undefined);
  const reader = new ReplyReader(w.take());
  assert.deepEqual([...reader.next()!], [1, 2, 3]);
  assert.equal(reader.next(), undefined);
  assert.throws(() => reader.next(), /shorter than its request/);
  const lying = new DataView(new ArrayBuffer(8));
  lying.setInt32(0, 100, true);
  assert.throws(() => new ReplyReader(lying.buffer).next(), /past the batch/);
});

test('a codec whose rate libopus refuses fails its operations (counted); the worker and its other calls go on', { skip }, async () => {
  const pool = startPool(1);
  try {
    const bad = recorder();
    const good = recorder();
    const refused = pool.open({ sampleRate: 12345 as 8000, recovery: true }, bad.sink);
    const fine = pool.open({ sampleRate: 8000, recovery: true }, good.sink);
    const p = createOpusEncoder({ sampleRate: 8000 }).encode(new Int16Array(160));
    refused.decode('packet', p);
    fine.decode('packet', p);
    await until(() => bad.events.length === 1 && good.events.length === 1);
    assert.deepEqual(bad.events, ['packet:failed']);
    assert.deepEqual(good.events, ['packet']);
    assert.equal(pool.stats.failures, 1);
    assert.equal(pool.stats.restarts, 0);
    refused.close();
    fine.close();
  } finally {
    await pool.close();
  }
});

test('a worker that dies fails what it had (counted), is started again, and its calls go on with fresh codecs', { skip }, async () => {
  const errors: string[] = [];
  const pool = CodecPool.start({
    threads: 1,
    workerUrl: new URL('./fixtures/dying-codec-worker.ts', import.meta.url),
    onError: (what) => errors.push(what),
  });
  assert.ok(pool instanceof CodecPool, String(pool));
  try {
    const a = recorder();
    const b = recorder();
    const encoder = pool.open({ sampleRate: 24000, recovery: false }, a.sink);
    const decoder = pool.open({ sampleRate: 8000, recovery: true }, b.sink);
    const packet = createOpusEncoder({ sampleRate: 8000 }).encode(new Int16Array(160));
    const frame = new Int16Array(480).fill(1000);
    encoder.encode(frame);
    decoder.decode('packet', packet);
    await until(() => a.opus.length === 1 && b.pcm.length === 1);
    assert.equal(pool.stats.restarts, 0);

    // One batch: a poisoned encode and a decode of the other call. The worker dies with both.
    const poison = new Int16Array(480).fill(POISON);
    encoder.encode(poison);
    decoder.decode('packet', packet);
    const marks: boolean[] = [];
    encoder.after((cancelled) => marks.push(cancelled));
    await until(() => pool.stats.restarts === 1 && b.events.length === 2 && marks.length === 1);
    assert.deepEqual(b.events, ['packet', 'packet:failed'], 'the decode on the dead worker failed');
    assert.equal(a.opus.length, 1, 'the encode on the dead worker is dropped');
    assert.equal(encoder.pendingEncodes, 0, 'a lost encode is no longer pending (marks and the truncate count on it)');
    assert.deepEqual(marks, [false], 'a mark behind the lost work still settles');
    assert.equal(pool.stats.failures, 2);
    assert.deepEqual(errors, ['worker']);

    // Both calls go on, on the new worker.
    encoder.encode(frame);
    decoder.decode('packet', packet);
    await until(() => a.opus.length === 2 && b.events.length === 3);
    assert.equal(b.events[2], 'packet');
    assert.equal(encoder.pendingEncodes, 0);
    assert.equal(pool.stats.restarts, 1);
    encoder.close();
    decoder.close();
  } finally {
    await pool.close();
  }
});
