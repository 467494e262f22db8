// STYLE.md rule 13, checked: loaded with `node --test --import ./test/support/leak-check.ts`, it
// runs in every test file's own process, takes a baseline when the file starts, and after the
// file's last test and last after() hook fails the file if anything it started is still there:
//   - active resources (process.getActiveResourcesInfo(): sockets, servers, timers, pipes, file
//     handles, pending requests), compared by type and count with the baseline. Node lists only
//     what keeps the process alive, so an unref()'d socket or timer is not seen;
//   - processes it started: its children, and any process that still carries the marker this
//     module puts in the environment (so a grandchild orphaned when its parent was killed counts).
// A resource that is closing (close() called, callback not yet run) is given a few turns of the
// event loop; nothing here waits in real time, except for an exited child not yet reaped (≤ 200
// ms). After reporting, it kills the leaked processes and ends the file's process if leaked
// handles would keep it alive, so one leak never hangs the run.
// Not here: per-test checks (a file is the unit), or anything in the runner's parent process.
import { after } from 'node:test';
import type { TestContext } from 'node:test';
import { readdirSync, readFileSync } from 'node:fs';
import { relative } from 'node:path';

const MARKER = 'PARLEY_LEAK_CHECK_OWNER';
/** Event-loop turns a closing handle gets to finish before it counts as left behind. */
const SETTLE_TURNS = 20;
/** How long a file's process may linger on leaked handles after the report, before it is ended. */
const EXIT_AFTER_REPORT_MS = 2000;

interface ProcessInfo {
  pid: number;
  ppid: number;
  name: string;
  state: string;
}

/** The test file this process runs, for the report. */
const testFile = relative(process.cwd(), process.argv[1] ?? '?');

// The runner's parent process (node --test itself) has no file to check: only a file's own
// process (NODE_TEST_CONTEXT=child…) or a test file run directly is checked.
const inRunnerParent = process.env.NODE_TEST_CONTEXT === undefined && process.execArgv.includes('--test');
if (!inRunnerParent) {
  process.env[MARKER] = String(process.pid);
  const baseline = countByType(process.getActiveResourcesInfo());
  const baselinePids = new Set(ourProcesses().map((p) => p.pid));
  // Root after() hooks run in the order they were added, and ours is added before the test file
  // is even loaded; so the first hook only appends the real check, which then runs after the
  // file's own after() hooks (the runner reads the hook list as it goes).
  after((root) => {
    // The root's hook context is a TestContext (the type also admits a SuiteContext).
    (root as TestContext).after(async () => {
      await settle(() => leaks(baseline, baselinePids, 'children').clean);
      let found = leaks(baseline, baselinePids, 'all');
      // A garbage collection during the scan of /proc can queue work for the next turn: N-API
      // finalizers of native objects (keys, sessions) run from an Immediate that V8's GC asks
      // Node for. Such a one-turn resource is not a leak: settle once more and look again.
      if (!found.clean) {
        await settle(() => leaks(baseline, baselinePids, 'children').clean);
        found = leaks(baseline, baselinePids, 'all');
      }
      // A child that has exited but is not reaped yet (state Z: a `taskset` a relay worker ran to
      // pin a thread, done just before the file's end) is reaped when libuv handles its SIGCHLD,
      // which can take a few ms of real time: only then, and only for that, wait up to 200 ms.
      for (let i = 0; i < 20 && onlyExited(found); i++) {
        await new Promise((r) => setTimeout(r, 10));
        found = leaks(baseline, baselinePids, 'all');
      }
      if (found.clean) return;
      for (const p of found.processes) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // Already gone.
        }
      }
      if (found.resources.length > 0) setTimeout(() => process.exit(1), EXIT_AFTER_REPORT_MS).unref();
      throw new Error(
        `leak check: ${testFile} left behind ${describe(found)} (STYLE.md rule 13: close what a test starts, and wait for it to close)`,
      );
    });
  });
}

interface Leaks {
  clean: boolean;
  /** [type, extra count over the baseline] */
  resources: Array<[string, number]>;
  processes: ProcessInfo[];
}

/** `children` looks at direct children only (cheap, for settling); `all` also scans /proc for the marker. */
function leaks(baseline: Map<string, number>, baselinePids: Set<number>, scope: 'children' | 'all'): Leaks {
  const resources: Array<[string, number]> = [];
  for (const [type, n] of countByType(process.getActiveResourcesInfo())) {
    const extra = n - (baseline.get(type) ?? 0);
    if (extra > 0) resources.push([type, extra]);
  }
  const processes = (scope === 'all' ? ourProcesses() : ourChildren()).filter((p) => !baselinePids.has(p.pid));
  return { clean: resources.length === 0 && processes.length === 0, resources, processes };
}

/** Nothing left but exited, unreaped children of this process. */
function onlyExited(l: Leaks): boolean {
  return !l.clean && l.resources.length === 0 && l.processes.every((p) => p.state === 'Z' && p.ppid === process.pid);
}

function describe(l: Leaks): string {
  const parts = l.resources.map(([type, n]) => `${n} × ${type}`);
  for (const p of l.processes)
    parts.push(`process ${p.pid} (${p.name}, state ${p.state}${p.ppid === process.pid ? '' : `, parent ${p.ppid}`})`);
  return parts.join(', ');
}

function countByType(types: string[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const t of types) m.set(t, (m.get(t) ?? 0) + 1);
  return m;
}

/** Our direct children (from /proc/self/task/…/children where the kernel has it). */
function ourChildren(): ProcessInfo[] {
  try {
    const pids = readdirSync('/proc/self/task').flatMap((t) =>
      readFileSync(`/proc/self/task/${t}/children`, 'latin1').split(' ').filter(Boolean),
    );
    return pids.map((pid) => processInfo(Number(pid))).filter((p): p is ProcessInfo => p !== undefined);
  } catch {
    return ourProcesses();
  }
}

function processInfo(pid: number): ProcessInfo | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    // pid (comm) state ppid …: comm may hold spaces and parentheses, so split at the last ')'.
    const close = stat.lastIndexOf(')');
    const [state, ppid] = stat.slice(close + 2).split(' ');
    return { pid, ppid: Number(ppid), name: stat.slice(stat.indexOf('(') + 1, close), state };
  } catch {
    return undefined; // Gone while we looked.
  }
}

/** Our children, and every process whose environment carries our marker (Linux /proc; elsewhere none). */
function ourProcesses(): ProcessInfo[] {
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return [];
  }
  const mark = `\0${MARKER}=${process.pid}\0`;
  const out: ProcessInfo[] = [];
  for (const d of pids) {
    const pid = Number(d);
    const info = pid === process.pid ? undefined : processInfo(pid);
    if (!info) continue;
    if (info.ppid === process.pid) {
      out.push(info);
      continue;
    }
    try {
      if (info.state !== 'Z' && `\0${readFileSync(`/proc/${d}/environ`, 'latin1')}\0`.includes(mark)) out.push(info);
    } catch {
      // Gone while we looked, or not ours to read.
    }
  }
  return out;
}

/** Lets close callbacks and exit events that are already due run, up to SETTLE_TURNS turns. */
async function settle(done: () => boolean): Promise<void> {
  for (let i = 0; i < SETTLE_TURNS && !done(); i++) await new Promise((r) => setImmediate(r));
}
