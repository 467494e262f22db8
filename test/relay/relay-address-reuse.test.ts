// A client address reused by another call while the relay still holds the old call's flow (a
// NAT or CGNAT handing the public port to someone else, a client restarted on the same port,
// a load generator's ephemeral ports): the new call's valid check takes the address once the
// old flow is dead — silent for REPLACE_DEAD_FLOW_AFTER_MS, the consent timeout — instead of being
// forwarded to the old call's transceiver until the flow expires (which its own retries would keep
// postponing). A live flow is never taken, nor one that only receives (issue #19, attack 5). Real sockets, the worker in process on a ManualClock (the silence
// is the clock's, not slept); the native suite reruns it with --datapath native.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { decodeRelayHeader, RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { REPLACE_DEAD_FLOW_AFTER_MS } from '../../src/relay/route.ts';
import { Slot } from '../../src/relay/stats.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import { openSocket } from './harness.ts';
import { startWorkerInProcess } from './worker-in-process.ts';

test("a dead flow is taken over by another call's valid check from the same address; a live one is not", async () => {
  const clock = new ManualClock(0, Date.now());
  const oldTx = await openSocket();
  const newTx = await openSocket();
  const client = await openSocket();
  const relay = await startWorkerInProcess(clock);
  try {
    const pub = relay.publics[0];
    const oldCall = mintFor(oldTx.address, clock.wallNow());
    client.send(stunCheck(oldCall.ufrag, oldCall.pwd), pub);
    // The old call's transceiver answers: its reply confirms the flow.
    oldTx.send((await oldTx.next(2000)).msg, relay.internal);
    await client.next(2000);
    // While the old call's media flows, the other call's check goes where the flow goes.
    client.send(rtp(1), pub);
    assert.equal((await oldTx.next(2000)).msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 1);
    await clock.advanceAsync(REPLACE_DEAD_FLOW_AFTER_MS - 200);
    // Minted now: a token opens its first flow only within FIRST_FLOW_WINDOW_MS of its minting.
    const newCall = mintFor(newTx.address, clock.wallNow());
    const early = stunCheck(newCall.ufrag, newCall.pwd, 'cli2');
    client.send(early, pub);
    const stolen = await oldTx.next(2000);
    assert.deepEqual(stolen.msg.subarray(RELAY_HEADER_LENGTH), early, 'a live flow keeps its destination');
    await assert.rejects(newTx.next(300), 'nothing reaches the other transceiver');
    // The old call ends (nothing from the client); the address is reused by the new call.
    await clock.advanceAsync(400);
    const check = stunCheck(newCall.ufrag, newCall.pwd, 'cli2');
    client.send(check, pub);
    const got = await newTx.next(2000);
    assert.deepEqual(decodeRelayHeader(got.msg)?.client, client.address);
    assert.deepEqual(got.msg.subarray(RELAY_HEADER_LENGTH), check);
    client.send(rtp(2), pub);
    assert.equal((await newTx.next(2000)).msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 2, 'media follows the new flow');
    await assert.rejects(oldTx.next(300), 'nothing more reaches the old transceiver');
    assert.equal(relay.stat(Slot.flowsCreated), 2);
    assert.equal(relay.stat(Slot.flows), 1, 'replaced, not added');
  } finally {
    await relay.stop();
    await Promise.all([oldTx.close(), newTx.close(), client.close()]);
  }
});
