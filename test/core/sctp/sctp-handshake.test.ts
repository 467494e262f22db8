// RFC 9260 §5: association setup with a signed state cookie — either side may send INIT, both
// at once (simultaneous open, §5.2.1) works, lost handshake packets are retransmitted by T1-init,
// and a handshake nobody answers fails after Max.Init.Retransmits.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { SctpCode } from '../../../src/core/sctp/index.ts';
import type { SctpEvent } from '../../../src/core/sctp/index.ts';
import { assoc, pair } from './harness.ts';

const connected = (s: { events: SctpEvent[] }): boolean => s.events.some((e) => e.type === 'connected');

test('the DTLS client side sends INIT and both ends become established', () => {
  const p = pair(assoc('a'), assoc('b'));
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => connected(p.a) && connected(p.b), 5000, 'handshake');
  assert.equal(p.a.m.state, 'established');
  assert.equal(p.b.m.state, 'established');
  assert.equal(p.a.m.outboundStreams, 1024);
});

test('the other side may initiate too', () => {
  const p = pair(assoc('a'), assoc('b'));
  p.b.m.connect(0);
  p.b.pump(0);
  p.run(() => connected(p.a) && connected(p.b), 5000, 'handshake');
});

test('simultaneous INIT (RFC 9260 §5.2.1) ends in one association on both sides', () => {
  for (const seed of [1, 2, 3]) {
    const p = pair(assoc(`a${seed}`), assoc(`b${seed}`), seed);
    p.a.m.connect(0);
    p.b.m.connect(0);
    p.a.pump(0);
    p.b.pump(0);
    p.run(() => connected(p.a) && connected(p.b), 5000, 'simultaneous');
    assert.equal(p.a.events.filter((e) => e.type === 'connected').length, 1);
    assert.equal(p.b.events.filter((e) => e.type === 'connected').length, 1);
    // The two sides agree: data flows both ways.
    p.a.m.send(1, 51, Buffer.from('hi'), {}, p.clock.now());
    p.b.m.send(2, 51, Buffer.from('yo'), {}, p.clock.now());
    p.a.pump(p.clock.now());
    p.b.pump(p.clock.now());
    p.run(
      () => p.a.events.some((e) => e.type === 'message') && p.b.events.some((e) => e.type === 'message'),
      5000,
      'data after simultaneous',
    );
  }
});

test('a handshake survives lost INIT, INIT-ACK and COOKIE-ECHO (T1-init retransmits)', () => {
  const p = pair(assoc('a'), assoc('b'), 7, { latencyMs: 10, loss: 0.5 });
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => connected(p.a) && connected(p.b), 60_000, 'lossy handshake');
});

test('nobody answers: the handshake fails after Max.Init.Retransmits with a stable code', () => {
  const p = pair(assoc('a', { maxInitRetransmissions: 3 }), assoc('b'), 1, { loss: 1 });
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => p.a.m.state === 'closed', 120_000, 'give up');
  const closed = p.a.events.find((e) => e.type === 'closed');
  assert.equal(closed?.type === 'closed' && closed.error?.code, SctpCode.handshakeTimeout);
  assert.equal(p.a.m.pollTimeout(), undefined);
});
