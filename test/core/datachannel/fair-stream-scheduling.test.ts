// Fair scheduling between streams (src/core/sctp/stream-scheduler.ts, deficit round robin by
// bytes): while one channel has megabytes queued, small messages on another (`oai-events`) wait at
// most for the bulk message being cut, instead of behind everything queued before them; and the
// scheduler itself shares bytes fairly, keeps send() order within a stream, and forgets empty streams.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { StreamScheduler } from '../../../src/core/sctp/stream-scheduler.ts';
import { act, connectedPair, isMsg } from './helpers.ts';

test('scheduler: deficit round robin by bytes, send() order within a stream, removal anywhere', () => {
  const q = new StreamScheduler<{ streamId: number; n: number; data: Buffer }>();
  const sizes = [3000, 3000, 3000, 500, 100, 100];
  const items = [1, 1, 1, 2, 3, 3].map((streamId, n) => ({ streamId, n, data: Buffer.alloc(sizes[n]) }));
  for (const i of items) q.push(i);
  assert.equal(q.length, 6);
  assert.ok(q.remove(items[3]));
  assert.equal(q.hasStream(2), false);
  const order: number[] = [];
  for (let m = q.shift(); m !== undefined; m = q.shift()) order.push(m.n);
  assert.deepEqual(order, [4, 5, 0, 1, 2], 'the small messages of stream 3 go while stream 1 saves up for its 3000-byte ones');
  assert.equal(q.length, 0);
  assert.equal(q.head(), undefined);
  // Two streams of equal messages alternate one message each.
  for (let n = 0; n < 6; n++) q.push({ streamId: n % 2, n, data: Buffer.alloc(2000) });
  const alternating: number[] = [];
  for (let m = q.shift(); m !== undefined; m = q.shift()) alternating.push(m.streamId);
  assert.deepEqual(alternating, [0, 1, 0, 1, 0, 1]);
});

const BULK = 24;

test('small messages on one channel keep low latency while another sends 6 MiB of bulk', () => {
  const big = 16 * 1024 * 1024;
  const p = connectedPair(61, { latencyMs: 20, loss: 0.01 }, { maxSendBufferBytes: big, maxReassemblyBytes: big });
  const events = act(p, 'a', (m, now) => m.open({ label: 'oai-events' }, now));
  const bulk = act(p, 'a', (m, now) => m.open({ label: 'bulk' }, now));
  p.run(() => p.b.events.filter((e) => e.type === 'channel_open').length === 2, 5_000, 'both open');
  const start = p.clock.now();
  for (let i = 0; i < BULK; i++) assert.ok(act(p, 'a', (m, now) => m.send(bulk, Buffer.alloc(256 * 1024, i), now)));
  const sentAt = new Map<string, number>();
  const latency: number[] = [];
  let bulkDoneAt = Infinity;
  p.b.onEvent = (e, now) => {
    if (!isMsg(e)) return;
    if (e.id === events) latency.push(now - sentAt.get(e.data as string)!);
    else if (p.b.events.filter((x) => isMsg(x) && x.id === bulk).length === BULK) bulkDoneAt = now;
  };
  let next = start;
  p.run(
    () => {
      const now = p.clock.now();
      if (sentAt.size < 20 && now >= next) {
        const text = `event ${sentAt.size}`;
        sentAt.set(text, now);
        act(p, 'a', (m, t) => m.send(events, text, t));
        next = now + 50;
      }
      return latency.length === 20 && bulkDoneAt < Infinity;
    },
    60_000,
    'bulk and events delivered',
  );
  const lastEventAt = start + 19 * 50;
  assert.ok(bulkDoneAt > lastEventAt, `the bulk (done after ${bulkDoneAt - start} ms) outlasts the events`);
  const worst = Math.max(...latency);
  // One 256 KiB message ahead at most: well under what the 6 MiB backlog takes.
  assert.ok(worst < (bulkDoneAt - start) / 4, `worst event latency ${worst} ms while the bulk took ${bulkDoneAt - start} ms`);
  const inOrder = p.b.events.filter((e) => isMsg(e) && e.id === bulk).map((e) => (isMsg(e) ? (e.data as Buffer)[0] : -1));
  assert.deepEqual(inOrder, [...Array(BULK).keys()]);
  console.log(
    `# fair scheduling: worst oai-events latency ${worst} ms, median ${latency.sort((a, b) => a - b)[10]} ms, 6 MiB bulk took ${bulkDoneAt - start} ms`,
  );
});
