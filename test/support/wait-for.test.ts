// test/support/wait-for.ts: resolves with the first truthy value of a (possibly async) predicate,
// and fails naming what it waited for and the last value seen.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from './wait-for.ts';

test('waitFor resolves with the first truthy value, sync or async', async () => {
  let n = 0;
  assert.equal(await waitFor(() => ++n >= 3 && n, { timeoutMs: 5000, intervalMs: 1, what: 'three calls' }), 3);
  let m = 0;
  assert.deepEqual(await waitFor(async () => (++m === 2 ? { m } : undefined), { timeoutMs: 5000, intervalMs: 1, what: 'two calls' }), {
    m: 2,
  });
  assert.equal(await waitFor(() => 'ok', 100, 'the short form'), 'ok');
  await assert.rejects(
    waitFor(() => 0, 10, 'the short form'),
    /waiting for the short form \(last value: 0\)/,
  );
});

test('waitFor fails after timeoutMs naming what it waited for and the last value', async () => {
  let n = 0;
  const ready = (): number | false => {
    n++;
    return n > 1_000_000 && n;
  };
  await assert.rejects(
    waitFor(ready, { timeoutMs: 30, intervalMs: 5, what: 'the relay' }),
    /timed out after 30 ms waiting for the relay \(last value: false\)/,
  );
  const lines: string[] = [];
  await assert.rejects(
    waitFor(() => lines.includes('up'), { timeoutMs: 20, intervalMs: 5, what: () => `the line 'up' in ${JSON.stringify(lines)}` }),
    /waiting for the line 'up' in \[\] \(last value: false\)/,
  );
  const started = performance.now();
  await assert.rejects(
    waitFor(
      () => {
        throw new Error('the process exited');
      },
      { timeoutMs: 5000, what: 'never' },
    ),
    /the process exited/,
  );
  assert.ok(performance.now() - started < 1000, 'a throwing predicate rejects at once');
});
