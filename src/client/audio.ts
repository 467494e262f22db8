// Audio for the command-line client: turns a tone or a WAV file into 20 ms Opus packets ONCE,
// before the call (so sending costs nothing per packet and `parley load` can share them between
// calls), and rebuilds what came back into PCM for a WAV recording, placing each packet by its
// RTP timestamp so lost packets become silence of the right length instead of shortening it.
import { createOpusDecoder, createOpusEncoder, OPUS_FRAME_SAMPLES, OPUS_SAMPLE_RATE } from '../media/opus.ts';
import type { PcmAudio } from '../media/wav.ts';
import { createToneGenerator } from '../media/tone.ts';
import { ClientError, ClientErrorCode } from './errors.ts';

/** `seconds` of a sine at `hz` as mono Opus frames. */
export function encodeTone(hz: number, seconds: number): Buffer[] {
  const gen = createToneGenerator({ frequency: hz, amplitude: 0.5 });
  const enc = createOpusEncoder({ channels: 1 });
  try {
    const n = Math.max(1, Math.round((seconds * 1000) / 20));
    return Array.from({ length: n }, () => enc.encode(gen.nextFrame()));
  } finally {
    enc.close();
  }
}

/**
 * `seconds` of a tone whose level steps a little every frame, so that no two Opus frames are the
 * same: `parley load` recognises each echoed payload as the frame it sent (./echo-rtt.ts), and a
 * steady tone repeats its encoded frames every few packets.
 */
export function encodeDistinctTone(hz: number, seconds: number): Buffer[] {
  const gen = createToneGenerator({ frequency: hz, amplitude: 0.5 });
  const enc = createOpusEncoder({ channels: 1 });
  try {
    const n = Math.max(1, Math.round((seconds * 1000) / 20));
    return Array.from({ length: n }, (_, i) => {
      const pcm = gen.nextFrame();
      const gain = 0.5 + (0.5 * i) / n;
      for (let k = 0; k < pcm.length; k++) pcm[k] = Math.round(pcm[k] * gain);
      return enc.encode(pcm);
    });
  } finally {
    enc.close();
  }
}

/**
 * The PCM as Opus frames (zero-padded to whole 20 ms frames). 48 kHz only: this client does not
 * resample (src/media does not either), and says so instead of playing at the wrong pitch.
 */
export function encodePcm(audio: PcmAudio): Buffer[] {
  if (audio.sampleRate !== OPUS_SAMPLE_RATE) {
    throw new ClientError(
      ClientErrorCode.BadWav,
      `the WAV is ${audio.sampleRate} Hz; parley call sends 48000 Hz WAVs only (resample it first, e.g. with sox or ffmpeg)`,
    );
  }
  const enc = createOpusEncoder({ channels: audio.channels });
  const frameLen = OPUS_FRAME_SAMPLES * audio.channels;
  try {
    const out: Buffer[] = [];
    for (let off = 0; off < audio.samples.length; off += frameLen) {
      const frame = new Int16Array(frameLen);
      frame.set(audio.samples.subarray(off, Math.min(off + frameLen, audio.samples.length)));
      out.push(enc.encode(frame));
    }
    return out;
  } finally {
    enc.close();
  }
}

/** Collects received Opus packets and decodes them into one mono 48 kHz track. */
export class Recorder {
  readonly #packets: { timestamp: number; payload: Buffer }[] = [];

  add(timestamp: number, payload: Buffer): void {
    this.#packets.push({ timestamp, payload: Buffer.from(payload) });
  }

  get packets(): number {
    return this.#packets.length;
  }

  /** Decodes everything received so far; undecodable packets become silence. */
  toPcm(): PcmAudio {
    if (this.#packets.length === 0) return { sampleRate: OPUS_SAMPLE_RATE, channels: 1, samples: new Int16Array(0) };
    const first = this.#packets[0].timestamp;
    // RTP timestamps wrap at 2^32 (RFC 3550 §5.1): offsets are taken modulo 2^32 and signed.
    const offsetOf = (ts: number): number => (ts - first) | 0;
    const ordered = [...this.#packets].sort((a, b) => offsetOf(a.timestamp) - offsetOf(b.timestamp));
    const lastOffset = Math.max(0, offsetOf(ordered[ordered.length - 1].timestamp));
    const samples = new Int16Array(lastOffset + OPUS_FRAME_SAMPLES);
    const dec = createOpusDecoder({ channels: 1 });
    try {
      for (const p of ordered) {
        const at = offsetOf(p.timestamp);
        if (at < 0) continue;
        let pcm: Int16Array;
        try {
          pcm = dec.decode(p.payload);
        } catch {
          continue;
        }
        samples.set(pcm.subarray(0, Math.min(pcm.length, samples.length - at)), at);
      }
    } finally {
      dec.close();
    }
    return { sampleRate: OPUS_SAMPLE_RATE, channels: 1, samples };
  }
}
