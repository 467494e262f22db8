// Time from the signaling POST to "connected" (ICE + DTLS done) for Chromium over N calls
// through `parley dev` on this machine, with the median; then the same for our own client
// (`runCall`, in-process) for comparison. Not a test: it prints numbers and asserts nothing.
//   node bench/browser-connect.ts [--calls 20] [--fresh]
// --fresh launches a new Chromium for every call (first-call costs included); by default one
// browser is reused and the page reloaded, so every call is still a new RTCPeerConnection.
// Needs /usr/bin/chromium (or PARLEY_CHROMIUM). Everything it starts is stopped at the end.
import { parseArgs } from 'node:util';
import { systemRng } from '../src/common/system-rng.ts';
import { encodeTone } from '../src/client/audio.ts';
import { createCoreAgents } from '../src/client/core-agents.ts';
import { runCall } from '../src/client/run-call.ts';
import { openDemo, waitForStats } from '../test/e2e/browser.ts';
import { startDev } from '../test/e2e/helpers.ts';

const { values } = parseArgs({ options: { calls: { type: 'string', default: '20' }, fresh: { type: 'boolean', default: false } } });
const calls = Number(values.calls);

function summary(name: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  const q = (p: number): number => s[Math.min(s.length - 1, Math.floor(p * s.length))];
  const median = s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
  return `${name.padEnd(22)} n=${s.length}  median ${median.toFixed(1)} ms  min ${s[0].toFixed(1)}  p90 ${q(0.9).toFixed(1)}  max ${s[s.length - 1].toFixed(1)}`;
}

const dev = await startDev();
try {
  const chromium: number[] = [];
  let session = await openDemo(dev.ready.page);
  try {
    for (let i = 0; i < calls; i++) {
      if (values.fresh && i > 0) {
        await session.close();
        session = await openDemo(dev.ready.page);
      } else if (i > 0) {
        // A fresh page per call: the timestamps of the init script start over.
        await session.page.reload();
      }
      await session.page.click('#call');
      const s = await waitForStats(session.page, (x) => x.connectionState === 'connected' && x.postToConnectedMs !== null, 20_000);
      if (s.postToConnectedMs === null) throw new Error(`call ${i + 1} did not connect: ${JSON.stringify(s)}`);
      chromium.push(s.postToConnectedMs);
      await session.page.click('#hangup');
    }
  } finally {
    await session.close();
  }
  const ours: number[] = [];
  const agents = createCoreAgents(systemRng);
  const frames = encodeTone(440, 0.2);
  for (let i = 0; i < calls; i++) {
    const r = await runCall({ url: dev.ready.signaling, rng: systemRng, agents, frames, seconds: 0.2, tailMs: 0 });
    if (r.summary.connectMs === undefined) throw new Error(`parley call ${i + 1} failed: ${r.summary.error?.message}`);
    ours.push(r.summary.connectMs);
  }
  console.log('POST → connected (ICE + DTLS) through parley dev on 127.0.0.1');
  console.log(summary(values.fresh ? 'Chromium (fresh)' : 'Chromium', chromium));
  console.log(`  Chromium samples: ${chromium.map((x) => x.toFixed(0)).join(' ')}`);
  console.log(summary('parley call (client)', ours));
} finally {
  await dev.stop();
}
