// Issue #18: the native datapath's loop makes the flow of a first check itself in the common case
// (native/src/relay_native.c nfc_decide; docs/relay.md, "First checks in the loop") and defers
// everything else to JavaScript, which decides as before. Real `parley relay --datapath native`
// processes on 127.0.0.1; each case sends from source IPs of its own (the rate limit is per IP).
// Checked: a first check is made in the loop (the counter), its header is byte for byte the one
// route.ts would build, and the call works both ways; a forged tag, a wrong MESSAGE-INTEGRITY, a
// destination outside the networks, a token past its first-flow window and malformed STUN are
// refused by JavaScript with their reasons; a token's second source goes to JavaScript and the
// per-token limits count the loop's flow; one source's checks made in the loop and by JavaScript
// share one rate budget; the loop's flow reaches Redis and a restarted relay forwards it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RELAY_HEADER_LENGTH, encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { loadNativeAddon } from '../../src/relay/datapath-native.ts';
import { DEFAULT_TOKEN_LIMITS } from '../../src/relay/token-flows.ts';
import { mintFor, rtp, stunCheck, v4 } from './helpers.ts';
import type { RelayProcess } from './harness.ts';
import {
  REDIS_URL,
  answerChecks,
  countFlowRecords,
  deleteRedisKeys,
  drops,
  freePort,
  openSocket,
  requireRedis,
  scrape,
  socketPool,
  startRelayProcess,
  uniquePrefix,
  withRelayState,
} from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const skip = loadNativeAddon() instanceof Error && process.env.CI !== 'true' ? 'the native relay addon is not built' : false;
const BURST = 5;
const IN_LOOP = 'parley_relay_first_checks_in_loop_total';
const CREATED = 'parley_relay_flows_created_total';
const isStun = (m: Buffer): boolean => m.length > RELAY_HEADER_LENGTH && m[RELAY_HEADER_LENGTH] <= 3;

