// Runs test files again in a child `node --test` with extra environment (the relay suite with
// --datapath native, the media tests with --media-io dgram): the child is a test run of its
// own, not a nested one, and is killed after 230 s so the parent test's 240 s timeout reports.
import { spawn } from 'node:child_process';

export interface ChildTestRun {
  readonly code: number | null;
  /** stdout + stderr. */
  readonly out: string;
  /** The child's "ℹ tests/pass/fail/skipped" lines, joined. */
  readonly summary: string;
}

export async function runTestsInChild(files: readonly string[], env: Record<string, string>, concurrency: number): Promise<ChildTestRun> {
  const { NODE_TEST_CONTEXT: _nested, ...inherited } = process.env;
  // The same leak check as npm run test:unit, in every file of the nested run too.
  const child = spawn(
    process.execPath,
    ['--test', '--import', './test/support/leak-check.ts', `--test-concurrency=${concurrency}`, '--test-timeout=120000', ...files],
    {
      env: { ...inherited, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 230_000);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  const summary = out
    .split('\n')
    .filter((l) => /^ℹ (tests|pass|fail|skipped)/.test(l))
    .join('; ');
  return { code, out, summary };
}
