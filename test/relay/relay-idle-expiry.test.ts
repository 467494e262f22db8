// Idle expiry and the store refresh on the worker's clock, over real sockets with the worker in
// process on a ManualClock (both datapaths: the native suite reruns it): a flow with a consent
// check every 5 s outlives many idle timeouts and its store record is refreshed about twice per
// timeout; once the client goes quiet for --idle-timeout the flow is expired from the datapath's
// own table (the addon's, on the native datapath), and the client's next datagram finds it again
// in the store. Nothing here sleeps for a timer of ours.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { Slot } from '../../src/relay/stats.ts';
import { waitFor } from '../support/wait-for.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import { openSocket } from './harness.ts';
import { startWorkerInProcess } from './worker-in-process.ts';

const IDLE_MS = 10_000;

test('a flow kept alive by consent checks stays and is refreshed in the store; an idle one expires and is recovered from the store', async () => {
  const clock = new ManualClock(0, Date.now());
  const tx = await openSocket();
  const client = await openSocket();
  const relay = await startWorkerInProcess(clock, { idleMs: IDLE_MS });
  const seq = (m: Buffer): number => m.readUInt32BE(RELAY_HEADER_LENGTH + 12);
  try {
    const pub = relay.publics[0];
    const call = mintFor(tx.address, clock.wallNow());
    client.send(stunCheck(call.ufrag, call.pwd), pub);
    // The transceiver answers the check: the reply confirms the flow (else it would go after a few seconds).
    tx.send((await tx.next(2000)).msg, relay.internal);
    await client.next(2000);
    // The loop forwards a first check before it wakes the worker's JS, which counts the flow: soon after, not before.
    await waitFor(() => relay.stat(Slot.flowsCreated) === 1, 2000, 'the made flow counted');
    // The record reaches the supervisor's store after the store's write delay (on the clock).
    await clock.advanceAsync(10);
    await waitFor(() => relay.store.size === 1, 2000, 'the flow record in the store');
    const writes = relay.stat(Slot.storeWrites);

    // 40 s of a live call: a datagram every 5 s (RFC 7675 consent), four idle timeouts.
    for (let i = 1; i <= 8; i++) {
      await clock.advanceAsync(5000);
      client.send(rtp(i), pub);
      assert.equal(seq((await tx.next(2000)).msg), i);
    }
    await clock.advanceAsync(1000);
    assert.equal(relay.stat(Slot.flowsExpired), 0, 'a live flow never expires');
    assert.equal(relay.stat(Slot.flows), 1);
    const refreshes = relay.stat(Slot.storeWrites) - writes;
    // Written again about every idle/2 while seen: 40 s / 5 s, give or take the sweep's 1 s grid.
    assert.ok(refreshes >= 6 && refreshes <= 9, `store refreshes in 40 s: ${refreshes}`);

    // Quiet for the idle timeout: expired from the datapath's table.
    await clock.advanceAsync(IDLE_MS);
    assert.equal(relay.stat(Slot.flowsExpired), 1);
    assert.equal(relay.stat(Slot.flows), 0);
    // Its next datagram is an unknown sender's: the store still has the record (TTL 2 × idle),
    // so the flow is recovered and the datagram forwarded.
    client.send(rtp(100), pub);
    assert.equal(seq((await tx.next(2000)).msg), 100);
    assert.equal(relay.stat(Slot.flowsRecovered), 1);
    assert.equal(relay.stat(Slot.flows), 1);
  } finally {
    await relay.stop();
    await Promise.all([tx.close(), client.close()]);
  }
});
