// Issue #18: a call's identity (routing token, call id, SSRC, CNAME, SDP session id) is made in
// the idle time after the previous call, not on the POST: each prepared one is handed out once,
// never to two calls, and one older than PREPARED_IDENTITY_MAX_AGE_MS is replaced by one made
// on the POST, so a token's first-flow window is never shortened by more than that. Through a
// whole transceiver: the prepared token is the one the next answer carries, issued when prepared.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/common/clock.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, open } from '../../src/core/token/index.ts';
import type { MintResult } from '../../src/core/token/index.ts';
import { CallIdentities, PREPARED_IDENTITY_MAX_AGE_MS } from '../../src/transceiver/calls/call-identity.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import { readAnswer } from './helpers/answer.ts';
import { TEST_MEDIA_IO } from './helpers/media-io.ts';

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

test("through a transceiver: the next call's token is minted after the answer, used by the next POST only while fresh", async () => {
  const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
  const keyring = Keyring.generate(seededRng('identity-keys'));
  const handlers = new HandlerRegistry();
  handlers.register('echo', createEchoHandler);
  const clock = new ManualClock(0, Date.UTC(2026, 0, 1));
  const trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' }],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring,
    maxSessions: 10,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers,
    certificate: generateCertificate(seededRng('identity-cert')),
    rng: seededRng('identity'),
    mediaIo: TEST_MEDIA_IO,
    clock,
  });
  const base = `http://127.0.0.1:${trx.httpAddress.port}`;
  const call = async (): Promise<{ ufrag: string; issuedAt: number; location: string }> => {
    const res = await fetch(`${base}/v1/realtime/calls`, { method: 'POST', body: CHROME, headers: { 'content-type': 'application/sdp' } });
    assert.equal(res.status, 201);
    const ufrag = readAnswer(await res.text()).ufrag;
    const opened = open(ufrag, keyring, clock.wallNow());
    assert.ok(opened.ok);
    return { ufrag, issuedAt: opened.issuedAt - Date.UTC(2026, 0, 1), location: res.headers.get('location')! };
  };
  try {
    const first = await call(); // nothing prepared yet: minted on the POST, at 0
    assert.equal(first.issuedAt, 0);
    await new Promise((resolve) => setImmediate(resolve)); // the idle turn after it: the next one is minted at 0
    clock.advance(3_000);
    const second = await call();
    assert.equal(second.issuedAt, 0, 'the prepared token (minted at 0), 3 s old');
    await new Promise((resolve) => setImmediate(resolve)); // prepared at 3 000
    clock.advance(PREPARED_IDENTITY_MAX_AGE_MS + 1_000);
    const third = await call();
    assert.equal(third.issuedAt, 3_000 + PREPARED_IDENTITY_MAX_AGE_MS + 1_000, 'the prepared one was stale: minted on the POST');
    assert.equal(new Set([first.ufrag, second.ufrag, third.ufrag]).size, 3, 'every call its own token');
    const ids = new Set([first.location, second.location, third.location]);
    assert.equal(ids.size, 3, 'and its own id');
  } finally {
    await trx.close();
  }
});
