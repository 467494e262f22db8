import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createToneHandler, createToneHandlerFactory } from '../../src/transceiver/handlers/tone.ts';
import { canPull } from '../../src/transceiver/handlers/pull.ts';
import { createOpusDecoder, OPUS_FRAME_SAMPLES } from '../../src/media/opus.ts';
import { analyzeTone } from '../../src/media/analysis.ts';
import { inbound, recordingContext } from './fake-context.ts';

function decodeAll(packets: Buffer[]): Int16Array {
  const dec = createOpusDecoder({ channels: 1 });
  const out = new Int16Array(packets.length * OPUS_FRAME_SAMPLES);
  packets.forEach((p, i) => {
    const pcm = dec.decode(p);
    assert.equal(pcm.length, OPUS_FRAME_SAMPLES, 'every packet is one 20 ms frame');
    out.set(pcm, i * OPUS_FRAME_SAMPLES);
  });
  return out;
}

test('pull() yields decodable 20 ms frames of a 440 Hz tone by default', () => {
  const ctx = recordingContext();
  const h = createToneHandler(ctx);
  assert.ok(canPull(h));
  const packets: Buffer[] = [];
  for (let i = 0; i < 50; i++) packets.push(h.pull()!);
  const a = analyzeTone(decodeAll(packets).subarray(4800));
  assert.ok(Math.abs(a.frequency - 440) < 2, `got ${a.frequency} Hz`);
  assert.ok(a.purity > 0.9, `purity ${a.purity}`);
  assert.equal(ctx.sent.length, 0, 'pull-driven: nothing pushed');
  h.close();
});

test('a configured frequency (1000 Hz) is what the caller hears', () => {
  const h = createToneHandlerFactory({ frequency: 1000, amplitude: 0.5 })(recordingContext());
  assert.ok(canPull(h));
  const packets = Array.from({ length: 40 }, () => h.pull()!);
  const a = analyzeTone(decodeAll(packets).subarray(4800));
  assert.ok(Math.abs(a.frequency - 1000) < 2, `got ${a.frequency} Hz`);
  assert.ok(Math.abs(a.amplitude - 0.5) < 0.05, `amplitude ${a.amplitude}`);
});

test('without pull() it pushes one frame per inbound frame; once pulled it stops pushing', () => {
  const ctx = recordingContext();
  const h = createToneHandler(ctx);
  for (let i = 0; i < 30; i++) h.onAudio(inbound(Buffer.from([0x78, 0]), i));
  assert.equal(ctx.sent.length, 30);
  const a = analyzeTone(decodeAll(ctx.sent).subarray(4800));
  assert.ok(Math.abs(a.frequency - 440) < 2, `got ${a.frequency} Hz`);
  assert.ok(canPull(h));
  assert.ok(h.pull());
  h.onAudio(inbound(Buffer.from([0x78, 0]), 31));
  assert.equal(ctx.sent.length, 30, 'no double production when the session pulls');
});

test('after close() it produces nothing, and close() is idempotent', () => {
  const ctx = recordingContext();
  const h = createToneHandler(ctx);
  assert.ok(canPull(h));
  h.close();
  h.close();
  assert.equal(h.pull(), undefined);
  h.onAudio(inbound(Buffer.from([0x78]), 0));
  assert.equal(ctx.sent.length, 0);
});

test('bad options are refused when the factory is made, not per call', () => {
  assert.throws(() => createToneHandlerFactory({ frequency: 5 }), { code: 'ERR_HANDLER_BAD_OPTION' });
  assert.throws(() => createToneHandlerFactory({ frequency: 30000 }), { code: 'ERR_HANDLER_BAD_OPTION' });
  assert.throws(() => createToneHandlerFactory({ amplitude: 0 }), { code: 'ERR_HANDLER_BAD_OPTION' });
});
