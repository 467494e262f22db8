// The signaling server's start-up warm-up (src/transceiver/http/signaling-warm-up.ts): every
// offer it POSTs over loopback to its throwaway server is answered 201, it stops at its count and
// at its budget, a budget of 0 opens nothing, and it leaves no listener or socket open.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { warmUpSignaling } from '../../src/transceiver/http/signaling-warm-up.ts';

const tcpHandles = (): number => process.getActiveResourcesInfo().filter((r) => r.startsWith('TCP')).length;

test('warmUpSignaling: every POST answered 201, at most `requests`, and nothing left open', async () => {
  const before = tcpHandles();
  const r = await warmUpSignaling({ requests: 12, budgetMs: 60_000, now: () => performance.now() });
  assert.deepEqual({ answered: r.answered, failed: r.failed }, { answered: 12, failed: 0 });
  // Closed handles leave the list within a few turns.
  for (let i = 0; i < 100 && tcpHandles() > before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(tcpHandles(), before);
});

test('warmUpSignaling stops at its budget, and a budget or count of 0 starts nothing', async () => {
  let t = 0;
  // Each read moves this clock 5 ms: the check sees 5, 10, 15, then 20 ms elapsed: three POSTs.
  const r = await warmUpSignaling({ requests: 100, budgetMs: 20, now: () => (t += 5) });
  assert.deepEqual({ answered: r.answered, failed: r.failed }, { answered: 3, failed: 0 });
  assert.deepEqual(await warmUpSignaling({ requests: 100, budgetMs: 0, now: () => 0 }), { answered: 0, failed: 0, ms: 0 });
  assert.deepEqual(await warmUpSignaling({ requests: 0, budgetMs: 100, now: () => 0 }), { answered: 0, failed: 0, ms: 0 });
});
