import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { decodeWav, encodeWav, readWavFile, writeWavFile } from '../../src/media/wav.ts';
import { generateTone } from '../../src/media/tone.ts';
import { MediaError } from '../../src/media/errors.ts';

const isBadWav = (e: unknown): boolean => e instanceof MediaError && e.code === 'ERR_MEDIA_BAD_WAV';

test('WAV write then read gives back the same mono 48 kHz samples, via a file', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'parley-wav-'));
  try {
    const samples = generateTone(250, { frequency: 440 });
    const path = join(dir, 'tone.wav');
    await writeWavFile(path, { sampleRate: 48000, channels: 1, samples });
    const back = await readWavFile(path);
    assert.equal(back.sampleRate, 48000);
    assert.equal(back.channels, 1);
    assert.deepEqual(back.samples, samples);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('the header is the canonical 44-byte PCM layout', () => {
  const buf = encodeWav({ sampleRate: 48000, channels: 2, samples: new Int16Array([1, -1, 32767, -32768]) });
  assert.equal(buf.length, 44 + 8);
  assert.equal(buf.toString('ascii', 0, 4), 'RIFF');
  assert.equal(buf.readUInt32LE(4), buf.length - 8);
  assert.equal(buf.toString('ascii', 8, 16), 'WAVEfmt ');
  assert.equal(buf.readUInt16LE(20), 1, 'PCM');
  assert.equal(buf.readUInt16LE(22), 2, 'channels');
  assert.equal(buf.readUInt32LE(24), 48000);
  assert.equal(buf.readUInt32LE(28), 48000 * 4, 'byte rate');
  assert.equal(buf.readUInt16LE(32), 4, 'block align');
  assert.equal(buf.readUInt16LE(34), 16, 'bits');
  assert.equal(buf.toString('ascii', 36, 40), 'data');
  assert.equal(buf.readUInt32LE(40), 8);
  assert.equal(buf.readInt16LE(44), 1);
  assert.equal(buf.readInt16LE(50), -32768);
});

test('any rate, mono or stereo, round-trips (property)', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 384000 }),
      fc.constantFrom(1 as const, 2 as const),
      fc.array(fc.integer({ min: -32768, max: 32767 }), { maxLength: 200 }),
      (sampleRate, channels, values) => {
        const samples = Int16Array.from(values.slice(0, values.length - (values.length % channels)));
        const back = decodeWav(encodeWav({ sampleRate, channels, samples }));
        assert.deepEqual(back, { sampleRate, channels, samples });
      },
    ),
    { numRuns: 300 },
  );
});

