// A client address reused by another call while the relay still holds the old call's flow (a
// NAT or CGNAT handing the public port to someone else, a client restarted on the same port,
// a load generator's ephemeral ports): the new call's valid check takes the address once the
// old flow has been silent for REPLACE_SILENT_FLOW_AFTER_MS, instead of being forwarded to the
// old call's transceiver until the flow expires (which its own retries would keep postponing).
// A live flow is never taken. Over real sockets; the native suite reruns it with --datapath native.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRelayHeader, RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { REPLACE_SILENT_FLOW_AFTER_MS } from '../../src/relay/route.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import { openSocket, scrape, startRelayProcess, withRelayState } from './harness.ts';

test('a silent flow is taken over by another call\'s valid check from the same address; a live one is not', async () => {
  const oldTx = await openSocket();
  const newTx = await openSocket();
  const client = await openSocket();
  const relay = await startRelayProcess(['--workers', '1']);
  try {
    const pub = relay.publics[0];
    const oldCall = mintFor(oldTx.address);
    const newCall = mintFor(newTx.address);
    client.send(stunCheck(oldCall.ufrag, oldCall.pwd), pub);
    await oldTx.next(2000);
    // While the old call's media flows, the other call's check goes where the flow goes.
    client.send(rtp(1), pub);
    assert.equal((await oldTx.next(2000)).msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 1);
    const early = stunCheck(newCall.ufrag, newCall.pwd, 'cli2');
    client.send(early, pub);
    const stolen = await oldTx.next(2000);
    assert.deepEqual(stolen.msg.subarray(RELAY_HEADER_LENGTH), early, 'a live flow keeps its destination');
    await assert.rejects(newTx.next(300), 'nothing reaches the other transceiver');
    // The old call ends (nothing from the client); the address is reused by the new call.
    await new Promise((r) => setTimeout(r, REPLACE_SILENT_FLOW_AFTER_MS + 1200));
    const check = stunCheck(newCall.ufrag, newCall.pwd, 'cli2');
    client.send(check, pub);
    const got = await newTx.next(2000);
    assert.deepEqual(decodeRelayHeader(got.msg)?.client, client.address);
    assert.deepEqual(got.msg.subarray(RELAY_HEADER_LENGTH), check);
    client.send(rtp(2), pub);
    assert.equal((await newTx.next(2000)).msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 2, 'media follows the new flow');
    await assert.rejects(oldTx.next(300), 'nothing more reaches the old transceiver');
    const m = await scrape(relay.http);
    assert.equal(m.get('parley_relay_flows_created_total'), 2);
    assert.equal(m.get('parley_relay_flows{worker="0"}'), 1, 'replaced, not added');
  } catch (err) {
    await withRelayState(relay, err);
  } finally {
    await relay.stop();
    await Promise.all([oldTx.close(), newTx.close(), client.close()]);
  }
});
