// A relay refuses to join a public port held by a relay with a different keyring (issue #20):
// without the check it would join the SO_REUSEPORT group and the kernel would hand it half the
// clients, whose tokens it cannot open. A relay with the same keys still joins (the hand-over of
// docs/global-relay.md), and a port held by something that is not a relay is refused too.
// Real relay processes on one fixed loopback port.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { freePort, startRelayProcess } from './harness.ts';
import type { RelayProcess } from './harness.ts';

const OTHER_KEYS = Keyring.generate(seededRng('join-check-other-deployment'), 7).toString();

async function refused(args: string[], env: Record<string, string> = {}): Promise<string> {
  try {
    const r = await startRelayProcess(args, env);
    await r.stop();
  } catch (err) {
    return (err as Error).message;
  }
  assert.fail('the relay started');
}

test('a relay with other keys refuses to join the port (exit 2, naming the keys setting); one with the same keys joins', async () => {
  const port = await freePort('udp');
  const listen = ['--listen', `127.0.0.1:${port}`, '--workers', '1'];
  const first: RelayProcess = await startRelayProcess(listen);
  let second: RelayProcess | undefined;
  try {
    const why = await refused(listen, { PARLEY_KEYS: OTHER_KEYS });
    assert.match(why, /relay exited \(2\)/);
    assert.match(why, /--keys-file \/ PARLEY_KEYS/);
    assert.match(why, new RegExp(`127\\.0\\.0\\.1:${port} is held by a process that does not forward this relay's tokens`));
    // The same keys: the hand-over still works.
    second = await startRelayProcess(listen);
    assert.ok(
      second.logs.some((l) => l.msg === 'joining a relay with the same keys on its port (hand-over)'),
      JSON.stringify(second.logs),
    );
    assert.equal(first.proc.exitCode, null, 'the first relay runs on');
  } finally {
    await second?.stop();
    await first.stop();
  }
});

test('a port held by a process that is not a relay is refused; --join-check off skips the check', async () => {
  const port = await freePort('udp');
  const squatter = dgram.createSocket({ type: 'udp4', reusePort: true });
  await new Promise<void>((r) => squatter.bind(port, '127.0.0.1', () => r()));
  try {
    const why = await refused(['--listen', `127.0.0.1:${port}`, '--workers', '1']);
    assert.match(why, /relay exited \(2\)/);
    assert.match(why, /does not forward this relay's tokens/);
    const joined = await startRelayProcess(['--listen', `127.0.0.1:${port}`, '--workers', '1', '--join-check', 'off']);
    await joined.stop();
  } finally {
    await new Promise<void>((r) => squatter.close(() => r()));
  }
});
