// Scheduling priority of a native-datapath worker's helper threads (docs/relay.md, "Native
// datapath"): the threads that forward packets are the native loop threads; V8's platform
// threads (`V8Worker`, `DelayedTaskSche…`: concurrent GC, compilers) share their core and get a
// lower priority (nice), so a collection or a compile burst yields the core to established flows.
// Lowering a thread's priority needs no privilege (Linux: setpriority on a thread id acts on that
// thread alone); raising it back would, which decides what is left alone:
// - the main thread: it creates worker threads (a restarted worker), which inherit its value and
//   create the loop threads in turn;
// - the worker's own JavaScript thread: it takes the native table's lock (install, remove, sync),
//   and a low-priority lock holder preempted by other processes on a busy core would stall the
//   loop threads waiting for that lock (measured: a 61 ms stall, docs/performance.md).
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

/** Which threads get HELPER_NICE: V8's platform threads, never one of `keep`. */
export function helperThreads(threads: readonly ThreadInfo[], keep: readonly number[]): number[] {
  return threads.filter((t) => V8_PLATFORM_THREADS.test(t.name) && !keep.includes(t.tid)).map((t) => t.tid);
}

/**
 * Gives V8's helper threads HELPER_NICE; `keep` are the native loop threads' ids. Returns the
 * threads changed and, when some could not be, why.
 */
export function lowerHelperThreads(
  keep: readonly number[],
  set: (tid: number, nice: number) => void = setPriority,
  threads: readonly ThreadInfo[] = processThreads(),
): { changed: number[]; failed?: string } {
  const changed: number[] = [];
  let failed: string | undefined;
  for (const tid of helperThreads(threads, keep)) {
    try {
      set(tid, HELPER_NICE);
      changed.push(tid);
    } catch (err) {
      failed ??= (err as Error).message;
    }
  }
  return failed === undefined ? { changed } : { changed, failed };
}
