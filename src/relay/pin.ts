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

/**
 * The CPU quota of the process's cgroup (v2 `cpu.max`, or v1 `cpu.cfs_quota_us`/`cfs_period_us`),
 * rounded up to whole CPUs; undefined when unlimited or unknown. A Kubernetes CPU limit shows up
 * here and not in the affinity mask, so the default worker count must respect both.
 */
export function cpuQuota(read: (path: string) => string | undefined = readOrUndefined): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2[0] !== 'max' && Number(v2[0]) > 0 && Number(v2[1]) > 0) return Math.max(1, Math.ceil(Number(v2[0]) / Number(v2[1])));
  const quota = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us'));
  const period = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us'));
  if (quota > 0 && period > 0) return Math.max(1, Math.ceil(quota / period));
  return undefined;
}

function readOrUndefined(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
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
