// test/support/wait-for.ts: resolves with the first truthy value of a (possibly async) predicate,
// and fails naming what it waited for and the last value seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './wait-for.ts';

test('waitFor resolves with the first truthy value, sync or async', async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n >= 3 && n, { timeoutMs: 5000, intervalMs: 1, what: 'three calls' }), 3);
  let m = 0;
  assert.deepEqual(await waitFor(async () => (++m === 2 ? { m } : undefined), { timeoutMs: 5000, intervalMs: 1, what: 'two calls' }), { m: 2 });
});

test('waitFor fails after timeoutMs naming what it waited for and the last value', async () => {
  let n = 0;
  const ready = (): number | false => {
    n++;
    return n > 1_000_000 && n;
  };
  await assert.rejects(waitFor(ready, { timeoutMs: 30, intervalMs: 5, what: 'the relay' }),
    /timed out after 30 ms waiting for the relay \(last value: false\)/);
  await assert.rejects(waitFor(() => { throw new Error('ECONNREFUSED'); }, { timeoutMs: 20, intervalMs: 5, what: () => 'a port' }),
    /waiting for a port \(last value: Error: ECONNREFUSED/);
});
