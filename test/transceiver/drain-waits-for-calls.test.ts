// Transceiver.drain(grace): readiness goes false and offers get 503 at once; the drain ends as
// soon as the last call ends (it waits on the registry, not on a polling loop), and at the grace
// deadline it ends the calls still running with reason server_drain. The grace timer runs on a
// ManualClock, so the test never sleeps for it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ManualClock } from '../../src/common/clock.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { TEST_MEDIA_IO } from './helpers/media-io.ts';

const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const keyring = Keyring.generate(seededRng('drain-keys'));
const certificate = generateCertificate(seededRng('drain-cert'));

async function start(clock: ManualClock): Promise<{ trx: Transceiver; base: string }> {
  const trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [{ address: '127.0.0.1', port: 3478, family: 'IPv4' }],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring,
    maxSessions: 10,
    maxCallSeconds: 600,
    handler: 'echo',
    handlers: defaultHandlers(),
    certificate,
    rng: seededRng('drain'),
    mediaIo: TEST_MEDIA_IO,
    clock,
    // The media endpoint runs on this clock too: no client ever connects, so keep the calls from
    // ending as setup_timeout before the grace deadline this test is about.
    setupTimeoutMs: 3_600_000,
  });
  return { trx, base: `http://127.0.0.1:${trx.httpAddress.port}` };
}

async function offer(base: string): Promise<string> {
  const res = await fetch(`${base}/v1/realtime/calls`, { method: 'POST', body: CHROME, headers: { 'content-type': 'application/sdp' } });
  assert.equal(res.status, 201);
  await res.text();
  return res.headers.get('location')!;
}

test('drain resolves when the last call hangs up, long before the grace deadline', async () => {
  const clock = new ManualClock(1_000);
  const { trx, base } = await start(clock);
  const first = await offer(base);
  const second = await offer(base);
  let drained = false;
  const drain = trx.drain(600_000).then(() => (drained = true));
  const refused = await fetch(`${base}/v1/realtime/calls`, {
    method: 'POST',
    body: CHROME,
    headers: { 'content-type': 'application/sdp' },
  });
  assert.equal(refused.status, 503, 'offers are refused while draining');
  await refused.text();
  assert.equal((await fetch(`http://127.0.0.1:${trx.opsAddress.port}/readyz`)).status, 503);
  await fetch(`${base}${first}`, { method: 'DELETE' }).then((r) => r.text());
  await new Promise((r) => setImmediate(r));
  assert.equal(drained, false, 'one call still runs');
  await fetch(`${base}${second}`, { method: 'DELETE' }).then((r) => r.text());
  await drain;
  assert.equal(drained, true);
  assert.equal(trx.calls.activeCount, 0);
  await trx.close();
});

test('at the grace deadline the calls still running end with reason server_drain', async () => {
  const clock = new ManualClock(1_000);
  const { trx, base } = await start(clock);
  const location = await offer(base);
  const id = location.split('/').pop()!;
  let drained = false;
  const drain = trx.drain(30_000).then(() => (drained = true));
  await clock.advanceAsync(29_999);
  assert.equal(drained, false, 'not before the deadline');
  await clock.advanceAsync(1);
  await drain;
  assert.equal(trx.calls.getCall(id)?.closeReason, 'server_drain');
});
