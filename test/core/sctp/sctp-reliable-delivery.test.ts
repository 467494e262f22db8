// RFC 9260 §6: DATA/SACK, retransmission and congestion control under a hostile network. 10 000
// messages over 5 % loss with reordering and duplication arrive exactly once, and in order on an
// ordered stream; unordered messages arrive exactly once; big messages are fragmented and
// reassembled byte-exact; the association survives its peer's address changing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { SctpAssociation, SctpEvent } from '../../../src/core/sctp/index.ts';
import { assoc, pair } from './harness.ts';
import type { Pair } from './harness.ts';

type Msg = Extract<SctpEvent, { type: 'message' }>;
const isMsg = (e: SctpEvent): e is Msg => e.type === 'message';

function established(seed: number, profile = {}): Pair<SctpAssociation> {
  const p = pair(assoc(`a${seed}`), assoc(`b${seed}`), seed, { latencyMs: 20, ...profile });
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => p.a.m.state === 'established' && p.b.m.state === 'established', 30_000, 'handshake');
  return p;
}

/** Sends `count` messages from a to b as fast as the send buffer allows. */
function pushAll(
  p: Pair<SctpAssociation>,
  count: number,
  make: (i: number) => { stream: number; data: Buffer; unordered?: boolean },
): void {
  let next = 0;
  const a = p.a.m;
  const fill = (now: number): void => {
    while (next < count) {
      const m = make(next);
      if (!a.send(m.stream, 53, m.data, { unordered: m.unordered }, now)) break;
      next++;
    }
    p.a.pump(now);
  };
  p.a.onEvent = (e, now) => {
    if (e.type === 'send_buffer_low') fill(now);
  };
  fill(p.clock.now());
  p.run(() => p.b.events.filter(isMsg).length >= count && next >= count, 600_000, `${count} messages`);
}

test('10 000 messages over 5 % loss, reordering and duplication arrive exactly once and in order', () => {
  const p = established(11, { loss: 0.05, reorder: 0.05, duplicate: 0.05, jitterMs: 5 });
  const count = 10_000;
  pushAll(p, count, (i) => ({ stream: i % 3, data: Buffer.from(`m${i}:${'x'.repeat(i % 300)}`) }));
  const got = p.b.events.filter(isMsg);
  assert.equal(got.length, count);
  const seen = new Set(got.map((m) => m.data.toString()));
  assert.equal(seen.size, count, 'no duplicates');
  for (let s = 0; s < 3; s++) {
    const ids = got.filter((m) => m.streamId === s).map((m) => Number(m.data.toString().split(':')[0].slice(1)));
    assert.deepEqual(
      ids,
      [...ids].sort((x, y) => x - y),
      `stream ${s} in order`,
    );
  }
  assert.ok(p.net.stats.lost > 0 && p.net.stats.duplicated > 0 && p.net.stats.reordered > 0, 'the network did impair');
  const st = p.a.m.stats;
  assert.ok(st.retransmits > 0, 'losses were repaired by retransmission');
  assert.ok(st.fastRetransmits > 0, 'fast retransmit took part');
  assert.ok(p.b.m.stats.duplicateTsnsIn > 0, 'duplicates were seen and reported');
  p.run(() => p.a.m.bufferedAmount === 0, 60_000, 'all acked');
});

test('unordered messages arrive exactly once (any order)', () => {
  const p = established(12, { loss: 0.05, reorder: 0.1 });
  const count = 2000;
  pushAll(p, count, (i) => ({ stream: 4, data: Buffer.from(String(i)), unordered: true }));
  const got = p.b.events.filter(isMsg);
  assert.ok(got.every((m) => m.unordered));
  assert.deepEqual(new Set(got.map((m) => Number(m.data.toString()))).size, count);
});

test('messages of 1 B to 256 KiB are fragmented and reassembled byte-exact, over loss', () => {
  const p = established(13, { loss: 0.03 });
  const sizes = [1, 1024, 16 * 1024, 64 * 1024, 256 * 1024];
  const payloads = sizes.flatMap((n, k) => [0, 1].map((u) => Buffer.alloc(n, (k * 2 + u + 1) & 0xff)));
  pushAll(p, payloads.length, (i) => ({ stream: 0, data: payloads[i], unordered: i % 2 === 1 }));
  const got = p.b.events.filter(isMsg);
  for (const want of payloads)
    assert.ok(
      got.some((m) => m.data.equals(want)),
      `${want.length}-byte message`,
    );
});

test('the association survives the peer changing address (NAT rebinding): it only needs packets', () => {
  const p = established(14);
  const a = p.a.m;
  a.send(0, 51, Buffer.from('before'), {}, p.clock.now());
  p.a.pump(p.clock.now());
  p.run(() => p.b.events.filter(isMsg).length === 1, 5000);
  p.net.nat(p.a.address, { family: 'IPv4', address: '198.51.100.7', port: 40000 });
  a.send(0, 51, Buffer.from('after'), {}, p.clock.now());
  p.a.pump(p.clock.now());
  p.run(() => p.b.events.filter(isMsg).length === 2, 5000, 'after rebinding');
  p.b.m.send(0, 51, Buffer.from('back'), {}, p.clock.now());
  p.b.pump(p.clock.now());
  p.run(() => p.a.events.some(isMsg), 5000, 'answer to the new address');
  assert.equal(p.b.peer.address, '198.51.100.7');
});
