// `parley dev` as a user meets it: it comes up on free ports with no configuration, serves the
// demo page and the signaling API, and SIGINT (Ctrl-C) stops both children and exits 0, leaving
// every port it held free again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { parseAddress } from '../../src/core/address.ts';
import { startDev } from './helpers.ts';

function udpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createSocket('udp4');
    s.once('error', () => resolve(false));
    s.bind({ address: host, port }, () => s.close(() => resolve(true)));
  });
}

function tcpFree(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

test('parley dev serves the demo page and stops cleanly on SIGINT', { timeout: 60_000 }, async () => {
  const dev = await startDev();
  let stopped = false;
  try {
    const page = await fetch(dev.ready.page);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /id="call"/);
    assert.match(dev.ready.page, /^http:\/\/localhost:\d+\/$/, 'the page is on localhost: a secure context for getUserMedia');
    const bad = await fetch(dev.ready.signaling, { method: 'POST', headers: { 'content-type': 'application/sdp' }, body: 'not sdp' });
    assert.equal(bad.status, 400);
    await bad.arrayBuffer();

    assert.equal(await dev.stop('SIGINT'), 0, dev.log());
    stopped = true;
    const relay = parseAddress(dev.ready.relay)!;
    const http = new URL(dev.ready.signaling);
    assert.ok(await udpFree(relay.address, relay.port), 'the relay port is free again');
    assert.ok(await tcpFree(http.hostname, Number(http.port)), 'the HTTP port is free again');
  } finally {
    if (!stopped) await dev.stop();
  }
});
