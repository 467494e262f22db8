// Async handler factories through the real signaling API (in process, 127.0.0.1): a factory that
// dials its agent holds the POST until it is ready (201), one that rejects or misses the setup
// deadline gets 502 agent_unavailable with the reason, and the slot it reserved is free again.
// The slot counts while the factory runs, so dialling counts against --max-sessions.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import type { MediaHandler } from '../../src/transceiver/handlers/media-handler.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { TEST_MEDIA_IO } from './helpers/media-io.ts';

const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
let trx: Transceiver;
let base: string;
const closed: string[] = [];
const timers = new Set<ReturnType<typeof setTimeout>>();
const later = <T>(ms: number, f: () => T): Promise<T> =>
  new Promise((resolve, reject) => {
    const t = setTimeout(() => {
      timers.delete(t);
      try {
        resolve(f());
      } catch (err) {
        reject(err as Error);
      }
    }, ms);
    timers.add(t);
  });
const quiet = (name: string): MediaHandler => ({ onAudio() {}, close: () => closed.push(name) });

before(async () => {
  const handlers = new HandlerRegistry();
  handlers.register('dials', () => later(100, () => quiet('dials')));
  handlers.register('refused', () =>
    later(20, () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:9');
    }),
  );
  handlers.register('slow', () => later(1500, () => quiet('slow')));
  trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring: Keyring.generate(seededRng('async-keys')),
    maxSessions: 1,
    maxCallSeconds: 60,
    handler: 'dials',
    handlers,
    certificate: generateCertificate(seededRng('async-cert')),
    rng: seededRng('async'),
    mediaIo: TEST_MEDIA_IO,
    handlerSetupTimeoutMs: 300,
  });
  base = `http://127.0.0.1:${trx.httpAddress.port}`;
});

after(async () => {
  for (const t of timers) clearTimeout(t);
  await trx.close();
});

function post(query: string): Promise<Response> {
  return fetch(`${base}/v1/realtime/calls${query}`, { method: 'POST', body: CHROME, headers: { 'content-type': 'application/sdp' } });
}

test('a factory that dials for 100 ms: the POST waits for it and gets 201; meanwhile the slot is taken (503)', async () => {
  const started = Date.now();
  const first = post('');
  await later(30, () => undefined);
  const second = await post('');
  assert.equal(second.status, 503, 'the dialling call holds the only slot');
  await second.text();
  const res = await first;
  assert.equal(res.status, 201);
  assert.ok(Date.now() - started >= 90, 'the answer waited for the agent');
  const location = res.headers.get('location')!;
  await res.text();
  await (await fetch(`${base}${location}`, { method: 'DELETE' })).text();
});

test('a factory that rejects: 502 agent_unavailable with its reason, and the slot is free again', async () => {
  const res = await post('?handler=refused');
  assert.equal(res.status, 502);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.equal(body.error.code, 'ERR_SIGNALING_AGENT_UNAVAILABLE');
  assert.match(body.error.message, /ECONNREFUSED/);
  const next = await post('');
  assert.equal(next.status, 201, 'the refused call gave its slot back');
  const location = next.headers.get('location')!;
  await next.text();
  await (await fetch(`${base}${location}`, { method: 'DELETE' })).text();
});

test('a factory slower than the setup deadline: 502, and the handler that comes late is closed', async () => {
  const res = await post('?handler=slow');
  assert.equal(res.status, 502);
  const body = (await res.json()) as { error: { code: string; message: string } };
  assert.match(body.error.message, /not ready within 300 ms/);
  await later(1400, () => undefined);
  assert.ok(closed.includes('slow'), 'the late handler was closed, not leaked');
  const metrics = await (await fetch(`http://127.0.0.1:${trx.opsAddress.port}/metrics`)).text();
  assert.match(metrics, /parley_transceiver_calls_rejected_total\{reason="agent_unavailable"\} 2/);
});
