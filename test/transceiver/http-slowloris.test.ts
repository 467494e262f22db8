// Issue #19 item 7: Node checks its HTTP header and request timeouts only every 30 s by default,
// so the signaling server's 10 s header limit became 37 s, and nothing capped connections. The
// servers now run with common/http-limits.ts: a slowloris client (a header line every second, or
// a body trickled byte by byte) is cut off within a second of the limit, and connections beyond
// --max-http-connections are closed at once. Real signaling server, real sockets.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import type { Socket } from 'node:net';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { HEADERS_TIMEOUT_MS, REQUEST_TIMEOUT_MS } from '../../src/common/http-limits.ts';
import { TEST_MEDIA_IO } from './helpers/media-io.ts';

const MAX_CONNECTIONS = 5;
let trx: Transceiver;
before(async () => {
  const handlers = new HandlerRegistry();
  handlers.register('echo', createEchoHandler);
  trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring: Keyring.generate(seededRng('slowloris-keys')),
    maxSessions: 10,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers,
    certificate: generateCertificate(seededRng('slowloris-cert')),
    rng: seededRng('slowloris'),
    mediaIo: TEST_MEDIA_IO,
    maxHttpConnections: MAX_CONNECTIONS,
  });
});
after(async () => {
  await trx.close();
});

function open(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(trx.httpAddress.port, '127.0.0.1', () => resolve(s));
    s.once('error', reject);
  });
}

/** Writes `chunks` one a second until the server closes the socket; resolves with the seconds it stayed open. */
async function trickle(first: string, next: (i: number) => string, limitMs: number): Promise<{ seconds: number; reply: string }> {
  const s = await open();
  const t0 = performance.now();
  let reply = '';
  s.on('data', (d: Buffer) => (reply += d.toString()));
  s.on('error', () => {});
  s.write(first);
  let i = 0;
  const timer = setInterval(() => {
    if (!s.destroyed && s.writable) s.write(next(i++));
  }, 1_000);
  await new Promise<void>((resolve) => {
    const stop = setTimeout(() => s.destroy(), limitMs);
    s.once('close', () => {
      clearTimeout(stop);
      resolve();
    });
  });
  clearInterval(timer);
  return { seconds: (performance.now() - t0) / 1000, reply };
}

test('slowloris clients are cut off at the header and request limits, not 30 s later', { timeout: 60_000 }, async () => {
  const [headers, body] = await Promise.all([
    // A header line a second, never ending the headers.
    trickle('POST /v1/realtime/calls HTTP/1.1\r\nHost: x\r\n', (i) => `X-Slow-${i}: y\r\n`, 40_000),
    // Complete headers, then the body one byte a second.
    trickle(
      'POST /v1/realtime/calls HTTP/1.1\r\nHost: x\r\nContent-Type: application/sdp\r\nContent-Length: 1000\r\n\r\nv',
      () => '=',
      40_000,
    ),
  ]);
  console.log(
    `headers trickled: closed after ${headers.seconds.toFixed(1)} s (limit ${HEADERS_TIMEOUT_MS / 1000}); body trickled: closed after ${body.seconds.toFixed(1)} s (limit ${REQUEST_TIMEOUT_MS / 1000})`,
  );
  assert.ok(
    headers.seconds >= HEADERS_TIMEOUT_MS / 1000 - 0.5 && headers.seconds < HEADERS_TIMEOUT_MS / 1000 + 2,
    `headers: ${headers.seconds} s`,
  );
  assert.ok(body.seconds >= REQUEST_TIMEOUT_MS / 1000 - 0.5 && body.seconds < REQUEST_TIMEOUT_MS / 1000 + 2, `body: ${body.seconds} s`);
  assert.match(headers.reply, /^HTTP\/1\.1 408/, 'the server says why');
});

test(
  `connections beyond --max-http-connections (${MAX_CONNECTIONS} here) are closed at once; the rest are served`,
  { timeout: 20_000 },
  async () => {
    const sockets = await Promise.all(Array.from({ length: MAX_CONNECTIONS + 3 }, () => open()));
    const closed = await Promise.all(
      sockets.map(
        (s) =>
          new Promise<boolean>((resolve) => {
            s.on('error', () => {});
            const t = setTimeout(() => resolve(false), 1_000);
            s.once('close', () => {
              clearTimeout(t);
              resolve(true);
            });
          }),
      ),
    );
    const n = closed.filter(Boolean).length;
    console.log(`${sockets.length} connections opened: ${n} closed by the server at once`);
    assert.equal(n, 3);
    for (const s of sockets) s.destroy();
    // Once they are gone, a request is served again (an OPTIONS preflight: no key, no body).
    await new Promise((r) => setTimeout(r, 100));
    const res = await fetch(`http://127.0.0.1:${trx.httpAddress.port}/v1/realtime/calls`, { method: 'OPTIONS' });
    await res.text();
    assert.equal(res.status, 204);
  },
);
