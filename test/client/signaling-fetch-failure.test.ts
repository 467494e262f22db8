// postOffer says why a request failed, not Node's bare "fetch failed": the system error from
// fetch's cause (connection refused, with the address) and a deadline as a timeout.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import type { AddressInfo, Socket } from 'node:net';
import { postOffer } from '../../src/client/signaling.ts';

test('a refused connection names ECONNREFUSED and the address, not "fetch failed"', async () => {
  const server = createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  await assert.rejects(postOffer(`http://127.0.0.1:${port}/v1/realtime/calls`, 'v=0'), (err: Error) => {
    assert.match(err.message, new RegExp(`failed: connect ECONNREFUSED 127\\.0\\.0\\.1:${port}$`));
    assert.doesNotMatch(err.message, /fetch failed/);
    return true;
  });
});

test('a server that never answers fails as a timeout', async () => {
  const sockets: Socket[] = [];
  const server = createServer((s) => sockets.push(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime/calls`;
    await assert.rejects(postOffer(url, 'v=0', { timeoutMs: 200 }), /failed: no answer before the deadline \(timed out\)$/);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => server.close(() => r()));
  }
});
