// `parley dev` passes the bridges' encoder settings (--opus-application, --opus-complexity) on to
// its transceiver, which logs what its bridges will encode with; a bad value is dev's own
// configuration error (exit 2 naming the setting), not a child that died. And it starts its
// transceiver with Parley's Node flags (src/transceiver/node-flags.ts), its relay without.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { BRIDGE_ENCODER_DEFAULTS } from '../../src/media/opus.ts';
import { TRANSCEIVER_NODE_FLAGS } from '../../src/transceiver/node-flags.ts';
import { BIN, ROOT, startDev } from './helpers.ts';

/** The transceiver's 'bridge encoder' log line, as JSON. */
function encoderLine(log: string): { application?: string; complexity?: number } {
  const line = log.split('\n').find((l) => l.includes('"bridge encoder"'));
  assert.ok(line, `no bridge encoder line in:\n${log}`);
  return JSON.parse(line.slice(line.indexOf('{')));
}

test(
  'parley dev --opus-application voip --opus-complexity 9 reaches the transceiver; without them its defaults',
  { timeout: 60_000 },
  async () => {
    const set = await startDev(['--opus-application', 'voip', '--opus-complexity', '9', '--log-level', 'info']);
    try {
      const line = encoderLine(set.log());
      assert.equal(line.application, 'voip');
      assert.equal(line.complexity, 9);
    } finally {
      await set.stop();
    }
    const plain = await startDev(['--log-level', 'info']);
    try {
      const line = encoderLine(plain.log());
      assert.equal(line.application, BRIDGE_ENCODER_DEFAULTS.application);
      assert.equal(line.complexity, BRIDGE_ENCODER_DEFAULTS.complexity);
    } finally {
      await plain.stop();
    }
  },
);

for (const [flag, value] of [
  ['--opus-complexity', '11'],
  ['--opus-application', 'music'],
]) {
  test(`parley dev ${flag} ${value}: exit 2 naming ${flag}`, { timeout: 30_000 }, async () => {
    const child = spawn(process.execPath, [BIN, 'dev', flag, value, '--http', '127.0.0.1:0'], { cwd: ROOT });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    assert.equal(code, 2, err);
    assert.match(err, new RegExp(flag));
  });
}

test("parley dev starts its transceiver with Parley's Node flags and its relay without them", { timeout: 60_000 }, async () => {
  const dev = await startDev();
  try {
    // Linux: a process's children, and each one's command line (NUL-separated).
    const children = readFileSync(`/proc/${dev.pid}/task/${dev.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
    const argvs = children.map((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').filter(Boolean));
    const command = (argv: string[]): string | undefined => argv.find((a) => a === 'relay' || a === 'transceiver');
    const transceiver = argvs.find((a) => command(a) === 'transceiver');
    const relay = argvs.find((a) => command(a) === 'relay');
    assert.ok(transceiver && relay, `children: ${JSON.stringify(argvs)}`);
    const before = (argv: string[]): string[] =>
      argv.slice(
        1,
        argv.findIndex((a) => a.endsWith('parley.ts')),
      );
    assert.deepEqual(before(transceiver), [...TRANSCEIVER_NODE_FLAGS]);
    assert.deepEqual(before(relay), []);
  } finally {
    await dev.stop();
  }
});
