// Issue #19 attack 2, free sessions: with the default configuration one client posting offers it
// never used took 999 of 1 000 call slots in 1.9 s. Now every offer is charged to its client (IP;
// and API key when keys are in use: src/transceiver/http/admission-limits.ts) and refused with
// 429 + Retry-After and an error body past the offer rate, the pending (unconnected) calls, or
// the calls one client may hold; refusals are counted in /metrics by reason, and a pending call
// frees its slot at the setup deadline.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { startDev, metricSum } from '../e2e/helpers.ts';
import type { DevStack } from '../e2e/helpers.ts';
import { AdmissionLimits, DEFAULT_ADMISSION, clientOfIp } from '../../src/transceiver/http/admission-limits.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { seededRng } from '../../src/core/rng.ts';
import { waitFor } from '../support/wait-for.ts';

const agents = createCoreAgents(seededRng('free-sessions-agents'));
const offer = (i: number): string =>
  new ClientCall({ rng: seededRng(`free-${i}`), agents, localAddress: { address: '127.0.0.1', port: 9, family: 'IPv4' } }).offer;

test('admission: rate, pending and call limits per client, each refusal with its reason', () => {
  let now = 0;
  const refused: string[] = [];
  const limits = new AdmissionLimits({
    offersPerSecond: 2,
    offerBurst: 3,
    maxPendingPerClient: 2,
    maxCallsPerClient: 3,
    now: () => now,
    onRefused: (r) => refused.push(r),
  });
  const a = ['ip:198.51.100.1'];
  const t1 = limits.admit(a);
  const t2 = limits.admit(a);
  assert.ok(t1.ok && t2.ok);
  t1.ticket.bind('c1');
  t2.ticket.bind('c2');
  const third = limits.admit(a);
  assert.equal(!third.ok && third.reason, 'pending_calls');
  limits.callConnected('c1');
  limits.callConnected('c2');
  const t3 = limits.admit(a);
  assert.ok(t3.ok);
  t3.ticket.bind('c3');
  now += 10_000;
  const fourth = limits.admit(a);
  assert.equal(!fourth.ok && fourth.reason, 'calls');
  limits.callClosed('c3');
  limits.callClosed('c1');
  // Burst 3, 2 a second: after three quick offers the fourth waits.
  for (let i = 0; i < 3; i++) {
    const q = limits.admit(a);
    assert.ok(q.ok, `quick offer ${i}`);
    q.ticket.release();
  }
  const rate = limits.admit(a);
  assert.equal(!rate.ok && rate.reason, 'offer_rate');
  assert.ok(!rate.ok && rate.retryAfterSeconds >= 1);
  assert.deepEqual(refused, ['pending_calls', 'calls', 'offer_rate']);
  // Another client is not affected; an IPv6 client is its /64.
  assert.ok(limits.admit(['ip:198.51.100.2']).ok);
  assert.equal(clientOfIp('2001:db8:1:2:aaaa::1'), clientOfIp('2001:db8:1:2:bbbb::2'));
  assert.notEqual(clientOfIp('2001:db8:1:2::1'), clientOfIp('2001:db8:1:3::1'));
  assert.equal(clientOfIp('::ffff:127.0.0.1'), clientOfIp('127.0.0.1'));
});

let dev: DevStack;
before(async () => {
  dev = await startDev([], 30_000, { PARLEY_SETUP_TIMEOUT_SECONDS: '2' });
});
after(async () => {
  await dev?.stop();
});

test('one client posting unused offers holds at most --max-pending-per-client calls; the rest get 429', { timeout: 60_000 }, async () => {
  const statuses: number[] = [];
  let refusal: Response | undefined;
  let refusalBody = '';
  const t0 = performance.now();
  // As the attack: offers back to back, never connected, for 2 s.
  for (let i = 0; performance.now() - t0 < 2_000 && i < 2_000; i++) {
    const res = await fetch(dev.ready.signaling, { method: 'POST', body: offer(i), headers: { 'content-type': 'application/sdp' } });
    const body = await res.text();
    statuses.push(res.status);
    if (res.status === 429 && !refusal) {
      refusal = res;
      refusalBody = body;
    }
  }
  const created = statuses.filter((s) => s === 201).length;
  const limited = statuses.filter((s) => s === 429).length;
  const held = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_sessions');
  console.log(`${statuses.length} offers in 2 s: ${created} × 201, ${limited} × 429; calls held: ${held} of 1000`);
  assert.equal(created, DEFAULT_ADMISSION.maxPendingPerClient, 'the default --max-pending-per-client');
  assert.ok(limited > 0);
  assert.ok(Number(refusal!.headers.get('retry-after')) >= 1, 'Retry-After');
  assert.equal(JSON.parse(refusalBody).error.code, 'ERR_SIGNALING_TOO_MANY_REQUESTS');
  const counted = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_admission_refused_total');
  assert.equal(counted, limited, 'every refusal counted by reason');
  // The unconnected calls end at the setup deadline (2 s here) and the client may call again.
  await waitFor(
    async () => (await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_sessions')) === 0,
    10_000,
    'pending calls expired',
  );
  const again = await fetch(dev.ready.signaling, { method: 'POST', body: offer(9_999), headers: { 'content-type': 'application/sdp' } });
  await again.text();
  assert.equal(again.status, 201);
});
