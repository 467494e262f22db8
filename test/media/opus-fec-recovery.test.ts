// Loss recovery with libopus (media/opus-recovery.ts, native/src/opus_native.c): a frame lost
// from a stream encoded with in-band FEC (RFC 6716 §2.1.7, what useinbandfec=1 asks a sender
// for) is rebuilt from the next packet far closer to what the lossless decoder heard than the
// codec's own concealment guesses it; PLC and FEC continue one decoder state; CELT-only packets
// never carry FEC; bad input throws. CI=true: libopus must load (nothing skips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createOpusEncoder } from '../../src/media/opus.ts';
import { createRecoveringDecoder, isFecCapable, loadOpusAddon } from '../../src/media/opus-recovery.ts';
import type { RecoveringDecoder } from '../../src/media/opus-recovery.ts';
import { glide, snrDb } from '../support/speech-like.ts';

const addon = loadOpusAddon();
const skip = addon instanceof Error && process.env.CI !== 'true' ? addon.message : false;

const RATE = 16000;
const N = RATE / 50;

function decoder(): RecoveringDecoder {
  const d = createRecoveringDecoder(RATE);
  assert.ok(!(d instanceof Error), String(d));
  return d;
}

test('a lost frame from an FEC stream: decodeFec(next) is ≥ 10 dB closer to the lossless decode than PLC', { skip }, () => {
  const enc = createOpusEncoder({ sampleRate: RATE, application: 'voip', bitrate: 32000, inbandFecLossPercent: 10 });
  const packets = glide(200).map((f) => enc.encode(f));
  assert.ok(packets.every(isFecCapable), 'voip at 32 kb/s is SILK or hybrid');
  const ref = decoder();
  const reference = packets.map((p) => ref.decode(p));
  const withFec = decoder();
  const withPlc = decoder();
  const fec: number[] = [];
  const plc: number[] = [];
  const next: number[] = [];
  for (let i = 0; i < packets.length; i++) {
    if (i % 20 === 10) {
      fec.push(snrDb(withFec.decodeFec(packets[i + 1]), reference[i]));
      plc.push(snrDb(withPlc.conceal(), reference[i]));
    } else {
      const frame = withFec.decode(packets[i]);
      withPlc.decode(packets[i]);
      if (i % 20 === 11) next.push(snrDb(frame, reference[i]));
    }
  }
  const mean = (a: number[]): number => a.reduce((x, y) => x + y, 0) / a.length;
  console.log(`# FEC ${mean(fec).toFixed(1)} dB, PLC ${mean(plc).toFixed(1)} dB over ${fec.length} lost frames`);
  assert.ok(mean(fec) >= mean(plc) + 10, `FEC ${mean(fec)} dB vs PLC ${mean(plc)} dB`);
  // The frame after each loss decodes close to the lossless one again: one decoder state throughout.
  assert.ok(mean(next) > 15, `${mean(next)} dB on the frames after the losses`);
});

test('CELT-only packets carry no FEC (TOC config ≥ 16); decode checks its input', { skip }, () => {
  const enc = createOpusEncoder({ sampleRate: 48000, application: 'restricted_lowdelay' });
  const celt = enc.encode(new Int16Array(960));
  assert.equal(isFecCapable(celt), false);
  assert.equal(isFecCapable(Buffer.alloc(0)), false);
  const d = decoder();
  assert.equal(d.decode(createOpusEncoder({ sampleRate: RATE, application: 'voip' }).encode(new Int16Array(N))).length, N);
  assert.throws(() => d.decode(Buffer.alloc(0)), /1\.\.3825 bytes/);
  assert.throws(() => d.decode(Buffer.alloc(5000)), /1\.\.3825 bytes/);
  assert.equal(d.conceal().length, N);
  const addon = loadOpusAddon() as Exclude<ReturnType<typeof loadOpusAddon>, Error>;
  assert.throws(() => addon.create(RATE, 2), /mono only/);
  assert.throws(() => addon.create(44100, 1), /refused/);
  assert.throws(() => addon.decode({}, null, false, new Int16Array(N)), /bad decoder/);
});
