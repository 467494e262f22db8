// Issue #19 at the relay: the token of an ended call used to open flows for 24 h. The transceiver
// now revokes it when the call ends (src/transceiver/relays/token-revocations.ts, the publisher it
// uses); here two relay processes share Redis: the relay holding the call's flow drops it, and
// neither — nor a relay started after the revocation — opens a new flow for the token, while
// another call is unaffected. Without Redis (one relay, `parley dev`) the transceiver POSTs the
// revocation to the relay's ops listener (src/contracts/revocation-request.ts) and the in-memory
// store tells every worker. Real processes on 127.0.0.1, real Redis with a unique prefix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELAY_HEADER_LENGTH, decodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { tokenKey } from '../../src/contracts/flow-record.ts';
import { TokenRevocations } from '../../src/transceiver/relays/token-revocations.ts';
import { REVOCATION_HEADER, REVOCATIONS_PATH, RevocationAuth, postRevocation } from '../../src/contracts/revocation-request.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { KEYS_TEXT, mintFor, rtp, stunCheck } from './helpers.ts';
import type { RelayProcess, TestSocket } from './harness.ts';
import {
  REDIS_URL,
  answerChecks,
  countRedisKeys,
  deleteRedisKeys,
  drops,
  openSocket,
  requireRedis,
  scrape,
  socketPool,
  startRelayProcess,
  uniquePrefix,
  withRelayState,
} from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const isMedia = (m: Buffer): boolean => m[RELAY_HEADER_LENGTH] === 0x80;

test("an ended call's token opens no new flow on any relay and loses its flows (two relays sharing Redis)", async (t) => {
  if (!(await requireRedis(t))) return;
  const prefix = uniquePrefix('revoke');
  const args = ['--workers', '1', '--redis', REDIS_URL, '--redis-prefix', prefix];
  const tx = await openSocket();
  answerChecks(tx);
  const sockets = socketPool();
  const open = (): Promise<TestSocket> => sockets.open();
  const relays: RelayProcess[] = [];
  const revocations = await TokenRevocations.start({ url: REDIS_URL, prefix });
  try {
    relays.push(await startRelayProcess(args), await startRelayProcess(args));
    const [a, b] = relays;
    const ended = mintFor(tx.address);
    const client = await open();
    client.send(stunCheck(ended.ufrag, ended.pwd), a.publics[0]);
    await tx.next(2000);
    client.send(rtp(1), a.publics[0]);
    await tx.next(2000, isMedia);
    // The flow and token records reach Redis (the relay writes them behind) before the call ends.
    await waitFor(
      async () => (await countRedisKeys(prefix, REDIS_URL, `${tokenKey(ended.ufrag)}`)) === 1,
      3000,
      'the token record in Redis',
    );

    revocations.revoke(ended.ufrag);
    await waitFor(
      async () => (await scrape(a.http)).get('parley_relay_flows_removed_total{reason="revoked"}') === 1,
      3000,
      'flow dropped',
    ).catch((e: unknown) => withRelayState(a, e));
    // Its media is not forwarded any more (the stored record does not bring the flow back).
    client.send(rtp(2), a.publics[0]);
    await assert.rejects(tx.next(500, isMedia), 'media of the ended call goes nowhere');
    // New addresses, on either relay: refused and counted.
    (await open()).send(stunCheck(ended.ufrag, ended.pwd), a.publics[0]);
    (await open()).send(stunCheck(ended.ufrag, ended.pwd), b.publics[0]);
    await waitFor(async () => drops(await scrape(a.http), 'token_revoked') >= 1, 3000, 'refused on the first relay');
    await waitFor(async () => drops(await scrape(b.http), 'token_revoked') >= 1, 3000, 'refused on the second relay');
    // A relay started after the revocation learns it from the store.
    relays.push(await startRelayProcess(args));
    const late = relays[2];
    await waitFor(
      async () => {
        (await open()).send(stunCheck(ended.ufrag, ended.pwd), late.publics[0]);
        return drops(await scrape(late.http), 'token_revoked') >= 1;
      },
      3000,
      'refused on a relay started later',
    );
    assert.equal(tx.received.filter((r) => !isMedia(r.msg)).length, 0, 'no check of the ended call reached the transceiver');
    // Another call is unaffected.
    const live = mintFor(tx.address);
    const other = await open();
    other.send(stunCheck(live.ufrag, live.pwd), b.publics[0]);
    await tx.next(2000, (m) => decodeRelayHeader(m)?.client.port === other.address.port);
    for (const r of relays) assert.equal((await scrape(r.http)).get('parley_relay_store_errors_total'), 0);
  } finally {
    await revocations.close();
    await sockets.closeAll();
    await tx.close();
    for (const r of relays) assert.equal(await r.stop(), 0);
    await deleteRedisKeys(prefix);
  }
});

test("without Redis (the in-memory store, parley dev): a revocation POSTed to the relay's ops listener drops the token's flows; a forged one is refused", async () => {
  const tx = await openSocket();
  answerChecks(tx);
  const sockets = socketPool();
  const relay = await startRelayProcess(['--workers', '2']);
  const base = `http://${relay.http.address}:${relay.http.port}`;
  const auth = new RevocationAuth(Keyring.parse(KEYS_TEXT));
  try {
    const ended = mintFor(tx.address);
    const live = mintFor(tx.address);
    const client = await sockets.open();
    client.send(stunCheck(ended.ufrag, ended.pwd), relay.publics[0]);
    await tx.next(2000);
    const other = await sockets.open();
    other.send(stunCheck(live.ufrag, live.pwd), relay.publics[0]);
    await tx.next(2000, (m) => decodeRelayHeader(m)?.client.port === other.address.port);
    // Signed with another keyring, or for another token: refused, nothing revoked.
    const stranger = new RevocationAuth(Keyring.generate(seededRng('not-our-keys')));
    assert.equal(await postRevocation(base, stranger, live.ufrag), 403);
    const forged = await fetch(`${base}${REVOCATIONS_PATH}`, {
      method: 'POST',
      body: live.ufrag,
      headers: { [REVOCATION_HEADER]: auth.sign(ended.ufrag) },
    });
    assert.equal(forged.status, 403);
    assert.equal(await postRevocation(base, auth, ended.ufrag), 204);
    await waitFor(
      async () => (await scrape(relay.http)).get('parley_relay_flows_removed_total{reason="revoked"}') === 1,
      3000,
      'the ended call’s flow dropped',
    ).catch((e: unknown) => withRelayState(relay, e));
    // New addresses with the ended token are refused on every worker; the live call still opens flows.
    for (let i = 0; i < 4; i++) (await sockets.open()).send(stunCheck(ended.ufrag, ended.pwd), relay.publics[0]);
    await waitFor(async () => drops(await scrape(relay.http), 'token_revoked') >= 1, 3000, 'refused');
    const again = await sockets.open();
    again.send(stunCheck(live.ufrag, live.pwd), relay.publics[0]);
    await tx.next(2000, (m) => decodeRelayHeader(m)?.client.port === again.address.port);
    const m = await scrape(relay.http);
    console.log(
      `in-memory store: revoked flows removed ${m.get('parley_relay_flows_removed_total{reason="revoked"}')}, checks refused ${drops(m, 'token_revoked')}`,
    );
  } finally {
    await sockets.closeAll();
    await tx.close();
    assert.equal(await relay.stop(), 0);
  }
});
