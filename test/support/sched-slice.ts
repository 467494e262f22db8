// A thread's scheduler slice as Linux shows it (/proc/…/sched, se.slice), for the tests of the
// native threads that ask for the shortest one (native/src/socket_util.h, ask_short_slice).
import { readFileSync } from 'node:fs';
import { platform, release } from 'node:os';

/** The kernel's least slice (0.1 ms), which those threads ask for. */
export const SHORT_SLICE_NS = 100_000;

/** Whether this kernel takes a thread's own slice (sched_attr.sched_runtime, Linux 6.12). */
export function customSlices(): boolean {
  const [major, minor] = release().split('.').map(Number);
  return platform() === 'linux' && (major > 6 || (major === 6 && minor >= 12));
}

/** A thread's scheduler slice in ns (se.slice), or undefined where the kernel does not show it. */
export function sliceOf(tid: number): number | undefined {
  let text: string;
  try {
    text = readFileSync(`/proc/self/task/${tid}/sched`, 'utf8');
  } catch {
    return undefined;
  }
  const m = /^se\.slice\s*:\s*(\d+)/m.exec(text);
  return m ? Number(m[1]) : undefined;
}

/** The calling thread's id (the main thread's is the process id; a worker's is its own). */
export function ownTid(): number {
  return Number(readFileSync('/proc/thread-self/stat', 'utf8').split(' ')[0]);
}
