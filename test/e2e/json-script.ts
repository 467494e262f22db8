// Test helper: runs a foreign peer's script (aiortc, GStreamer) to completion and parses the one
// JSON line it prints last. SIGKILL after `timeoutMs`, so a hung peer cannot hang the suite.
import { spawn } from 'node:child_process';

export function runJsonScript<T>(
  command: string,
  args: string[],
  timeoutMs: number,
): Promise<{ code: number | null; result?: T; out: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      let result: T | undefined;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as T;
      } catch {
        result = undefined;
      }
      resolve({ code, result, out: `${stdout}\n${stderr.slice(-4000)}` });
    });
  });
}
