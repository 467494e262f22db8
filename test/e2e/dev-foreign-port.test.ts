// `parley dev` checks its own children (issue #20): when a foreign process holds one of its
// ports it must not print "parley dev ready" — even if that process answers /readyz with 200.
// The child that could not bind exits, and dev says which and exits 1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startDev } from './helpers.ts';

async function notReady(args: string[]): Promise<string> {
  try {
    const dev = await startDev(args, 60_000);
    await dev.stop();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('parley dev reported ready');
}

test(
  'a foreign HTTP server on the transceiver port that answers 200 everywhere: dev never reports ready',
  { timeout: 120_000 },
  async () => {
    const foreign = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' }).end('ready\n');
    });
    await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
    const port = (foreign.address() as AddressInfo).port;
    try {
      const why = await notReady(['--http', `127.0.0.1:${port}`]);
      assert.match(why, /parley dev exited \(1\) before ready/);
      assert.match(why, /parley dev: transceiver exited/);
      assert.match(why, /EADDRINUSE/);
      assert.doesNotMatch(why, /parley dev ready/);
    } finally {
      await new Promise<void>((r) => foreign.close(() => r()));
    }
  },
);

test(
  'a foreign UDP socket (SO_REUSEPORT) on the relay port: the relay refuses to join it and dev never reports ready',
  { timeout: 120_000 },
  async () => {
    const squatter = dgram.createSocket({ type: 'udp4', reusePort: true });
    await new Promise<void>((r) => squatter.bind(0, '127.0.0.1', () => r()));
    try {
      const why = await notReady(['--relay', `127.0.0.1:${squatter.address().port}`]);
      assert.match(why, /parley dev exited \(1\) before ready/);
      assert.match(why, /parley dev: relay exited \(2\)/);
      assert.match(why, /does not forward this relay's tokens/);
    } finally {
      await new Promise<void>((r) => squatter.close(() => r()));
    }
  },
);
