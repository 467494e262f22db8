// CPU pinning for relay workers: which CPUs the process may use (the affinity it inherited
// from `taskset`, a container cpuset or systemd — /proc/self/status Cpus_allowed_list), and
// pinning one thread to one of them with util-linux `taskset -p -c CPU TID`. Where that is not
// possible (not Linux, no taskset, not permitted) the caller logs it and runs unpinned.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** Parses a kernel CPU list: "0-3,8,10-11" → [0,1,2,3,8,10,11]. Undefined on bad text. */
export function parseCpuList(text: string): number[] | undefined {
  const out: number[] = [];
  for (const part of text.trim().split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) return undefined;
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a || b - a > 4096) return undefined;
    for (let c = a; c <= b; c++) out.push(c);
  }
  return out;
}

/** The CPUs this process may run on; falls back to 0..availableParallelism-1. */
export function allowedCpus(statusText?: string): number[] {
  let text = statusText;
  if (text === undefined) {
    try {
      text = readFileSync('/proc/self/status', 'utf8');
    } catch {
      text = '';
    }
  }
  const m = /^Cpus_allowed_list:\s*(\S+)\s*$/m.exec(text);
  const list = m ? parseCpuList(m[1]) : undefined;
  return list && list.length > 0 ? list : Array.from({ length: availableParallelism() }, (_, i) => i);
}

/** Pins thread `tid` to `cpu`. Resolves to undefined on success, else the reason. */
export function pinThread(tid: number, cpu: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('taskset', ['-p', '-c', String(cpu), String(tid)], { timeout: 2000 }, (err, _out, stderr) => {
      if (!err) resolve(undefined);
      else if ((err as NodeJS.ErrnoException).code === 'ENOENT') resolve('taskset (util-linux) is not installed');
      else resolve(`taskset failed: ${(stderr || err.message).trim()}`);
    });
  });
}
