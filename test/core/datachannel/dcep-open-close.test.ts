// RFC 8832 DCEP and RFC 8831 §6.7 close: either side opens a channel (DATA_CHANNEL_OPEN/ACK),
// ids follow the DTLS role, negotiated channels skip DCEP, labels/protocols/types arrive intact,
// and a close by stream reset is seen by the other side, from either end.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { DataChannelEvent } from '../../../src/core/datachannel/index.ts';
import { DataChannelCode } from '../../../src/core/datachannel/index.ts';
import { act, connectedPair, dcPair, isMsg } from './helpers.ts';

type Open = Extract<DataChannelEvent, { type: 'channel_open' }>;
const opens = (evs: DataChannelEvent[]): Open[] => evs.filter((e): e is Open => e.type === 'channel_open');

test('the DTLS client opens oai-events (even id); the server sees label, protocol and type, and both exchange messages', () => {
  const p = connectedPair(1);
  const id = act(p, 'a', (m, now) => m.open({ label: 'oai-events', protocol: 'json' }, now));
  assert.equal(id % 2, 0);
  p.run(() => opens(p.b.events).length === 1, 5000, 'open arrives');
  assert.deepEqual(opens(p.b.events)[0], {
    type: 'channel_open',
    id,
    label: 'oai-events',
    protocol: 'json',
    ordered: true,
    negotiated: false,
    remote: true,
  });
  assert.equal(opens(p.a.events)[0].remote, false);
  act(p, 'b', (m, now) => m.send(id, '{"type":"session.created"}', now));
  act(p, 'a', (m, now) => m.send(id, Buffer.from([1, 2, 3]), now));
  p.run(() => p.a.events.some(isMsg) && p.b.events.some(isMsg), 5000, 'messages');
  assert.deepEqual(p.a.events.find(isMsg), { type: 'message', id, data: '{"type":"session.created"}', binary: false });
  assert.deepEqual(p.b.events.find(isMsg), { type: 'message', id, data: Buffer.from([1, 2, 3]), binary: true });
});

test('the DTLS server opens channels with odd ids; partial reliability types travel in DCEP', () => {
  const p = connectedPair(2);
  const a = act(p, 'b', (m, now) => m.open({ label: 'rexmit', ordered: false, maxRetransmits: 3 }, now));
  const b = act(p, 'b', (m, now) => m.open({ label: 'timed', maxPacketLifeTime: 150 }, now));
  assert.equal(a % 2, 1);
  assert.equal(b % 2, 1);
  p.run(() => opens(p.a.events).length === 2, 5000);
  const [x, y] = opens(p.a.events);
  assert.equal(x.ordered, false);
  assert.equal(x.maxRetransmits, 3);
  assert.equal(y.maxPacketLifeTime, 150);
});

test('channels opened before the association is up open once it is, on both sides', () => {
  const p = dcPair(3);
  const id = act(p, 'b', (m, now) => m.open({ label: 'early' }, now));
  assert.equal(opens(p.b.events).length, 0, 'not open before the association');
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => opens(p.a.events).some((o) => o.id === id && o.label === 'early') && opens(p.b.events).length === 1, 5000);
});

test('negotiated channels (pre-agreed id) need no DCEP and carry messages both ways', () => {
  const p = connectedPair(5);
  act(p, 'a', (m, now) => m.open({ label: 'neg', negotiated: true, id: 7 }, now));
  act(p, 'b', (m, now) => m.open({ label: 'neg', negotiated: true, id: 7 }, now));
  act(p, 'a', (m, now) => m.send(7, 'ping', now));
  p.run(() => p.b.events.some(isMsg), 5000);
  act(p, 'b', (m, now) => m.send(7, 'pong', now));
  p.run(() => p.a.events.some(isMsg), 5000);
  assert.equal(p.a.m.association.stats.messagesIn, 1, 'no DCEP message went over the wire');
  assert.throws(() => act(p, 'a', (m, now) => m.open({ label: 'dup', id: 7 }, now)), { code: DataChannelCode.idInUse });
});

test('close by stream reset: the other side sees channel_closed, from either end, and the id is reusable', () => {
  const p = connectedPair(6);
  const id = act(p, 'a', (m, now) => m.open({ label: 'c1' }, now));
  p.run(() => opens(p.b.events).length === 1, 5000);
  act(p, 'a', (m, now) => m.send(id, 'last words', now));
  act(p, 'a', (m, now) => m.close(id, now));
  p.run(
    () => p.a.events.some((e) => e.type === 'channel_closed') && p.b.events.some((e) => e.type === 'channel_closed'),
    10_000,
    'close from opener',
  );
  assert.ok(
    p.b.events.some((e) => isMsg(e) && e.data === 'last words'),
    'data sent before close arrives first',
  );
  const again = act(p, 'a', (m, now) => m.open({ label: 'c2', id }, now));
  p.run(() => opens(p.b.events).length === 2, 5000);
  act(p, 'b', (m, now) => m.close(again, now));
  p.run(
    () =>
      p.a.events.filter((e) => e.type === 'channel_closed').length === 2 &&
      p.b.events.filter((e) => e.type === 'channel_closed').length === 2,
    10_000,
    'close from the other side',
  );
  assert.throws(() => act(p, 'a', (m, now) => m.send(again, 'x', now)), { code: DataChannelCode.notOpen });
});

test('close survives a lossy link (RE-CONFIG requests are retransmitted)', () => {
  const p = connectedPair(7, { latencyMs: 20, loss: 0.3 });
  const ids = [0, 1, 2].map((i) => act(p, 'a', (m, now) => m.open({ label: `l${i}` }, now)));
  p.run(() => opens(p.b.events).length === 3, 60_000);
  for (const id of ids) act(p, 'a', (m, now) => m.close(id, now));
  p.run(
    () =>
      p.b.events.filter((e) => e.type === 'channel_closed').length === 3 &&
      p.a.events.filter((e) => e.type === 'channel_closed').length === 3,
    120_000,
    'lossy close',
  );
});

test('SHUTDOWN ends the association gracefully; both sides report closed without error', () => {
  const p = connectedPair(8);
  const id = act(p, 'a', (m, now) => m.open({ label: 'x' }, now));
  p.run(() => opens(p.b.events).length === 1, 5000);
  act(p, 'a', (m, now) => {
    m.send(id, 'bye', now);
    m.association.shutdown(now);
  });
  p.run(() => p.a.events.some((e) => e.type === 'closed') && p.b.events.some((e) => e.type === 'closed'), 10_000, 'shutdown');
  assert.ok(p.b.events.some((e) => isMsg(e) && e.data === 'bye'));
  for (const s of [p.a, p.b]) {
    const c = s.events.find((e) => e.type === 'closed');
    assert.equal(c?.type === 'closed' && c.error, undefined);
    assert.ok(s.events.some((e) => e.type === 'channel_closed'));
    assert.equal(s.m.pollTimeout(), undefined);
  }
});

test('ABORT: the other side closes with the peer-abort code', () => {
  const p = connectedPair(9);
  act(p, 'b', (m, now) => m.closeAll(now));
  p.run(() => p.a.events.some((e) => e.type === 'closed'), 5000);
  const c = p.a.events.find((e) => e.type === 'closed');
  assert.equal(c?.type === 'closed' && c.error?.code, 'ERR_SCTP_PEER_ABORT');
});
