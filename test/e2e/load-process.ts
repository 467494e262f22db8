// Runs `parley load URL …` as a child process for the load e2e tests, bounded in time (SIGKILL
// after `timeoutMs`), and returns its exit code, stdout and stderr.
import { spawn } from 'node:child_process';
import { BIN, ROOT } from './helpers.ts';

export function runParleyLoad(url: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string; err: string }> {
  const child = spawn(process.execPath, [BIN, 'load', url, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, out, err });
    });
  });
}
