// Issue #18: the registry hands a call's answer to the caller's `accepted` (the HTTP layer sends
// it there) once nothing can refuse the call any more, and only then adds the call's session to
// the media endpoint, so the session's start is not on the answer's path. A refused offer never
// reaches `accepted`; an async factory's call reaches it only after the factory settled; the
// result carries the same id and answer; a throwing `accepted` still leaves the call started.
// A factory registered as synchronous has its call answered before the session is even built
// (before the factory runs); if it returns a promise all the same, its failure ends the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { CallRegistry } from '../../src/transceiver/calls/call-registry.ts';
import type { Session } from '../../src/transceiver/calls/session.ts';
import type { MediaEndpoint } from '../../src/transceiver/media/endpoint.ts';
import { transceiverMetrics } from '../../src/transceiver/transceiver-metrics.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import type { MediaHandler } from '../../src/transceiver/handlers/media-handler.ts';

const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const CERT = generateCertificate(seededRng('accepted-cert'));

function registryWith(events: string[]): { registry: CallRegistry; added: Session[]; closed: [string, string][] } {
  const added: Session[] = [];
  const closed: [string, string][] = [];
  const endpoint = {
    observe: () => () => {},
    add: (s: Session) => {
      added.push(s);
      events.push(`add ${s.id}`);
    },
    wake: (s: Session) => events.push(`wake ${s.id}`),
    closeSession: (s: Session, reason: string) => closed.push([s.id, reason]),
  } as unknown as MediaEndpoint;
  const handlers = new HandlerRegistry();
  const quiet = (): MediaHandler => ({ onAudio() {}, close() {} });
  handlers.register('quiet', quiet);
  handlers.register('dials', async () => quiet());
  handlers.register('unreachable', async () => {
    throw new Error('agent down');
  });
  handlers.register(
    'sync',
    () => {
      events.push('factory');
      return quiet();
    },
    { synchronous: true },
  );
  handlers.register('undeclared', () => {
    events.push('factory');
    return quiet();
  });
  // Registered as synchronous, yet it dials (a wrong declaration): the call is answered first.
  handlers.register(
    'sync-but-unreachable',
    async () => {
      events.push('factory');
      throw new Error('agent down');
    },
    { synchronous: true },
  );
  const registry = new CallRegistry({
    keyring: Keyring.generate(seededRng('accepted-keys')),
    mediaAddress: { address: '127.0.0.1', port: 40000, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    certificate: CERT,
    rng: seededRng('accepted'),
    clock: () => 0,
    wallClock: () => 1_800_000_000_000,
    endpoint,
    maxSessions: 10,
    maxCallMs: 60_000,
    defaultHandler: 'quiet',
    handlers,
    metrics: transceiverMetrics(new MetricsRegistry()),
  });
  return { registry, added, closed };
}

test('the answer goes to `accepted` before the session is added to the endpoint, with the id and answer the result carries', async () => {
  for (const handler of ['quiet', 'dials']) {
    const events: string[] = [];
    const { registry, added } = registryWith(events);
    const seen: { id: string; answer: string }[] = [];
    const made = await registry.createCall(CHROME, {
      handler,
      accepted: (id, answer) => {
        seen.push({ id, answer });
        events.push(`accepted ${id}`);
      },
    });
    assert.ok(made.ok);
    assert.deepEqual(seen, [{ id: made.id, answer: made.answer }], handler);
    assert.deepEqual(events, [`accepted ${made.id}`, `add ${made.id}`, `wake ${made.id}`], handler);
    assert.equal(added[0].id, made.id);
    assert.match(made.answer, /^v=0\r\n/);
    registry.endCall(made.id, 'hangup');
  }
});

test('a refused offer never reaches `accepted` and starts no session', async () => {
  const events: string[] = [];
  const { registry, added } = registryWith(events);
  const accepted = (): void => {
    events.push('accepted');
  };
  const refusals = [
    await registry.createCall('v=0\r\nnot sdp', { accepted }),
    await registry.createCall(CHROME.replace(/a=rtpmap:111 opus\/48000\/2\r\n/, ''), { accepted }),
    await registry.createCall(CHROME, { handler: 'nobody', accepted }),
    await registry.createCall(CHROME, { handler: 'unreachable', accepted }),
  ].map((r) => (r.ok ? 'ok' : r.refusal));
  assert.deepEqual(refusals, ['bad_sdp', 'sdp_not_acceptable', 'unknown_handler', 'agent_unavailable']);
  assert.deepEqual(events, []);
  assert.equal(added.length, 0);
  assert.equal(registry.activeCount, 0);
});

test('a throwing `accepted` still leaves the call started and counted', async () => {
  const events: string[] = [];
  const { registry, added } = registryWith(events);
  await assert.rejects(
    registry.createCall(CHROME, {
      accepted: () => {
        throw new Error('send failed');
      },
    }),
    /send failed/,
  );
  assert.equal(added.length, 1);
  assert.equal(registry.activeCount, 1);
  assert.ok(registry.getCall(added[0].id));
  registry.endCall(added[0].id, 'hangup');
});

test('a factory registered as synchronous: `accepted` comes before the factory runs, then the session starts', async () => {
  const events: string[] = [];
  const { registry, added } = registryWith(events);
  const seen: { id: string; answer: string }[] = [];
  const made = await registry.createCall(CHROME, {
    handler: 'sync',
    accepted: (id, answer) => {
      seen.push({ id, answer });
      events.push(`accepted ${id}`);
    },
  });
  assert.ok(made.ok);
  assert.deepEqual(seen, [{ id: made.id, answer: made.answer }]);
  assert.deepEqual(events, [`accepted ${made.id}`, 'factory', `add ${made.id}`, `wake ${made.id}`]);
  assert.equal(added[0].id, made.id);
  assert.equal(registry.activeCount, 1);
  registry.endCall(made.id, 'hangup');

  // Not registered as synchronous: the factory runs before the answer, as for any factory.
  const undeclared: string[] = [];
  const other = registryWith(undeclared);
  const second = await other.registry.createCall(CHROME, { handler: 'undeclared', accepted: (id) => undeclared.push(`accepted ${id}`) });
  assert.ok(second.ok);
  assert.deepEqual(undeclared, ['factory', `accepted ${second.id}`, `add ${second.id}`, `wake ${second.id}`]);
  other.registry.endCall(second.id, 'hangup');
});

test('a "synchronous" factory that returns a failing promise: the call was answered, and is ended with agent_error', async () => {
  const events: string[] = [];
  const { registry, added, closed } = registryWith(events);
  const made = await registry.createCall(CHROME, { handler: 'sync-but-unreachable', accepted: (id) => events.push(`accepted ${id}`) });
  assert.ok(made.ok);
  assert.deepEqual(events, [`accepted ${made.id}`, 'factory', `add ${made.id}`, `wake ${made.id}`]);
  assert.equal(added.length, 1);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(closed, [[made.id, 'agent_error']]);
});

test("a throwing `accepted` of a synchronous factory's call still leaves the call started and counted", async () => {
  const events: string[] = [];
  const { registry, added } = registryWith(events);
  await assert.rejects(
    registry.createCall(CHROME, {
      handler: 'sync',
      accepted: () => {
        throw new Error('send failed');
      },
    }),
    /send failed/,
  );
  assert.equal(added.length, 1);
  assert.equal(registry.activeCount, 1);
  registry.endCall(added[0].id, 'hangup');
});
