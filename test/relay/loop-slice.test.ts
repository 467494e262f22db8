// The native loop threads ask the scheduler for its shortest slice (native/src/relay_native.c,
// ask_short_slice; docs/performance.md, load8): a loop woken by a datagram then runs before the
// thread that holds the core finishes its slice, instead of up to one default slice later (the
// relay's 2–15 ms hops on a busy 2-core box). Its nice value, hence its share of the CPU, is
// unchanged. Linux ≥ 6.12 takes a thread's own slice and shows it in /proc/…/sched (se.slice);
// an older kernel ignores the request, and there the test checks only that the nice value is kept.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { getPriority, platform, release } from 'node:os';
import { NativeDatapath, loadNativeAddon } from '../../src/relay/datapath-native.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { newStats } from '../../src/relay/stats.ts';
import { v4 } from './helpers.ts';

const skip = loadNativeAddon() instanceof Error && process.env.CI !== 'true' ? 'the native relay addon is not built' : false;
/** The kernel's least slice (0.1 ms), which the loops ask for. */
const LOOP_SLICE_NS = 100_000;

/** Whether this kernel takes a thread's own slice (sched_attr.sched_runtime, Linux 6.12). */
function customSlices(): boolean {
  const [major, minor] = release().split('.').map(Number);
  return platform() === 'linux' && (major > 6 || (major === 6 && minor >= 12));
}

/** A thread's scheduler slice in ns (se.slice), or undefined where the kernel does not show it. */
function sliceOf(tid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/self/task/${tid}/sched`, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^se\.slice\s*:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

test('native loop threads: the shortest scheduler slice, their nice value unchanged', { skip }, async () => {
  const dp = new NativeDatapath({
    publics: [v4('127.0.0.1', 0)],
    internal: v4('127.0.0.1', 0),
    reusePort: false,
    socketBufferBytes: 1 << 20,
    maxFlows: 10,
    idleMs: 60_000,
    stats: newStats(false),
    now: new Float64Array(1),
    transceiverCidrs: CidrSet.parse('127.0.0.2/32'),
  });
  try {
    await dp.bind({ onClientMiss: () => {}, onSocketError: () => {} });
    assert.equal(dp.tids.length, 2, 'one loop per public socket + the internal one');
    const own = customSlices() ? sliceOf(Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0])) : undefined;
    for (const tid of dp.tids) {
      assert.equal(getPriority(tid), getPriority(), `loop ${tid}: nice as the thread that started it`);
      if (own !== undefined) {
        assert.equal(sliceOf(tid), LOOP_SLICE_NS, `loop ${tid}: se.slice`);
        assert.ok(own > LOOP_SLICE_NS, `the JavaScript thread keeps the default slice (${own} ns)`);
      }
    }
  } finally {
    await dp.close();
  }
});
