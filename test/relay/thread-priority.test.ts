// Which threads of a native-datapath worker get a lower priority: V8's platform threads only,
// never the native loop threads, the worker's JavaScript thread (it takes the table lock) or the
// main thread (it creates workers).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HELPER_NICE, helperThreads, lowerHelperThreads, processThreads } from '../../src/relay/thread-priority.ts';

const threads = [
  { tid: 100, name: 'MainThread' },
  { tid: 101, name: 'DelayedTaskSche' },
  { tid: 102, name: 'V8Worker' },
  { tid: 103, name: 'V8Worker' },
  { tid: 104, name: 'SignalInspector' },
  { tid: 110, name: 'relay-0' },
  { tid: 111, name: 'relay-0' },
  { tid: 112, name: 'relay-0' },
];

test('helper threads: V8 platform threads only, not the main, worker or loop threads', () => {
  assert.deepEqual(helperThreads(threads, [111, 112]).sort(), [101, 102, 103]);
  // a loop thread is kept even when named like a helper
  assert.deepEqual(helperThreads([{ tid: 7, name: 'V8Worker' }], [7]), []);
});

test('lowerHelperThreads sets HELPER_NICE on each helper and reports a refusal without throwing', () => {
  const set: [number, number][] = [];
  const ok = lowerHelperThreads([111, 112], (tid, nice) => set.push([tid, nice]), threads);
  assert.deepEqual(ok.changed.sort(), [101, 102, 103]);
  assert.equal(ok.failed, undefined);
  assert.ok(set.every(([, n]) => n === HELPER_NICE));
  const refused = lowerHelperThreads(
    [],
    (tid) => {
      if (tid === 102) throw new Error('EPERM');
    },
    threads,
  );
  assert.equal(refused.failed, 'EPERM');
  assert.ok(!refused.changed.includes(102));
});

test('processThreads lists this process on Linux and nothing where there is no /proc', () => {
  assert.deepEqual(processThreads('/nonexistent/task'), []);
  if (process.platform === 'linux') assert.ok(processThreads().some((t) => t.tid === process.pid));
});
