// Issue #18: a call's identity (routing token, call id, SSRC, CNAME, SDP session id) is made in
// the idle time after the previous call connected, not on the POST: each prepared one is handed
// out once, never to two calls, and one older than PREPARED_IDENTITY_MAX_AGE_MS is replaced by one
// made on the POST, so a token's first-flow window is never shortened by more than that. Through
// the call registry: the prepared token is the one the next answer carries, issued when prepared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/common/clock.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, open } from '../../src/core/token/index.ts';
import type { MintResult } from '../../src/core/token/index.ts';
import { CallIdentities, PREPARED_IDENTITY_MAX_AGE_MS } from '../../src/transceiver/calls/call-identity.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { CallRegistry } from '../../src/transceiver/calls/call-registry.ts';
import type { Session } from '../../src/transceiver/calls/session.ts';
import type { MediaEndpoint, SessionObserver } from '../../src/transceiver/media/endpoint.ts';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { transceiverMetrics } from '../../src/transceiver/transceiver-metrics.ts';
import { readAnswer } from './helpers/answer.ts';

const EPOCH = Date.UTC(2026, 0, 1);

/** Identities whose token ufrag is `t<n>@<wallNow>` (n counts mints), so a test sees which mint and when. */
function counting(): { identities: CallIdentities; mints: number[] } {
  const mints: number[] = [];
  const identities = new CallIdentities({
    mint: (wallNow): MintResult => {
      mints.push(wallNow);
      return { ufrag: `t${mints.length}@${wallNow}`, pwd: 'p', keyId: 0 };
    },
    callId: (wallNow) => `rtc_${mints.length}@${wallNow}`,
    rng: seededRng('identities'),
  });
  return { identities, mints };
}

test('a prepared identity is handed out once; the next take makes a new one', () => {
  const { identities, mints } = counting();
  identities.prepare(1_000);
  identities.prepare(1_500); // still fresh: not made again
  assert.deepEqual(mints, [1_000]);
  const a = identities.take(2_000);
  assert.equal(a.token.ufrag, 't1@1000', 'the prepared one');
  assert.equal(a.id, 'rtc_1@1000');
  const b = identities.take(2_000);
  assert.equal(b.token.ufrag, 't2@2000', 'never the same one twice: made on the take');
  assert.notEqual(a.ssrc, b.ssrc);
  assert.notEqual(a.cname, b.cname);
  assert.notEqual(a.sessionId, b.sessionId);
  assert.ok(a.ssrc !== 0 && b.ssrc !== 0);
});

test('a prepared identity older than the limit (or from a clock that went back) is replaced, on prepare and on take', () => {
  const { identities, mints } = counting();
  identities.prepare(10_000);
  assert.equal(identities.take(10_000 + PREPARED_IDENTITY_MAX_AGE_MS).token.ufrag, 't1@10000', 'at the limit: still used');
  identities.prepare(20_000);
  assert.equal(identities.take(20_001 + PREPARED_IDENTITY_MAX_AGE_MS).token.ufrag, `t3@${20_001 + PREPARED_IDENTITY_MAX_AGE_MS}`);
  identities.prepare(30_000);
  assert.equal(identities.take(29_000).token.ufrag, 't5@29000', 'a clock that went back');
  identities.prepare(40_000);
  identities.prepare(40_001 + PREPARED_IDENTITY_MAX_AGE_MS);
  assert.deepEqual(mints.slice(-2), [40_000, 40_001 + PREPARED_IDENTITY_MAX_AGE_MS], 'prepare refreshes a stale one');
  assert.equal(identities.take(40_001 + PREPARED_IDENTITY_MAX_AGE_MS).token.ufrag, `t7@${40_001 + PREPARED_IDENTITY_MAX_AGE_MS}`);
});

test("through the call registry: the next call's token is minted after a call connects, used by the next POST only while fresh", async () => {
  const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
  const keyring = Keyring.generate(seededRng('identity-keys'));
  const handlers = new HandlerRegistry();
  handlers.register('echo', createEchoHandler);
  const clock = new ManualClock(0, EPOCH);
  // The endpoint as the registry sees it: its observer is what a connected call reports to.
  let observer: SessionObserver | undefined;
  const sessions: Session[] = [];
  const endpoint = {
    observe: (o: SessionObserver) => ((observer = o), () => {}),
    add: (s: Session) => sessions.push(s),
    wake: () => {},
    closeSession: (s: Session) => s.close('hangup', clock.now()),
  } as unknown as MediaEndpoint;
  const registry = new CallRegistry({
    keyring,
    mediaAddress: { address: '127.0.0.1', port: 40000, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    certificate: generateCertificate(seededRng('identity-cert')),
    rng: seededRng('identity'),
    clock: () => clock.now(),
    wallClock: () => clock.wallNow(),
    endpoint,
    maxSessions: 10,
    maxCallMs: 60_000,
    defaultHandler: 'echo',
    handlers,
    metrics: transceiverMetrics(new MetricsRegistry()),
  });
  const call = async (): Promise<{ ufrag: string; issuedAt: number }> => {
    const r = await registry.createCall(CHROME, {});
    assert.ok(r.ok);
    const ufrag = readAnswer(r.answer).ufrag;
    const opened = open(ufrag, keyring, clock.wallNow());
    assert.ok(opened.ok);
    return { ufrag, issuedAt: opened.issuedAt - EPOCH };
  };
  const connected = async (): Promise<void> => {
    // What the endpoint reports when a call connects; the identity is made after that turn.
    observer!.sessionState!({
      ...sessions.at(-1)!,
      id: sessions.at(-1)!.id,
      state: 'connected',
      connectedAt: clock.now(),
      createdAt: 0,
      selectedPath: undefined,
    } as unknown as Session);
    await new Promise((resolve) => setImmediate(resolve));
  };
  try {
    const first = await call(); // nothing prepared yet: minted on the POST, at 0
    assert.equal(first.issuedAt, 0);
    await new Promise((resolve) => setImmediate(resolve));
    clock.advance(1_000);
    const second = await call();
    assert.equal(second.issuedAt, 1_000, 'no call connected: nothing prepared, minted on the POST');
    await connected(); // prepared at 1 000
    clock.advance(3_000);
    const third = await call();
    assert.equal(third.issuedAt, 1_000, 'the prepared token (minted when the call connected), 3 s old');
    await connected(); // prepared at 4 000
    clock.advance(PREPARED_IDENTITY_MAX_AGE_MS + 1_000);
    const fourth = await call();
    assert.equal(fourth.issuedAt, 4_000 + PREPARED_IDENTITY_MAX_AGE_MS + 1_000, 'the prepared one was stale: minted on the POST');
    assert.equal(new Set([first.ufrag, second.ufrag, third.ufrag, fourth.ufrag]).size, 4, 'every call its own token');
    assert.equal(new Set(sessions.map((s) => s.id)).size, 4, 'and its own id');
  } finally {
    registry.endAll('server_drain');
  }
});
