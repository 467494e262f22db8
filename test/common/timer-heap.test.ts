// The I/O shells' one-timer table: earliest() is always the minimum of what was set, updates
// and removals keep the heap consistent (fast-check against a Map model).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { TimerHeap } from '../../src/common/timer-heap.ts';

test('earliest, update down and up, delete, takeExpired in order', () => {
  const h = new TimerHeap<string>();
  h.set('a', 50);
  h.set('b', 10);
  h.set('c', 30);
  assert.equal(h.earliest(), 10);
  h.set('b', 60);
  assert.equal(h.earliest(), 30);
  h.set('a', 5);
  assert.equal(h.earliest(), 5);
  h.delete('a');
  assert.equal(h.earliest(), 30);
  assert.deepEqual(h.takeExpired(59), ['c']);
  assert.deepEqual(h.takeExpired(100), ['b']);
  assert.equal(h.earliest(), undefined);
  assert.equal(h.size, 0);
});

test('matches a Map model under random set/delete/takeExpired (fast-check)', () => {
  const op = fc.oneof(
    fc.record({ k: fc.constant('set' as const), key: fc.nat(20), d: fc.option(fc.nat(1000), { nil: undefined }) }),
    fc.record({ k: fc.constant('take' as const), now: fc.nat(1000) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const h = new TimerHeap<number>();
      const model = new Map<number, number>();
      for (const o of ops) {
        if (o.k === 'set') {
          h.set(o.key, o.d);
          if (o.d === undefined) model.delete(o.key);
          else model.set(o.key, o.d);
        } else {
          const got = h.takeExpired(o.now);
          const want = [...model].filter(([, d]) => d <= o.now);
          assert.deepEqual(new Set(got), new Set(want.map(([k]) => k)));
          for (let i = 1; i < got.length; i++) assert.ok(model.get(got[i - 1])! <= model.get(got[i])!);
          for (const k of got) model.delete(k);
        }
        const min = model.size ? Math.min(...model.values()) : undefined;
        assert.equal(h.earliest(), min);
        assert.equal(h.size, model.size);
      }
    }),
    { numRuns: 300 },
  );
});