test(
  'first checks in the native loop: made there in the common case, everything else decided by JavaScript',
  { skip, timeout: 60_000 },
  async () => {
    const tx = await openSocket();
    answerChecks(tx);
    const silent = await openSocket();
    const sockets = socketPool();
    let relay: RelayProcess | undefined;
    try {
      relay = await startRelayProcess([
        ...['--workers', '1', '--datapath', 'native', '--transceiver-cidrs', '127.0.0.1/32'],
        ...['--new-flow-burst', String(BURST), '--new-flow-rate', '1'],
      ]);
      const pub = relay.publics[0];
      const r = relay;
      const metrics = (): Promise<Map<string, number>> => scrape(r.http);
      const settled = async (what: string, pred: (m: Map<string, number>) => boolean): Promise<Map<string, number>> => {
        let m = new Map<string, number>();
        await waitFor(async () => pred((m = await metrics())), 5000, what).catch((e: unknown) => withRelayState(r, e));
        return m;
      };

      // A normal first check: made in the loop, the header route.ts would build, the call works.
      const client = await sockets.open('127.0.30.1');
      const call = mintFor(tx.address);
      client.send(stunCheck(call.ufrag, call.pwd), pub);
      const atTx = await tx.next(2000, isStun);
      assert.deepEqual(atTx.msg.subarray(0, RELAY_HEADER_LENGTH), encodeRelayHeader(client.address, pub));
      await client.next(2000); // the transceiver's answer, back through the relay
      client.send(rtp(7), pub);
      const media = await tx.next(2000, (m) => m[RELAY_HEADER_LENGTH] === 0x80);
      assert.equal(media.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 7);
      let m = await settled('the first check counted', (x) => x.get(IN_LOOP) === 1 && x.get(CREATED) === 1);

      // Refusals: deferred by the loop, refused by JavaScript with their own reasons.
      const refused: [string, Buffer][] = [
        ['token_bad_tag', stunCheck(`${call.ufrag.slice(0, -2)}${call.ufrag.endsWith('AA') ? 'BB' : 'AA'}`, call.pwd)],
        ['bad_integrity', stunCheck(mintFor(tx.address).ufrag, 'not-the-password-of-it!!')],
        ['disallowed_destination', ((t) => stunCheck(t.ufrag, t.pwd))(mintFor(v4('127.0.0.9', tx.address.port)))],
        ['token_window_closed', ((t) => stunCheck(t.ufrag, t.pwd))(mintFor(tx.address, Date.now() - 120_000))],
      ];
      for (const [i, [reason, check]] of refused.entries()) {
        const before = drops(m, reason);
        (await sockets.open(`127.0.31.${i + 1}`)).send(check, pub);
        m = await settled(`refused as ${reason}`, (x) => drops(x, reason) === before + 1);
      }
      const malformed = stunCheck(mintFor(tx.address).ufrag, 'x');
      malformed.writeUInt16BE(malformed.readUInt16BE(2) + 4, 2); // the length no longer tiles the attributes
      const notStun = drops(m, 'not_stun');
      (await sockets.open('127.0.31.9')).send(malformed, pub);
      m = await settled('malformed STUN dropped', (x) => drops(x, 'not_stun') === notStun + 1);
      assert.equal(m.get(IN_LOOP), 1, 'no refused check made a flow in the loop');
      assert.equal(m.get(CREATED), 1);

      // One token from six sources, the transceiver silent: the loop makes only the first flow; the
      // per-token limits (JavaScript's) count it and keep unconfirmedPerToken flows of the token.
      const spread = mintFor(silent.address);
      const SOURCES = 6;
      const removedBefore = m.get('parley_relay_flows_removed_total{reason="unconfirmed_per_token"}') ?? 0;
      for (let i = 0; i < SOURCES; i++) {
        (await sockets.open(`127.0.32.${i + 1}`)).send(stunCheck(spread.ufrag, spread.pwd), pub);
        await silent.next(2000, isStun);
      }
      m = await settled('every source seen', (x) => x.get(CREATED) === 1 + SOURCES);
      assert.equal(m.get(IN_LOOP), 2, "the token's first flow only");
      assert.equal(
        (m.get('parley_relay_flows_removed_total{reason="unconfirmed_per_token"}') ?? 0) - removedBefore,
        SOURCES - DEFAULT_TOKEN_LIMITS.unconfirmedPerToken,
        "the loop's flow is one of the token's flows",
      );

      // One source IP, 3 × BURST checks from its ports: new tokens (the loop may make them) and a
      // token it already holds (JavaScript makes those): both share one budget of BURST (+ the rate
      // of 1/s over the second or so this takes).
      const held = mintFor(tx.address);
      (await sockets.open('127.0.33.2')).send(stunCheck(held.ufrag, held.pwd), pub);
      m = await settled('the held token', (x) => x.get(CREATED) === 2 + SOURCES);
      const [createdBefore, limitedBefore, loopBefore] = [m.get(CREATED) ?? 0, drops(m, 'rate_limited'), m.get(IN_LOOP) ?? 0];
      const started = Date.now();
      for (let i = 0; i < 3 * BURST; i++) {
        const t = i % 2 === 0 ? mintFor(tx.address) : held;
        (await sockets.open('127.0.33.1')).send(stunCheck(t.ufrag, t.pwd), pub);
      }
      m = await settled(
        'every check decided',
        (x) => (x.get(CREATED) ?? 0) - createdBefore + drops(x, 'rate_limited') - limitedBefore === 3 * BURST,
      );
      const admitted = (m.get(CREATED) ?? 0) - createdBefore;
      const budget = BURST + Math.ceil((Date.now() - started) / 1000);
      assert.ok(admitted <= budget, `one source admitted ${admitted} > its budget ${budget}`);
      assert.ok((m.get(IN_LOOP) ?? 0) > loopBefore, 'the loop made some of them');
    } finally {
      await relay?.stop();
      await sockets.closeAll();
      await tx.close();
      await silent.close();
    }
  },
);

test('a flow made in the loop is written to Redis and a restarted relay forwards it', { skip, timeout: 60_000 }, async (t) => {
  if (!(await requireRedis(t))) return;
  const prefix = uniquePrefix('loopcheck');
  const port = await freePort('udp');
  const args = ['--workers', '1', '--datapath', 'native', '--listen', `127.0.0.1:${port}`, '--redis', REDIS_URL, '--redis-prefix', prefix];
  const tx = await openSocket();
  answerChecks(tx);
  const client = await openSocket();
  let a: RelayProcess | undefined;
  let b: RelayProcess | undefined;
  try {
    a = await startRelayProcess(args);
    const pub = a.publics[0];
    const call = mintFor(tx.address);
    client.send(stunCheck(call.ufrag, call.pwd), pub);
    await tx.next(2000, isStun);
    assert.equal((await scrape(a.http)).get(IN_LOOP), 1);
    await waitFor(async () => (await countFlowRecords(prefix)) === 1, 3000, 'the flow written to Redis');
    await a.kill();
    b = await startRelayProcess(args);
    client.send(rtp(9), pub);
    const media = await tx.next(2000, (msg) => msg[RELAY_HEADER_LENGTH] === 0x80).catch((e: unknown) => withRelayState(b, e));
    assert.equal(media.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 9);
    assert.equal((await scrape(b.http)).get('parley_relay_flows_recovered_total'), 1);
  } finally {
    await a?.kill();
    await b?.stop();
    await client.close();
    await tx.close();
    await deleteRedisKeys(prefix);
  }
});
