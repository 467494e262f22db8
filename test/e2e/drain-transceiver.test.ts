// Graceful drain of a real `parley transceiver` process with `parley call`s through a real relay.
// 1. SIGTERM with a call up: /readyz and new offers answer 503 (+ Retry-After) at once, the call
//    keeps flowing until its own hang-up (DELETE), and the process exits 0 as soon as it is empty
//    — long before --drain-seconds.
// 2. A call that outlives --drain-seconds is ended at the deadline with reason server_drain (the
//    client hears it: DTLS close_notify), and the process exits 0.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress } from '../../src/core/address.ts';
import { runCall } from './helpers.ts';
import type { RelayProc } from './failover-helpers.ts';
import { minimalOffer, redisPrefix, startRelay, startTransceiver, stopAll } from './failover-helpers.ts';
import { waitFor as until } from '../support/wait-for.ts';

const run = redisPrefix();
let relay: RelayProc;

before(async () => {
  relay = await startRelay({ listen: '127.0.0.1:0', location: 'a', prefix: run.prefix });
});

after(async () => {
  await stopAll();
  await run.cleanup();
});

const offer = minimalOffer;

async function connectedCall(lines: string[], from: number): Promise<string> {
  const l = await until(() => lines.slice(from).find((x) => x.includes('"msg":"call connected"')), 15_000, 'call connected');
  return (JSON.parse(l) as { call: string }).call;
}

test(
  'SIGTERM with a call up: 503 + Retry-After for new offers, the call flows until hang-up, exit 0 once empty',
  { timeout: 90_000 },
  async (t) => {
    const trx = await startTransceiver(['--relays', formatAddress(relay.public), '--drain-seconds', '60']);
    const callDone = runCall(`${trx.base}/v1/realtime/calls`, ['--seconds', '6', '--tone', '440'], 60_000);
    const id = await connectedCall(trx.lines, 0);
    await new Promise((r) => setTimeout(r, 1000));
    const termAt = performance.now();
    trx.child.kill('SIGTERM');
    await until(async () => (await fetch(`${trx.ops}/readyz`)).status === 503, 5000, 'readyz 503');
    const refused = await fetch(`${trx.base}/v1/realtime/calls`, {
      method: 'POST',
      body: offer(),
      headers: { 'content-type': 'application/sdp' },
    });
    assert.equal(refused.status, 503);
    assert.ok(Number(refused.headers.get('retry-after')) > 0, 'Retry-After');
    assert.equal(((await refused.json()) as { error: { code: string } }).error.code, 'ERR_SIGNALING_DRAINING');
    const result = await callDone;
    const code = await trx.exited();
    const exitMs = performance.now() - termAt;
    const st = result.summary.stats as { packetsSent: number; packetsReceived: number };
    t.diagnostic(
      `call after SIGTERM: sent ${st.packetsSent}, got back ${st.packetsReceived}; process exited ${exitMs.toFixed(0)} ms after SIGTERM`,
    );
    assert.equal(result.code, 0, `the call finished normally: ${JSON.stringify(result.summary)}`);
    assert.ok(st.packetsSent - st.packetsReceived < 10, 'the echo kept flowing through the drain');
    // The client ends its own call: close_notify (dtls_closed) and DELETE (hangup), whichever lands first.
    const closed = trx.lines.find((l) => l.includes('"msg":"call closed"') && l.includes(id));
    assert.match(closed ?? '', /"reason":"(hangup|dtls_closed)"/, 'ended by its own hang-up, not by the drain');
    assert.equal(code, 0);
    assert.ok(exitMs < 30_000, 'exited once empty, not at the 60 s deadline');
  },
);

test('a call still up at the drain deadline is ended with reason server_drain, then exit 0', { timeout: 90_000 }, async (t) => {
  const trx = await startTransceiver(['--relays', formatAddress(relay.public), '--drain-seconds', '2']);
  const callDone = runCall(`${trx.base}/v1/realtime/calls`, ['--seconds', '20', '--tone', '440'], 60_000);
  const id = await connectedCall(trx.lines, 0);
  await new Promise((r) => setTimeout(r, 500));
  const termAt = performance.now();
  trx.child.kill('SIGTERM');
  const code = await trx.exited();
  const exitMs = performance.now() - termAt;
  const result = await callDone;
  t.diagnostic(
    `exited ${exitMs.toFixed(0)} ms after SIGTERM (drain 2 s); client: ${JSON.stringify(result.summary.error ?? result.summary.stats?.error)}`,
  );
  assert.equal(code, 0);
  assert.ok(exitMs >= 1900 && exitMs < 10_000, `exit at the deadline (${exitMs.toFixed(0)} ms)`);
  assert.ok(
    trx.lines.some((l) => l.includes('"msg":"call closed"') && l.includes(id) && l.includes('"reason":"server_drain"')),
    'ended as server_drain',
  );
  assert.equal(result.code, 1, 'the client saw its call ended by the server');
  assert.match(JSON.stringify(result.summary), /ERR_CLIENT_REMOTE_CLOSED|closed/i);
});
