// The two places a bridge's Opus work can run (media/frame-codec.ts): inline on the event loop,
// and on worker threads (media/codec-pool.ts, `--codec-threads`). Handler tests run once per mode,
// so both providers are held to the same behaviour. The pool starts on first use; a file's
// after() hook closes it.
import assert from 'node:assert/strict';
import { CodecPool } from '../../src/media/codec-pool.ts';
import type { FrameCodecs } from '../../src/media/frame-codec.ts';

let pool: CodecPool | undefined;

export interface CodecMode {
  readonly name: string;
  /** undefined: the handler's default (inline). */
  codecs(): FrameCodecs | undefined;
}

export const CODEC_MODES: readonly CodecMode[] = [
  { name: 'inline codec', codecs: () => undefined },
  {
    name: 'codec threads',
    codecs: () => {
      if (pool === undefined) {
        const started = CodecPool.start({ threads: 2 });
        assert.ok(started instanceof CodecPool, String(started));
        pool = started;
      }
      return pool;
    },
  },
];

export async function closeCodecModes(): Promise<void> {
  await pool?.close();
  pool = undefined;
}
