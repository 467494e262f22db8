// A token opens its first flow only within FIRST_FLOW_WINDOW_MS of its minting; later it opens
// flows only where some relay holds one of it — this worker (NAT rebinding while the old address
// lingers) or, through the flow store, another worker or relay (rebinding after the old flow
// expired here, a handover) — and a revoked token opens none and loses its flows (the in-memory
// store of `parley dev` carries the revocation to the worker). The worker in process on a
// ManualClock (minutes pass without sleeping); the native suite reruns it with --datapath native.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { FIRST_FLOW_WINDOW_MS } from '../../src/relay/route.ts';
import { Slot, dropSlot, removalSlot } from '../../src/relay/stats.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import type { TestSocket } from './harness.ts';
import { answerChecks, openSocket, socketPool } from './harness.ts';
import { startWorkerInProcess } from './worker-in-process.ts';
import { waitFor } from '../support/wait-for.ts';

const IDLE_MS = 60_000;

test('first-flow window: a late token opens a flow only where a flow of it is known; a revoked token opens none', async () => {
  const clock = new ManualClock(0, Date.now());
  const tx = await openSocket();
  answerChecks(tx);
  const sockets = socketPool();
  const client = (): Promise<TestSocket> => sockets.open();
  const relay = await startWorkerInProcess(clock, { idleMs: IDLE_MS });
  const pub = relay.publics[0];
  /** Sends a check and waits until the worker has decided (created, or the drop counted). */
  const check = async (from: TestSocket, call: { ufrag: string; pwd: string }, outcome: number): Promise<void> => {
    const before = relay.stat(outcome);
    from.send(stunCheck(call.ufrag, call.pwd), pub);
    await waitFor(() => relay.stat(outcome) === before + 1, 2000, `slot ${outcome}`);
    await clock.advanceAsync(10); // the store write's delay
  };
  try {
    // Never used within its window: refused later (the store knows no flow of it).
    const hoarded = mintFor(tx.address, clock.wallNow());
    await clock.advanceAsync(FIRST_FLOW_WINDOW_MS + 2000);
    await check(await client(), hoarded, dropSlot.token_window_closed);
    assert.equal(relay.stat(Slot.tokenLookups), 1, 'the store was asked');

    // A live call rebinds after its window: this worker holds its flow.
    const rebinding = mintFor(tx.address, clock.wallNow());
    const old = await client();
    await check(old, rebinding, Slot.flowsCreated);
    for (let i = 0; i < 13; i++) {
      await clock.advanceAsync(5000);
      old.send(rtp(i), pub);
    }
    await check(await client(), rebinding, Slot.flowsCreated);
    assert.equal(relay.stat(Slot.tokenLookups), 1, 'no store lookup needed');

    // Rebinding after the old flow expired here: the store still knows a flow of the token.
    const quiet = mintFor(tx.address, clock.wallNow());
    await check(await client(), quiet, Slot.flowsCreated);
    const expired = relay.stat(Slot.flowsExpired);
    await clock.advanceAsync(IDLE_MS + 2000);
    assert.ok(relay.stat(Slot.flowsExpired) > expired, 'the old flow expired from the table');
    await check(await client(), quiet, Slot.flowsCreated);
    assert.equal(relay.stat(Slot.tokenLookups), 2);

    // That call ends: its flow goes, and it opens no new one, not even where the store knows it.
    const flows = relay.stat(Slot.flows);
    relay.store.revoke(quiet.ufrag, clock.wallNow() + 3_600_000);
    await waitFor(() => relay.stat(removalSlot.revoked) === 1, 2000, 'the flow of the revoked token removed');
    assert.equal(relay.stat(Slot.flows), flows - 1);
    await check(await client(), quiet, dropSlot.token_revoked);
  } finally {
    await relay.stop();
    await Promise.all([sockets.closeAll(), tx.close()]);
  }
});
