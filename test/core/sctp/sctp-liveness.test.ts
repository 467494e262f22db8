// RFC 9260 §8.3 heartbeats on an idle association (they measure the RTT and keep it alive) and
// §8.1 failure detection: a peer that vanishes is declared unreachable after
// Association.Max.Retrans consecutive timeouts, and everything it held is given back.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SctpCode } from '../../../src/core/sctp/index.ts';
import { assoc, pair } from './harness.ts';

test('an idle association exchanges heartbeats and stays up', () => {
  const p = pair(assoc('a', { heartbeatIntervalMs: 5000 }), assoc('b', { heartbeatIntervalMs: 5000 }), 5, { latencyMs: 40 });
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => p.b.m.state === 'established' && p.a.m.state === 'established', 5000);
  const t0 = p.clock.now();
  p.run(() => p.clock.now() >= t0 + 60_000, 70_000, 'idle minute');
  assert.equal(p.a.m.state, 'established');
  assert.equal(p.b.m.state, 'established');
  assert.ok(Math.abs((p.a.m.dump().srtt ?? 0) - 80) < 1, 'heartbeat RTT measured');
});

test('a peer that vanishes is declared unreachable after Max.Retrans heartbeat timeouts', () => {
  const p = pair(assoc('a', { heartbeatIntervalMs: 1000, maxRetransmissions: 3 }), assoc('b'), 6, { latencyMs: 10 });
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => p.b.m.state === 'established', 5000);
  p.net.detach(p.b.address);
  p.run(() => p.a.m.state === 'closed', 120_000, 'declared unreachable');
  const closed = p.a.events.find((e) => e.type === 'closed');
  assert.equal(closed?.type === 'closed' && closed.error?.code, SctpCode.peerUnreachable);
  assert.equal(p.a.m.pollTimeout(), undefined);
});
