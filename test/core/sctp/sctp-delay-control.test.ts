// Delay-based congestion control (src/core/sctp/delay-control.ts) against a bottleneck with a
// finite drop-tail buffer — a receiver's UDP socket that a busy browser drains at 1.5 MB/s and
// that holds 64 KB — on a fake clock. Loss-based control alone fills the buffer until it drops;
// with delay control the sender keeps a standing queue near its target (20 ms at this rate) and
// nothing is dropped, while the bottleneck stays busy. Base RTT tracking: the minimum expires, so
// a path that became slower is learnt, and the filter ignores one-off spikes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DelayControl } from '../../../src/core/sctp/delay-control.ts';
import type { SctpAssociation } from '../../../src/core/sctp/index.ts';
import type { SctpOptions } from '../../../src/core/sctp/index.ts';
import { drain } from '../../../src/core/output.ts';
import { assoc } from './harness.ts';

/** FIFO drop-tail queue drained at `rate` bytes/ms, then `latencyMs` of propagation. */
class Bottleneck {
  readonly rate: number;
  readonly capacity: number;
  readonly latencyMs: number;
  drops = 0;
  #lastDeparture = 0;
  readonly #queued: Array<{ departs: number; size: number }> = [];
  #queuedBytes = 0;
  readonly #wire: Array<{ at: number; data: Buffer }> = [];

  constructor(rate: number, capacity: number, latencyMs: number) {
    this.rate = rate;
    this.capacity = capacity;
    this.latencyMs = latencyMs;
  }

  queuedBytes(now: number): number {
    while (this.#queued.length > 0 && this.#queued[0].departs <= now) this.#queuedBytes -= this.#queued.shift()!.size;
    return this.#queuedBytes;
  }

  send(data: Buffer, now: number): void {
    if (this.queuedBytes(now) + data.length > this.capacity) {
      this.drops++;
      return;
    }
    const departs = Math.max(now, this.#lastDeparture) + data.length / this.rate;
    this.#lastDeparture = departs;
    this.#queued.push({ departs, size: data.length });
    this.#queuedBytes += data.length;
    this.#wire.push({ at: departs + this.latencyMs, data: Buffer.from(data) });
  }

  get nextArrival(): number | undefined {
    return this.#wire[0]?.at;
  }

  take(now: number): Buffer | undefined {
    return this.#wire.length > 0 && this.#wire[0].at <= now ? this.#wire.shift()!.data : undefined;
  }
}

interface Run {
  drops: number;
  delivered: number;
  /** Queue bytes sampled every ms over the last half of the run. */
  queue: number[];
  delayCuts: number;
  retransmits: number;
}

/** `a` sends 256 KiB messages to `b` for `ms` through the bottleneck; SACKs come back over 1 ms. */
function bulk(o: Partial<SctpOptions>, ms: number): Run {
  const a = assoc('delay-a', o);
  const b = assoc('delay-b', o);
  const forward = new Bottleneck(1500, 64_000, 1);
  const back = new Bottleneck(Infinity, Infinity, 1);
  let now = 0;
  let delivered = 0;
  const queue: number[] = [];
  const pump = (): void => {
    drain(
      a,
      (p) => forward.send(p, now),
      () => {},
    );
    drain(
      b,
      (p) => back.send(p, now),
      (e) => {
        if (e.type === 'message' && now >= ms / 2) delivered += e.data.length;
      },
    );
  };
  a.connect(0);
  pump();
  let nextSample = 0;
  const message = Buffer.alloc(256 * 1024);
  for (let steps = 0; now < ms && steps < 2_000_000; steps++) {
    if (a.state === 'established') while (a.send(0, 53, message, {}, now));
    pump();
    for (let p = forward.take(now); p !== undefined; p = forward.take(now)) b.handle(p, now);
    for (let p = back.take(now); p !== undefined; p = back.take(now)) a.handle(p, now);
    for (const m of [a, b]) {
      const due = m.pollTimeout();
      if (due !== undefined && due <= now) m.handleTimeout(now);
    }
    pump();
    if (now >= nextSample) {
      if (now >= ms / 2) queue.push(forward.queuedBytes(now));
      nextSample = now + 1;
    }
    const times = [forward.nextArrival, back.nextArrival, a.pollTimeout(), b.pollTimeout(), nextSample].filter(
      (t): t is number => t !== undefined,
    );
    now = Math.max(now + 0.01, Math.min(...times));
  }
  const s = (a as SctpAssociation).stats;
  return { drops: forward.drops, delivered, queue, delayCuts: s.delayCuts, retransmits: s.retransmits };
}

const median = (xs: number[]): number => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)];

