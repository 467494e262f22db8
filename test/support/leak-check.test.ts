// test/support/leak-check.ts really runs per test file and really fails a file that leaves a
// socket, a timer or a process behind (and kills the leaked processes), while a file that closes
// everything, some of it only in its own after() hook, passes. Each fixture runs in a child
// `node --test --import ./test/support/leak-check.ts`, as npm run test:unit runs every file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { waitFor } from './wait-for.ts';

const FIXTURES = 'test/support/fixtures';

async function runFixture(name: string): Promise<{ code: number | null; out: string }> {
  const { NODE_TEST_CONTEXT: _nested, ...env } = process.env;
  const child = spawn(
    process.execPath,
    ['--test', '--import', './test/support/leak-check.ts', '--test-reporter=spec', `${FIXTURES}/${name}.fixture.ts`],
    {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  return { code, out };
}

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

test(
  'the leak check fails a file that leaves a socket, a timer or a process behind, and passes one that closes all',
  { timeout: 60_000 },
  async () => {
    const [socket, timer, processes, clean] = await Promise.all(['leaks-socket', 'leaks-timer', 'leaks-process', 'clean'].map(runFixture));

    assert.equal(socket.code, 1, socket.out);
    assert.match(socket.out, /leak check: test\/support\/fixtures\/leaks-socket\.fixture\.ts left behind 1 × UDPWrap/);
    assert.match(socket.out, /✔ binds a socket and never closes it/, 'the test itself passed; the file failed');

    assert.equal(timer.code, 1, timer.out);
    assert.match(timer.out, /leaks-timer\.fixture\.ts left behind 1 × Timeout/);

    assert.equal(processes.code, 1, processes.out);
    const m =
      /leaks-process\.fixture\.ts left behind process (\d+) \(sleep, state \w\), process (\d+) \(sleep, state \w, parent \d+\)/.exec(
        processes.out,
      );
    assert.ok(m, `a running child and an orphaned grandchild are both named:\n${processes.out}`);
    const pids = [Number(m[1]), Number(m[2])];
    await waitFor(() => !pids.some(alive), { timeoutMs: 5000, what: `leaked processes ${pids.join(', ')} to be killed` });

    assert.equal(clean.code, 0, clean.out);
    assert.doesNotMatch(clean.out, /leak check/);
  },
);
