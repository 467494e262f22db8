import { startDev, nonLoopbackIPv4 } from '../test/e2e/helpers.ts';
import { buildPionClient } from '../test/e2e/pion/build.ts';
import { spawnSync } from 'node:child_process';
const bin = (await buildPionClient(600_000)).path;
const dev = await startDev(['--relay', `${nonLoopbackIPv4()}:0`]);
try {
  for (let i = 0; i < 8; i++) {
    const r = spawnSync(bin, ['-url', dev.ready.signaling, '-seconds', '0.2'], { encoding: 'utf8' });
    const j = JSON.parse(r.stdout); console.log(j.connectMs, j.postMs);
  }
} finally { await dev.stop(); }
