// Issue #19 in `parley dev` (one relay with its in-memory flow store, no Redis): when a call ends,
// the transceiver revokes its token at the relay's ops listener (--revoke-urls, which dev sets),
// so a check signed with the ended call's token, from a new address, opens no flow. Real
// processes: `parley dev`, our ClientCall on a real socket, a second socket for the late check.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { parseAddress } from '../../src/core/address.ts';
import { UdpCallDriver } from '../../src/client/udp-driver.ts';
import { startDev, metricSum } from './helpers.ts';
import type { DevStack } from './helpers.ts';
import { stunCheck } from '../relay/helpers.ts';
import { readAnswer } from '../transceiver/helpers/answer.ts';
import { UdpClient } from '../transceiver/helpers/udp-client.ts';
import { waitFor } from '../support/wait-for.ts';

let dev: DevStack;
const driver = new UdpCallDriver();
before(async () => {
  dev = await startDev();
});
after(async () => {
  driver.close();
  await dev?.stop();
});

test(
  'parley dev: the token of a call that ended opens no new relay flow (revoked through the in-memory store)',
  { timeout: 60_000 },
  async () => {
    const caller = await UdpClient.call(driver, dev.ready.signaling, { seed: 'dev-revocation' });
    await waitFor(() => caller.connected, 15_000, 'connected through the relay');
    const token = readAnswer(caller.answer);
    const del = await fetch(new URL(caller.location, dev.ready.signaling), { method: 'DELETE' });
    assert.equal(del.status, 200);
    await del.text();
    caller.close(driver.now());
    const relay = parseAddress(dev.ready.relay)!;
    const late = createSocket('udp4');
    await new Promise<void>((r) => late.bind(0, '127.0.0.1', r));
    try {
      await waitFor(
        async () => {
          late.send(stunCheck(token.ufrag, token.pwd), relay.port, relay.address);
          return (await metricSum(dev.ready.relayMetrics, 'parley_relay_drops_total', 'token_revoked')) >= 1;
        },
        5_000,
        'the relay refuses the ended call’s token',
      );
      const removed = await metricSum(dev.ready.relayMetrics, 'parley_relay_flows_removed_total', 'revoked');
      console.log(`parley dev: the ended call's flows removed ${removed}, checks with its token refused (token_revoked)`);
      assert.ok(removed >= 1, 'the ended call’s own flow was removed');
    } finally {
      late.close();
    }
  },
);
