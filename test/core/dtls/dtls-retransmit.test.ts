// Retransmission and robustness over a hostile simulated network (RFC 6347 §4.2.4): seeded loss,
// duplication and reordering on a manual clock. Every seed must complete within the handshake
// budget, with exactly one `connected` per side and identical keying material.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HANDSHAKE_BUDGET_MS } from '../../../src/core/dtls/endpoint.ts';
import type { DtlsEndpoint, DtlsEvent } from '../../../src/core/dtls/index.ts';
import { bothConnected, drive, eventsOfType, makePair } from './harness.ts';

function lossyRun(seed: number, mtu?: number): { elapsed: number } {
  const p = makePair(`lossy-${seed}`, { client: { mtu }, server: { mtu, cookie: seed % 4 === 0 } });
  p.client.start(0);
  p.server.start(0);
  const connectedAt = drive(p, { seed, loss: 0.2, duplicate: 0.2, reorder: 0.2, latency: 20, done: bothConnected(p) });
  // Keep running a while after both are connected: late duplicates must not produce a second event.
  drive(p, { seed: `${seed}-tail`, start: connectedAt, loss: 0.2, duplicate: 0.2, reorder: 0.2, latency: 20, maxSteps: 200 });
  const c = eventsOfType(p.clientEvents, 'connected');
  const s = eventsOfType(p.serverEvents, 'connected');
  assert.equal(c.length, 1, `seed ${seed}: client connected once (events ${JSON.stringify(p.clientEvents.map((e) => e.type))})`);
  assert.equal(s.length, 1, `seed ${seed}: server connected once (events ${JSON.stringify(p.serverEvents.map((e) => e.type))})`);
  assert.deepEqual(c[0].keyingMaterial, s[0].keyingMaterial, `seed ${seed}: same keys`);
  assert.ok(connectedAt < HANDSHAKE_BUDGET_MS, `seed ${seed}: within budget`);
  assert.equal(p.client.state, 'connected');
  assert.equal(p.server.state, 'connected');
  return { elapsed: connectedAt };
}

test('200 seeds with 20% loss, duplication and reordering all complete within the retransmission budget', () => {
  let worst = 0;
  for (let seed = 0; seed < 200; seed++) worst = Math.max(worst, lossyRun(seed).elapsed);
  assert.ok(worst < HANDSHAKE_BUDGET_MS);
});

test('the same hostile network with a 100-byte MTU (many fragments per flight) still completes', () => {
  for (let seed = 1000; seed < 1050; seed++) lossyRun(seed, 100);
});

test('retransmission timer backs off 400 ms, 800 ms, 1.6 s … and gives up at the budget with a typed reason', () => {
  const p = makePair('silent');
  p.client.start(0);
  const sends: number[] = [];
  let now = 0;
  for (let i = 0; i < 100 && p.client.state === 'handshaking'; i++) {
    while (p.client.pollTransmit() !== undefined) sends.push(now);
    const t = p.client.pollTimeout();
    if (t === undefined) break;
    now = t;
    p.client.handleTimeout(now);
  }
  assert.deepEqual(sends, [0, 400, 1200, 2800, 6000, 12400, 25200]);
  assert.equal(p.client.state, 'failed');
  assert.equal(now, HANDSHAKE_BUDGET_MS);
  const failed = eventsOfType(drain(p.client), 'failed');
  assert.equal(failed.length, 1);
  assert.equal(failed[0].reason.code, 'ERR_DTLS_HANDSHAKE_TIMEOUT');
  assert.equal(p.client.pollTimeout(), undefined);
});

test('a lost final server flight is resent when the client resends its Finished, without a reset', () => {
  const p = makePair('lost-final');
  p.client.start(0);
  let serverFinalFlights = 0;
  // Drop the first server CCS+Finished datagram (the only server datagram starting with a CCS record).
  drive(p, {
    done: bothConnected(p),
    tap: (from, d) => (from === 'server' && d[0] === 20 && serverFinalFlights++ === 0 ? undefined : d),
  });
  assert.equal(serverFinalFlights, 2, 'the server resent its final flight once');
  assert.equal(eventsOfType(p.serverEvents, 'connected').length, 1);
  assert.equal(eventsOfType(p.clientEvents, 'connected').length, 1);
  assert.deepEqual(
    eventsOfType(p.clientEvents, 'connected')[0].keyingMaterial,
    eventsOfType(p.serverEvents, 'connected')[0].keyingMaterial,
  );
});

function drain(ep: DtlsEndpoint): DtlsEvent[] {
  const out: DtlsEvent[] = [];
  for (let e = ep.pollEvent(); e !== undefined; e = ep.pollEvent()) out.push(e);
  return out;
}

test('a retransmitted previous flight from the peer makes us resend ours once per burst (RFC 6347 §4.2.4)', () => {
  const p = makePair('explicit-resend');
  p.client.start(0);
  const hello = p.client.pollTransmit()!;
  p.server.handle(hello, 0);
  const serverFlight = p.server.pollTransmit()!;
  assert.equal(p.server.pollTransmit(), undefined);
  // The client's ClientHello again (its flight resent): the server resends its whole flight.
  p.server.handle(hello, 200);
  assert.ok(p.server.pollTransmit() !== undefined, 'server resent its flight');
  // A second copy within the hold-off is part of the same burst: no second resend.
  p.server.handle(hello, 250);
  assert.equal(p.server.pollTransmit(), undefined);
  // Same on the client side: after sending its final flight, a resent server flight makes it resend.
  p.client.handle(serverFlight, 300);
  const clientFlight = p.client.pollTransmit()!;
  p.client.handle(serverFlight, 500);
  assert.equal(p.client.pollTransmit()?.[0], clientFlight[0], 'client resent its final flight');
  // The retransmission timer was re-armed from the resend, not left at the original deadline.
  assert.equal(p.client.pollTimeout(), 500 + 400);
});