test('skips unknown chunks (odd-sized ones with their pad byte) before and after fmt', () => {
  const plain = encodeWav({ sampleRate: 16000, channels: 1, samples: new Int16Array([5, 6, 7]) });
  const list = Buffer.concat([Buffer.from('LIST'), Buffer.from([3, 0, 0, 0]), Buffer.from('abc'), Buffer.from([0])]);
  const fmt = plain.subarray(12, 36);
  const data = plain.subarray(36);
  const body = Buffer.concat([Buffer.from('WAVE'), list, fmt, list, data]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(body.length, 4);
  const back = decodeWav(Buffer.concat([header, body]));
  assert.deepEqual([...back.samples], [5, 6, 7]);
});

test('reads WAVE_FORMAT_EXTENSIBLE with a PCM sub-format', () => {
  const fmt = Buffer.alloc(8 + 40);
  fmt.write('fmt ', 0, 'ascii');
  fmt.writeUInt32LE(40, 4);
  fmt.writeUInt16LE(0xfffe, 8);
  fmt.writeUInt16LE(1, 10);
  fmt.writeUInt32LE(48000, 12);
  fmt.writeUInt32LE(96000, 16);
  fmt.writeUInt16LE(2, 20);
  fmt.writeUInt16LE(16, 22);
  fmt.writeUInt16LE(22, 24);
  fmt.writeUInt16LE(16, 26);
  fmt.writeUInt16LE(1, 32);
  const data = Buffer.from([0x64, 0x61, 0x74, 0x61, 2, 0, 0, 0, 0x34, 0x12]);
  const body = Buffer.concat([Buffer.from('WAVE'), fmt, data]);
  const header = Buffer.alloc(8);
  header.write('RIFF', 0, 'ascii');
  header.writeUInt32LE(body.length, 4);
  assert.deepEqual([...decodeWav(Buffer.concat([header, body])).samples], [0x1234]);
});

test('bad files are rejected with ERR_MEDIA_BAD_WAV and a message that says why', () => {
  const good = encodeWav({ sampleRate: 48000, channels: 1, samples: new Int16Array([1, 2, 3, 4]) });
  const mutate = (f: (b: Buffer) => void): Buffer => {
    const b = Buffer.from(good);
    f(b);
    return b;
  };
  const cases: Array<[string, Buffer, RegExp]> = [
    ['empty', Buffer.alloc(0), /too short/],
    ['not RIFF', mutate((b) => b.write('RIFX', 0, 'ascii')), /RIFF/],
    ['not WAVE', mutate((b) => b.write('AVI ', 8, 'ascii')), /WAVE/],
    ['truncated', good.subarray(0, good.length - 2), /truncated/],
    ['data size past end', mutate((b) => b.writeUInt32LE(1000, 40)), /runs past/],
    [
      '8-bit',
      mutate((b) => {
        b.writeUInt16LE(8, 34);
        b.writeUInt16LE(1, 32);
        b.writeUInt32LE(48000, 28);
      }),
      /8 bits/,
    ],
    ['float', mutate((b) => b.writeUInt16LE(3, 20)), /not PCM/],
    ['6 channels', mutate((b) => b.writeUInt16LE(6, 22)), /6 channels/],
    ['bad block align', mutate((b) => b.writeUInt16LE(3, 32)), /block align/],
    ['bad byte rate', mutate((b) => b.writeUInt32LE(1, 28)), /byte rate/],
    ['zero rate', mutate((b) => b.writeUInt32LE(0, 24)), /sample rate/],
    ['no data chunk', mutate((b) => b.write('junk', 36, 'ascii')), /no data chunk/],
    [
      'no fmt chunk',
      mutate((b) => {
        b.write('junk', 12, 'ascii');
        b.write('junk', 36, 'ascii');
      }),
      /no fmt chunk/,
    ],
    ['data before fmt', mutate((b) => b.write('xxxx', 12, 'ascii')), /before the fmt/],
    [
      'odd data size',
      mutate((b) => {
        b.writeUInt32LE(7, 40);
      }),
      /whole number/,
    ],
    ['short fmt', mutate((b) => b.writeUInt32LE(12, 16)), /fmt chunk is 12 bytes/],
  ];
  for (const [name, buf, why] of cases) {
    assert.throws(
      () => decodeWav(buf),
      (e: unknown) => isBadWav(e) && why.test((e as Error).message),
      name,
    );
  }
});

test('the parser is total: hostile bytes give ERR_MEDIA_BAD_WAV or a valid result, never another error', () => {
  const good = encodeWav({ sampleRate: 48000, channels: 2, samples: new Int16Array(16) });
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(good.length), (noise, cut) => {
      for (const input of [Buffer.from(noise), Buffer.concat([good.subarray(0, cut), Buffer.from(noise)])]) {
        try {
          const r = decodeWav(input);
          assert.equal(r.samples.length % r.channels, 0);
        } catch (e) {
          assert.ok(isBadWav(e), String(e));
        }
      }
    }),
    { numRuns: 2000 },
  );
});

test('the writer refuses audio it cannot describe', () => {
  assert.throws(() => encodeWav({ sampleRate: 0, channels: 1, samples: new Int16Array(0) }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => encodeWav({ sampleRate: 48000, channels: 3 as 1, samples: new Int16Array(0) }), { code: 'ERR_MEDIA_BAD_OPTION' });
  assert.throws(() => encodeWav({ sampleRate: 48000, channels: 2, samples: new Int16Array(3) }), { code: 'ERR_MEDIA_BAD_OPTION' });
});
