// RFC 8831 §6.6 messages on a channel: text and binary of 1 B, 1 KiB, 16 KiB, 64 KiB and 256 KiB
// (our max-message-size), ordered and unordered, arrive byte-exact; empty ones travel as PPID
// 56/57; bufferedAmount counts what is not yet acknowledged, send() refuses past the limit, and
// buffered_low fires when it drains below the channel's threshold.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DataChannelCode } from '../../../src/core/datachannel/index.ts';
import { act, connectedPair, isMsg } from './helpers.ts';

const SIZES = [1, 1024, 16 * 1024, 64 * 1024, 256 * 1024];

for (const ordered of [true, false]) {
  test(`${ordered ? 'ordered' : 'unordered'}: text and binary of 1 B .. 256 KiB arrive byte-exact over a lossy link`, () => {
    const p = connectedPair(ordered ? 41 : 42, { latencyMs: 15, loss: 0.02 });
    const id = act(p, 'a', (m, now) => m.open({ label: 'sizes', ordered }, now));
    p.run(() => p.b.events.some((e) => e.type === 'channel_open'), 5000);
    const sent: Array<string | Buffer> = [];
    for (const n of SIZES) {
      const text = 'é'.repeat(Math.floor(n / 2)) + (n % 2 ? 'x' : '');
      const bin = Buffer.alloc(n);
      for (let i = 0; i < n; i++) bin[i] = (i * 7 + n) & 0xff;
      sent.push(text, bin);
    }
    for (const d of sent) assert.ok(act(p, 'a', (m, now) => m.send(id, d, now)));
    p.run(() => p.b.events.filter(isMsg).length === sent.length, 60_000, 'all sizes');
    const got = p.b.events.filter(isMsg);
    for (const d of sent) {
      const match = got.find((g) =>
        typeof d === 'string' ? g.data === d && !g.binary : g.binary && Buffer.isBuffer(g.data) && g.data.equals(d),
      );
      assert.ok(match, `${typeof d === 'string' ? 'text' : 'binary'} of ${Buffer.byteLength(d)} bytes`);
    }
    if (ordered)
      assert.deepEqual(
        got.map((g) => Buffer.byteLength(g.data)),
        sent.map((d) => Buffer.byteLength(d)),
      );
  });
}

test('empty text and empty binary messages arrive as such (PPID 56/57)', () => {
  const p = connectedPair(43);
  const id = act(p, 'a', (m, now) => m.open({ label: 'empty' }, now));
  p.run(() => p.b.events.some((e) => e.type === 'channel_open'), 5000);
  act(p, 'a', (m, now) => m.send(id, '', now));
  act(p, 'a', (m, now) => m.send(id, Buffer.alloc(0), now));
  p.run(() => p.b.events.filter(isMsg).length === 2, 5000);
  assert.deepEqual(p.b.events.filter(isMsg), [
    { type: 'message', id, data: '', binary: false },
    { type: 'message', id, data: Buffer.alloc(0), binary: true },
  ]);
});

test('a message over the peer max-message-size is refused with a stable code', () => {
  const p = connectedPair(44);
  const id = act(p, 'a', (m, now) => m.open({ label: 'big' }, now));
  p.a.m.association.setRemoteMaxMessageSize(1000);
  assert.throws(() => act(p, 'a', (m, now) => m.send(id, Buffer.alloc(1001), now)), { code: 'ERR_SCTP_MESSAGE_TOO_LARGE' });
  assert.throws(() => act(p, 'a', (m, now) => m.send(99, 'x', now)), { code: DataChannelCode.notOpen });
});

test('bufferedAmount, send() refusing past the limit, and buffered_low', () => {
  const p = connectedPair(45, { latencyMs: 30 }, { maxSendBufferBytes: 64 * 1024 });
  const id = act(p, 'a', (m, now) => m.open({ label: 'flow' }, now));
  p.run(() => p.b.events.some((e) => e.type === 'channel_open') && p.a.m.bufferedAmount(id) === 0, 5000);
  act(p, 'a', (m) => m.setBufferedAmountLowThreshold(id, 8 * 1024));
  let accepted = 0;
  while (act(p, 'a', (m, now) => m.send(id, Buffer.alloc(4096, 1), now))) accepted++;
  assert.equal(accepted, 16);
  assert.ok(p.a.m.bufferedAmount(id) <= 64 * 1024 && p.a.m.bufferedAmount(id) > 60 * 1024);
  const mark = p.a.events.length;
  p.run(() => p.a.events.slice(mark).some((e) => e.type === 'buffered_low' && e.id === id), 10_000, 'drains');
  assert.ok(p.a.m.bufferedAmount(id) <= 8 * 1024);
  p.run(() => p.b.events.filter(isMsg).length === 16, 10_000);
});
