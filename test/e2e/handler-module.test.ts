// Handler modules through `parley dev` (what `npm start` runs): examples/robot-handler.ts, loaded
// with --handler-module, is a PCM 16 kHz handler with marks and flush(). A silent caller hears its
// 550 Hz greeting and then, once the mark says the greeting played, its 660 Hz answer; a caller
// who talks over the greeting stops it (flush) and gets no answer (the mark said not played); keys
// the caller presses come back as key presses (ctx.sendDtmf → `parley call` reports them).
// A module that cannot be loaded is a configuration error naming the setting (exit 2).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { hasTone, rms } from '../../src/media/analysis.ts';
import { readWavFile, writeWavFile } from '../../src/media/wav.ts';
import { generateTone } from '../../src/media/tone.ts';
import { BIN, ROOT, runCall, startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

let dev: DevStack;
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'parley-robot-'));
  dev = await startDev(['--handler-module', 'examples/robot-handler.ts', '--handler', 'robot'], 60_000);
});

after(async () => {
  await dev?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

function audible(samples: Int16Array): Int16Array[] {
  const frames: Int16Array[] = [];
  for (let o = 0; o + 960 <= samples.length; o += 960)
    if (rms(samples.subarray(o, o + 960)) > 0.05) frames.push(samples.subarray(o, o + 960));
  return frames;
}
const join960 = (frames: Int16Array[]): Int16Array => {
  const out = new Int16Array(frames.length * 960);
  frames.forEach((f, i) => out.set(f, i * 960));
  return out;
};

test('a silent caller hears the 16 kHz greeting (550 Hz), then the answer (660 Hz) after its mark', { timeout: 60_000 }, async () => {
  const silence = join(dir, 'silence.wav');
  await writeWavFile(silence, { sampleRate: 48000, channels: 1, samples: new Int16Array(48000 * 3) });
  const wav = join(dir, 'heard.wav');
  const r = await runCall(dev.ready.signaling, ['--wav', silence, '--seconds', '3', '--record', wav]);
  assert.equal(r.code, 0, `${r.stderr}\n${dev.log()}`);
  const frames = audible((await readWavFile(wav)).samples);
  assert.ok(frames.length >= 80, `${frames.length} audible frames`);
  assert.ok(hasTone(join960(frames.slice(5, 40)), 550, { minPurity: 0.3 }).found, 'greeting at 550 Hz');
  assert.ok(hasTone(join960(frames.slice(-35, -5)), 660, { minPurity: 0.3 }).found, 'answer at 660 Hz');
});

test('a caller who talks over the greeting stops it (flush) and gets no answer', { timeout: 60_000 }, async () => {
  const talk = join(dir, 'talk.wav');
  const samples = new Int16Array(48000 * 3);
  samples.set(generateTone(2700, { frequency: 440, amplitude: 0.4 }), 48000 * 0.3);
  await writeWavFile(talk, { sampleRate: 48000, channels: 1, samples });
  const wav = join(dir, 'barged.wav');
  const r = await runCall(dev.ready.signaling, ['--wav', talk, '--seconds', '3', '--record', wav]);
  assert.equal(r.code, 0, `${r.stderr}\n${dev.log()}`);
  const frames = audible((await readWavFile(wav)).samples);
  // 0.3 s of greeting, ~0.1 s to notice, a little network: far from its 50 frames, and no answer.
  assert.ok(frames.length >= 5 && frames.length < 35, `${frames.length} audible frames: the greeting did not start or was not cut`);
  if (frames.length >= 10) assert.ok(!hasTone(join960(frames), 660, { minPurity: 0.3 }).found, 'no answer after a barge-in');
});

test(
  'parley call --dtmf 427: the robot presses each key back (ctx.sendDtmf), parley call reports them in order',
  { timeout: 60_000 },
  async () => {
    const r = await runCall(dev.ready.signaling, ['--seconds', '3', '--dtmf', '427', '--dtmf-at', '300']);
    assert.equal(r.code, 0, `${r.stderr}\n${dev.log()}`);
    assert.equal((r.summary as { dtmfReceived?: string }).dtmfReceived, '427', JSON.stringify(r.summary));
  },
);

test('a handler module that cannot be loaded: exit 2 naming --handler-module', { timeout: 30_000 }, async () => {
  const child = spawn(process.execPath, [BIN, 'dev', '--handler-module', join(dir, 'missing.ts'), '--http', '127.0.0.1:0'], { cwd: ROOT });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  assert.equal(code, 2, err);
  assert.match(err, /--handler-module/);
  assert.match(err, /missing\.ts/);
});
