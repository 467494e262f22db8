// Scheduling priority of a native-datapath worker's helper threads (docs/relay.md, "Native
// datapath"): the threads that forward packets are the native loop threads; the worker's
// JavaScript thread (first packets, tokens, store) and V8's platform threads (GC, compilers)
// share their core and get a lower priority (nice), so a burst of JavaScript work — a storm of
// first packets, a garbage collection — yields the core to established flows instead of
// delaying them. Lowering a thread's priority needs no privilege (Linux: setpriority on a
// thread id acts on that thread alone); raising it back would, which decides what is touched:
// - never the main thread: it creates worker threads (a restarted worker), which inherit its nice
//   value and create the loop threads in turn;
// - a worker's own thread only after its loop threads exist (they were created at its nice value);
// - V8's platform threads (`V8Worker`, `DelayedTaskSche…`), which create nothing of ours.
// Linux only; elsewhere, or when refused, nothing changes and the reason is returned.
import { readFileSync, readdirSync } from 'node:fs';
import { setPriority } from 'node:os';

/** The nice value of the helper threads (0 = normal, 19 = lowest). */
export const HELPER_NICE = 10;

/** Thread names (/proc/…/comm, 15 characters at most) of V8's platform threads. */
const V8_PLATFORM_THREADS = /^(V8Worker|DelayedTaskSche)/;

export interface ThreadInfo {
  readonly tid: number;
  readonly name: string;
}

/** The threads of this process (Linux /proc/self/task); empty where there is no /proc. */
export function processThreads(root = '/proc/self/task'): ThreadInfo[] {
  let tids: string[];
  try {
    tids = readdirSync(root);
  } catch {
    return [];
  }
  const out: ThreadInfo[] = [];
  for (const t of tids) {
    try {
      out.push({ tid: Number(t), name: readFileSync(`${root}/${t}/comm`, 'utf8').trim() });
    } catch {
      // the thread ended between readdir and read
    }
  }
  return out;
}

/** Which threads get HELPER_NICE: V8's platform threads and `self` (the caller's thread), never `keep`. */
export function helperThreads(threads: readonly ThreadInfo[], self: number | undefined, keep: readonly number[]): number[] {
  const out = threads.filter((t) => V8_PLATFORM_THREADS.test(t.name)).map((t) => t.tid);
  if (self !== undefined) out.push(self);
  return [...new Set(out)].filter((tid) => !keep.includes(tid));
}

/**
 * Gives the helper threads of a native-datapath worker HELPER_NICE. `self` is the worker's
 * thread id (its loop threads already started), `keep` the loop threads' ids. Returns the
 * threads changed and, when some could not be, why.
 */
export function lowerHelperThreads(
  self: number | undefined,
  keep: readonly number[],
  set: (tid: number, nice: number) => void = setPriority,
  threads: readonly ThreadInfo[] = processThreads(),
): { changed: number[]; failed?: string } {
  const changed: number[] = [];
  let failed: string | undefined;
  for (const tid of helperThreads(threads, self, keep)) {
    try {
      set(tid, HELPER_NICE);
      changed.push(tid);
    } catch (err) {
      failed ??= (err as Error).message;
    }
  }
  return failed === undefined ? { changed } : { changed, failed };
}