test('loss-based control alone fills a 64 KB bottleneck buffer until it drops', () => {
  const r = bulk({ delayControl: false }, 6_000);
  assert.ok(r.drops > 10, `drops ${r.drops}`);
  assert.ok(r.retransmits > 10, `retransmits ${r.retransmits}`);
  assert.equal(r.delayCuts, 0);
});

test('delay control keeps a standing queue near its 20 ms target: nothing dropped, the bottleneck stays busy', () => {
  const r = bulk({}, 6_000);
  assert.equal(r.drops, 0, 'no datagram dropped at the bottleneck');
  assert.equal(r.retransmits, 0);
  assert.ok(r.delayCuts > 0, 'the window was cut for delay');
  // Target: 20 ms at 1500 B/ms = 30 KB (below the 48 KiB ceiling).
  const q = median(r.queue);
  assert.ok(q > 20_000 && q < 45_000, `median standing queue ${q} bytes`);
  assert.ok(Math.max(...r.queue) < 64_000, 'the buffer never filled');
  const rate = r.delivered / 3_000;
  assert.ok(rate > 0.9 * 1500, `goodput ${rate.toFixed(0)} B/ms of a 1500 B/ms bottleneck`);
});

test('delay control: the base RTT is a windowed minimum that expires, the current RTT a short filter', () => {
  const d = new DelayControl({ targetMs: 20, maxQueueBytes: 48 * 1024, minQueueMs: 3 });
  d.sample(10, 0);
  d.sample(50, 10);
  d.sample(12, 20);
  assert.equal(d.baseRtt, 10);
  assert.equal(d.currentRtt, 10);
  for (let i = 0; i < 4; i++) d.sample(40, 30 + i);
  assert.equal(d.currentRtt, 40);
  assert.equal(d.queueDelay, 30);
  // 40 KB in flight over 40 ms: 1000 B/ms, 30 KB queued of 20 KB allowed → cut to 30 KB.
  assert.equal(d.limit(40_000, 4800, 40), 30_000);
  assert.equal(d.limit(40_000, 4800, 50), undefined, 'one cut per round trip');
  // One spike among prompt samples does not move the current delay.
  for (let i = 0; i < 3; i++) d.sample(11, 100 + i);
  d.sample(300, 104);
  assert.equal(d.currentRtt, 11);
  // The path got slower (a route change): after four one-minute buckets the old minimum is gone.
  for (let t = 60_000; t <= 300_000; t += 1000) d.sample(30, t);
  assert.equal(d.baseRtt, 30);
  assert.equal(d.queueDelay, 0);
});

test('delay control: a queue under minQueueMs is never cut, however many bytes it holds (event-loop latency at loopback rates)', () => {
  const d = new DelayControl({ targetMs: 20, maxQueueBytes: 48 * 1024, minQueueMs: 3 });
  for (let i = 0; i < 4; i++) d.sample(0.2, i);
  for (let i = 0; i < 4; i++) d.sample(2.2, 10 + i);
  // 80 KB over 2.2 ms: ~36 KB/ms, ~73 KB queued (past 48 KiB) but only 2 ms of it.
  assert.equal(d.limit(80_000, 4800, 20), undefined);
  for (let i = 0; i < 4; i++) d.sample(4.2, 30 + i);
  // 4 ms at ~19 KB/ms: ~76 KB queued, 3 ms (~57 KB) allowed → cut by the excess.
  const cut = d.limit(80_000, 4800, 40);
  assert.ok(cut !== undefined && Math.abs(cut - (80_000 - (80_000 / 4.2) * 4 + (80_000 / 4.2) * 3)) <= 1, `cut to ${cut}`);
});

test('delay control in congestion avoidance: an excess that passes within one RTT (a stall) is not cut, one that lasts is', () => {
  const d = new DelayControl({ targetMs: 20, maxQueueBytes: 48 * 1024, minQueueMs: 3 });
  for (let i = 0; i < 4; i++) d.sample(10, i);
  for (let i = 0; i < 4; i++) d.sample(40, 10 + i);
  assert.equal(d.limit(40_000, 4800, 14, true), undefined, 'first seen: wait one RTT');
  for (let i = 0; i < 4; i++) d.sample(10, 20 + i);
  assert.equal(d.limit(40_000, 4800, 24, true), undefined, 'gone: nothing to cut');
  for (let i = 0; i < 4; i++) d.sample(40, 30 + i);
  assert.equal(d.limit(40_000, 4800, 34, true), undefined);
  assert.equal(d.limit(40_000, 4800, 60, true), undefined, 'less than one RTT (40 ms) so far');
  assert.equal(d.limit(40_000, 4800, 74, true), 30_000, 'lasted one RTT: cut');
});
