// The bridges' WebSocket clients (realtime models, media-stream agents) mask what they send with
// bufferutil's native code, which ws loads when it is installed (package.json optionalDependencies;
// its tarball ships the linux-x64 build): without it ws masks every byte in a JavaScript loop.
// Where bufferutil ships no build for the platform it falls back to its own JavaScript, and ws works
// either way; this file checks that the install gave the native one, and that a masked text
// message of an append's size arrives intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createRequire } from 'node:module';
import WebSocket, { WebSocketServer } from 'ws';

const PREBUILT = process.platform === 'linux' && process.arch === 'x64';

test(
  'ws finds bufferutil, and on linux-x64 its mask is native code',
  { skip: !PREBUILT && 'bufferutil ships no build for this platform' },
  () => {
    // Resolved from ws's own directory, as ws's buffer-util.js requires it.
    const fromWs = createRequire(createRequire(import.meta.url).resolve('ws'));
    const bufferUtil = fromWs('bufferutil') as { mask: (...args: unknown[]) => void };
    assert.match(Function.prototype.toString.call(bufferUtil.mask), /\[native code\]/);
  },
);

test('a masked 2.5 KB text message from a client reaches the server byte for byte', async () => {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const port = (wss.address() as { port: number }).port;
  const got = new Promise<Buffer>((resolve) => wss.once('connection', (s) => s.once('message', (data) => resolve(data as Buffer))));
  const ws = new WebSocket(`ws://127.0.0.1:${port}`, { perMessageDeflate: false });
  try {
    await once(ws, 'open');
    const text = Buffer.from(`{"type":"input_audio_buffer.append","audio":"${Buffer.alloc(1920, 0x5a).toString('base64')}"}`);
    ws.send(text, { binary: false });
    assert.deepEqual(await got, text);
  } finally {
    ws.terminate();
    for (const c of wss.clients) c.terminate();
    await new Promise((r) => wss.close(r));
  }
});
