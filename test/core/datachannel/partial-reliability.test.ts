// RFC 3758 partial reliability as WebRTC uses it (maxRetransmits, maxPacketLifeTime): a channel
// gives up on a message as configured, FORWARD-TSN moves the peer past it, and the channel and
// the association keep going; what does arrive on an ordered channel arrives in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { act, connectedPair, isMsg } from './helpers.ts';

const seq = (data: string | Buffer): number => Number(String(data));

test('maxRetransmits 0: nothing is retransmitted, lost messages are skipped, the rest arrive in order', () => {
  const p = connectedPair(21, { latencyMs: 20, loss: 0.2 });
  act(p, 'a', (m, now) => m.open({ label: 'pr0', negotiated: true, id: 2, maxRetransmits: 0 }, now));
  act(p, 'b', (m, now) => m.open({ label: 'pr0', negotiated: true, id: 2, maxRetransmits: 0 }, now));
  const before = p.a.m.association.stats.retransmits;
  for (let i = 0; i < 300; i++) act(p, 'a', (m, now) => m.send(2, String(i), now));
  p.run(() => p.a.m.association.bufferedAmount === 0, 60_000, 'all acked or abandoned');
  const got = p.b.events.filter(isMsg).map((e) => seq(e.data));
  const st = p.a.m.association.stats;
  assert.equal(st.retransmits - before, 0, 'no DATA chunk was sent twice');
  assert.ok(st.abandonedMessages > 0 && st.forwardTsnsOut > 0, 'lost messages were abandoned and skipped by FORWARD-TSN');
  assert.ok(got.length < 300 && got.length > 150, `${got.length} of 300 arrived`);
  assert.deepEqual(
    got,
    [...got].sort((x, y) => x - y),
    'ordered channel keeps order',
  );
  // The channel still works after the skips (reliable again on a clean link).
  p.net.setProfile({ latencyMs: 20 });
  act(p, 'a', (m, now) => m.send(2, 'after', now));
  p.run(() => p.b.events.some((e) => isMsg(e) && e.data === 'after'), 10_000, 'after the skips');
});

test('maxRetransmits 2: a message is sent at most three times', () => {
  const p = connectedPair(22, { latencyMs: 20, loss: 0.5 });
  act(p, 'a', (m, now) => m.open({ label: 'pr2', negotiated: true, id: 4, ordered: false, maxRetransmits: 2 }, now));
  act(p, 'b', (m, now) => m.open({ label: 'pr2', negotiated: true, id: 4, ordered: false, maxRetransmits: 2 }, now));
  const st = p.a.m.association.stats;
  const [r0, c0] = [st.retransmits, st.dataChunksOut];
  for (let i = 0; i < 200; i++) act(p, 'a', (m, now) => m.send(4, String(i), now));
  p.run(() => p.a.m.association.bufferedAmount === 0, 120_000, 'all acked or abandoned');
  const first = st.dataChunksOut - c0 - (st.retransmits - r0);
  assert.equal(first, 200);
  assert.ok(st.retransmits - r0 <= 2 * 200, 'at most two retransmissions each');
  assert.ok(st.abandonedMessages > 0);
  const got = p.b.events.filter(isMsg).map((e) => seq(e.data));
  assert.equal(new Set(got).size, got.length, 'exactly once');
});

test('maxPacketLifeTime: messages older than their lifetime are given up during an outage; FORWARD-TSN moves the peer on', () => {
  const p = connectedPair(23, { latencyMs: 20 });
  act(p, 'a', (m, now) => m.open({ label: 'timed', negotiated: true, id: 6, maxPacketLifeTime: 200 }, now));
  act(p, 'b', (m, now) => m.open({ label: 'timed', negotiated: true, id: 6, maxPacketLifeTime: 200 }, now));
  p.net.setProfile({ latencyMs: 20, loss: 1 }, { from: p.a.address });
  for (let i = 0; i < 20; i++) act(p, 'a', (m, now) => m.send(6, `lost${i}`, now));
  const t0 = p.clock.now();
  p.run(() => p.clock.now() - t0 >= 3000, 10_000, 'outage');
  p.net.setProfile({ latencyMs: 20 });
  act(p, 'a', (m, now) => m.send(6, 'fresh', now));
  p.run(() => p.b.events.some((e) => isMsg(e) && e.data === 'fresh'), 30_000, 'after the outage');
  assert.ok(!p.b.events.some((e) => isMsg(e) && String(e.data).startsWith('lost')), 'expired messages never arrive');
  assert.ok(p.a.m.association.stats.forwardTsnsOut > 0);
  assert.equal(p.a.m.association.state, 'established');
});
