// Issue #18: the registry writes a call's "call created" line when the call's setup is over —
// SETUP_LOG_DELAY_MS after it connects (with "call connected"), or when it closes first — not
// between the POST's answer and the client's first check, where its write delayed that check, nor
// at the connect itself, where the peer still finishes its own side (calls/call-registry.ts).
// Nothing is lost by that: one line each per call, with its id, handler and creation and connect
// times, ahead of the call's other lines. A sync factory's call is answered without the handler
// deadline's timer (ContainedHandler.async), and a throwing one is still contained.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { setImmediate as turn } from 'node:timers/promises';
import { createLogger } from '../../src/common/log.ts';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { CallRegistry, SETUP_LOG_DELAY_MS } from '../../src/transceiver/calls/call-registry.ts';
import type { Session } from '../../src/transceiver/calls/session.ts';
import type { MediaEndpoint, SessionObserver } from '../../src/transceiver/media/endpoint.ts';
import { transceiverMetrics } from '../../src/transceiver/transceiver-metrics.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { loopbackTransceiverOptions } from './helpers/loopback-transceiver.ts';

const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const lines: { msg: string; call?: string; handler?: string; createdAt?: string }[] = [];
let trx: Transceiver;
let base: string;

before(async () => {
  const handlers = new HandlerRegistry();
  handlers.register('quiet', () => ({ onAudio() {}, close() {} }));
  handlers.register('throws', () => {
    throw new Error('factory bug');
  });
  trx = await startTransceiver(
    loopbackTransceiverOptions('created-log', handlers, 'quiet', {
      log: createLogger({ component: 'test', level: 'info', sink: (line) => lines.push(JSON.parse(line)) }),
    }),
  );
  base = `http://127.0.0.1:${trx.httpAddress.port}`;
});

after(() => trx.close());

async function call(handler: string): Promise<string> {
  const res = await fetch(`${base}/v1/realtime/calls?handler=${handler}`, {
    method: 'POST',
    body: CHROME,
    headers: { 'content-type': 'application/sdp' },
  });
  assert.equal(res.status, 201);
  assert.match(await res.text(), /^v=0\r\n/);
  return res.headers.get('location')!.split('/').pop()!;
}

test('"call created" waits for the setup to end; a call that closes unconnected gets it once, with its creation time, before "call closed"', async () => {
  const before = Date.now();
  const ids = [await call('quiet'), await call('quiet')];
  await turn();
  for (const id of ids)
    assert.deepEqual(
      lines.filter((l) => l.call === id),
      [],
      `nothing logged for ${id} while it sets up`,
    );
  for (const id of ids) {
    const del = await fetch(`${base}/v1/realtime/calls/${id}`, { method: 'DELETE' });
    assert.equal(del.status, 200);
    await del.text();
    const mine = lines.filter((l) => l.call === id);
    assert.deepEqual(
      mine.map((l) => l.msg),
      ['call created', 'call closed'],
    );
    assert.equal(mine[0].handler, 'quiet');
    const at = Date.parse(mine[0].createdAt!);
    assert.ok(at >= before - 1000 && at <= Date.now(), `createdAt ${mine[0].createdAt}`);
  }
});

test('a sync factory that throws is contained as before: 201, and the call is logged once when it ends', async () => {
  const id = await call('throws');
  const del = await fetch(`${base}/v1/realtime/calls/${id}`, { method: 'DELETE' });
  await del.text();
  assert.equal(lines.filter((l) => l.call === id && l.msg === 'call created').length, 1);
});

/** A registry with a stand-in endpoint, its log lines, and a call made on it (its session as the endpoint got it). */
async function registryCall(): Promise<{
  logged: { msg: string; call?: string; connectedAt?: string }[];
  id: string;
  observer: SessionObserver;
  session: Session;
}> {
  const logged: { msg: string; call?: string; connectedAt?: string }[] = [];
  let observer: SessionObserver | undefined;
  let session: Session | undefined;
  const endpoint = {
    observe: (ob: SessionObserver) => {
      observer = ob;
      return () => {};
    },
    add: (s: Session) => {
      session = s;
    },
    wake: () => {},
    closeSession: () => {},
  } as unknown as MediaEndpoint;
  const registry = new CallRegistry({
    keyring: Keyring.generate(seededRng('created-unit-keys')),
    mediaAddress: { address: '127.0.0.1', port: 40000, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    certificate: generateCertificate(seededRng('created-unit-cert')),
    rng: seededRng('created-unit'),
    clock: () => 12,
    wallClock: () => 1_800_000_000_000,
    endpoint,
    maxSessions: 2,
    maxCallMs: 60_000,
    defaultHandler: 'echo',
    handlers: defaultHandlers(),
    metrics: transceiverMetrics(new MetricsRegistry()),
    log: createLogger({ component: 'test', sink: (line) => logged.push(JSON.parse(line)) }),
  });
  const made = await registry.createCall(CHROME, {});
  assert.ok(made.ok);
  await turn();
  assert.equal(logged.length, 0, 'nothing while the call sets up');
  return { logged, id: made.id, observer: observer!, session: session! };
}

/** What the endpoint reports when the DTLS handshake is done (a connected session's fields). */
const connectedSession = (id: string): Session =>
  ({ id, state: 'connected', createdAt: 0, connectedAt: 12, selectedPath: undefined }) as unknown as Session;

test('a call that connects gets "call created" and then "call connected" SETUP_LOG_DELAY_MS after the connect, with its time, and no second ones when it closes', async (t) => {
  const { logged, id, observer, session } = await registryCall();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  observer.sessionState(connectedSession(id));
  assert.equal(logged.length, 0, 'nothing at the connect: the peer is finishing its own side');
  t.mock.timers.tick(SETUP_LOG_DELAY_MS - 1);
  assert.equal(logged.length, 0);
  t.mock.timers.tick(1);
  assert.deepEqual(
    logged.map((l) => [l.msg, l.call]),
    [
      ['call created', id],
      ['call connected', id],
    ],
  );
  assert.equal(logged[1].connectedAt, new Date(1_800_000_000_000).toISOString());
  session.close('hangup', 20);
  observer.sessionClosed(session, 'hangup');
  t.mock.timers.tick(10 * SETUP_LOG_DELAY_MS);
  assert.deepEqual(
    logged.map((l) => l.msg),
    ['call created', 'call connected', 'call closed'],
  );
});

test('a call that closes sooner than SETUP_LOG_DELAY_MS after connecting gets its three lines at the close, in order, and none later', async (t) => {
  const { logged, id, observer, session } = await registryCall();
  t.mock.timers.enable({ apis: ['setTimeout'] });
  observer.sessionState(connectedSession(id));
  t.mock.timers.tick(SETUP_LOG_DELAY_MS / 2);
  assert.equal(logged.length, 0);
  session.close('hangup', 20);
  observer.sessionClosed(session, 'hangup');
  assert.deepEqual(
    logged.map((l) => [l.msg, l.call]),
    [
      ['call created', id],
      ['call connected', id],
      ['call closed', id],
    ],
  );
  t.mock.timers.tick(10 * SETUP_LOG_DELAY_MS);
  assert.equal(logged.length, 3, "the connect's timer wrote nothing more");
});
