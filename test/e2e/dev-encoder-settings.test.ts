// `parley dev` passes the bridges' encoder settings (--opus-application, --opus-complexity) on to
// its transceiver, which logs what its bridges will encode with; a bad value is dev's own
// configuration error (exit 2 naming the setting), not a child that died.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { BRIDGE_ENCODER_DEFAULTS } from '../../src/media/opus.ts';
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
