// Every drop reason over real sockets, each counted in /metrics (scraped over HTTP): forged
// token, one flipped character, and every other way a token fails to open (expired, unknown
// key, not yet valid, malformed, unknown version), wrong password, non-STUN first packet,
// garbage, oversize, a flood of first packets from one source, table full, disallowed source and
// destination, unknown flow and a missing header on the return path. Nothing reaches the
// transceiver. (miss_queue_full: native-datapath.test.ts; store_unavailable:
// relay-redis-outage.test.ts.)
// Each case sends from its own loopback IP (127.0.x.y) so per-IP rate limits do not mix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { seededRng } from '../../src/core/rng.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, Keyring, mint } from '../../src/core/token/index.ts';
import { mintFor, rtp, stunCheck, v4 } from './helpers.ts';
import type { RelayProcess, TestSocket } from './harness.ts';
import { drops, openSocket, scrape, startRelayProcess } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

test('each drop reason is counted in /metrics and nothing is forwarded', async (t) => {
  // The transceiver lives on 127.0.0.2; only 127.0.0.2/32 is a transceiver network.
  const tx = await openSocket('127.0.0.2');
  const sockets: TestSocket[] = [tx];
  const open = async (host: string): Promise<TestSocket> => {
    const s = await openSocket(host);
    sockets.push(s);
    return s;
  };
  const relay: RelayProcess = await startRelayProcess([
    '--workers',
    '1',
    '--transceiver-cidrs',
    '127.0.0.2/32',
    '--max-flows',
    '3',
    '--new-flow-rate',
    '5',
    '--new-flow-burst',
    '10',
  ]);
  const pub = relay.publics[0];
  const internal = relay.internals[0];
  const { ufrag, pwd } = mintFor(tx.address);

  async function expectDrop(reason: string, n: number, act: () => Promise<void> | void): Promise<void> {
    const before = drops(await scrape(relay.http), reason);
    await act();
    await waitFor(async () => drops(await scrape(relay.http), reason) - before >= n, 3000, `${n} × ${reason}`);
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(drops(await scrape(relay.http), reason) - before, n, reason);
  }

  try {
    await t.test('forged token', () =>
      expectDrop('token_bad_tag', 1, async () => (await open('127.0.1.1')).send(stunCheck('AQc' + 'A'.repeat(61), pwd), pub)),
    );
    await t.test('token with one flipped character', () =>
      expectDrop('token_bad_tag', 1, async () => {
        const i = 20;
        const flipped = ufrag.slice(0, i) + (ufrag[i] === 'x' ? 'y' : 'x') + ufrag.slice(i + 1);
        (await open('127.0.1.2')).send(stunCheck(flipped, pwd), pub);
      }),
    );
    await t.test('expired token', () =>
      expectDrop('token_expired', 1, async () => {
        const old = mintFor(tx.address, Date.now() - DEFAULT_TOKEN_LIFETIME_MS - 60_000);
        (await open('127.0.3.1')).send(stunCheck(old.ufrag, old.pwd), pub);
      }),
    );
    await t.test('token of a key this relay does not have (rotated away)', () =>
      expectDrop('token_unknown_key', 1, async () => {
        const other = mint(tx.address, Keyring.generate(seededRng('another deployment'), 99), Date.now(), seededRng('n'));
        (await open('127.0.3.2')).send(stunCheck(other.ufrag, other.pwd), pub);
      }),
    );
    await t.test('token issued in the future', () =>
      expectDrop('token_not_yet_valid', 1, async () => {
        const early = mintFor(tx.address, Date.now() + DEFAULT_CLOCK_SKEW_MS + 60_000);
        (await open('127.0.3.3')).send(stunCheck(early.ufrag, early.pwd), pub);
      }),
    );
    await t.test('malformed token', () =>
      expectDrop('token_malformed', 1, async () => (await open('127.0.3.4')).send(stunCheck('not*a*token', pwd), pub)),
    );
    await t.test('token of an unknown version', () =>
      expectDrop('token_unsupported_version', 1, async () => (await open('127.0.3.5')).send(stunCheck('BQc' + ufrag.slice(3), pwd), pub)),
    );
    await t.test('valid token, wrong password', () =>
      expectDrop('bad_integrity', 1, async () => (await open('127.0.1.3')).send(stunCheck(ufrag, 'A'.repeat(24)), pub)),
    );
    await t.test('non-STUN first packet (RTP from an unknown address, not in the store)', () =>
      expectDrop('not_stun', 1, async () => (await open('127.0.1.4')).send(rtp(1), pub)),
    );
    await t.test('a flood of junk media from one address costs one store lookup (negative cache)', async () => {
      const s = await open('127.0.1.9');
      const before = await scrape(relay.http);
      for (let i = 0; i < 300; i++) s.send(rtp(i), pub);
      await waitFor(async () => drops(await scrape(relay.http), 'not_stun') - drops(before, 'not_stun') >= 300, 3000, '300 drops');
      const m = await scrape(relay.http);
      const lookups = (m.get('parley_relay_store_lookups_total') ?? 0) - (before.get('parley_relay_store_lookups_total') ?? 0);
      assert.ok(lookups <= 2, `store lookups: ${lookups}`);
    });
    await t.test('garbage', () => expectDrop('not_stun', 1, async () => (await open('127.0.1.5')).send(Buffer.from('\x07garbage'), pub)));
    await t.test('oversize datagram', () =>
      expectDrop('too_large', 1, async () => (await open('127.0.1.6')).send(Buffer.alloc(1501, 0x80), pub)),
    );
    await t.test('flood of first packets from one source: the rate limit holds', async () => {
      const s = await open('127.0.1.7');
      const bad = stunCheck('AQc' + 'B'.repeat(61), pwd);
      const before = await scrape(relay.http);
      for (let i = 0; i < 500; i++) s.send(bad, pub);
      await waitFor(
        async () => {
          const m = await scrape(relay.http);
          return (
            drops(m, 'token_bad_tag') + drops(m, 'rate_limited') - drops(before, 'token_bad_tag') - drops(before, 'rate_limited') >= 500
          );
        },
        5000,
        '500 drops',
      );
      const m = await scrape(relay.http);
      const allowed = drops(m, 'token_bad_tag') - drops(before, 'token_bad_tag');
      // Burst 10 plus 5/s of refill while the flood lasts.
      assert.ok(allowed >= 10 && allowed <= 20, `token opens allowed: ${allowed}`);
      assert.ok(drops(m, 'rate_limited') - drops(before, 'rate_limited') >= 480);
    });
    await t.test('a token naming a destination outside the transceiver networks', () =>
      expectDrop('disallowed_destination', 1, async () => {
        const other = mintFor(v4('127.0.0.1', 9));
        (await open('127.0.1.8')).send(stunCheck(other.ufrag, other.pwd), pub);
      }),
    );
    await t.test('table full', async () => {
      // One call each: a token holds at most a few unconfirmed flows (token-flows.ts).
      for (let i = 0; i < 3; i++) {
        const call = mintFor(tx.address);
        (await open('127.0.2.1')).send(stunCheck(call.ufrag, call.pwd), pub);
      }
      await waitFor(async () => (await scrape(relay.http)).get('parley_relay_flows{worker="0"}') === 3, 3000, '3 flows');
      await expectDrop('table_full', 1, async () => (await open('127.0.2.1')).send(stunCheck(ufrag, pwd), pub));
      // The three admitted checks reached the transceiver: the only packets it ever gets.
      await waitFor(() => tx.received.length === 3, 2000, '3 checks at the transceiver');
    });
    await t.test('return traffic from outside the transceiver networks', () =>
      expectDrop('disallowed_source', 1, async () =>
        (await open('127.0.0.1')).send(Buffer.concat([encodeRelayHeader(v4('127.0.2.1', 1), pub), rtp(1)]), internal),
      ),
    );
    await t.test('return traffic to a client without a flow (no spraying arbitrary addresses)', () =>
      expectDrop('unknown_flow', 1, () => tx.send(Buffer.concat([encodeRelayHeader(v4('192.0.2.77', 5), pub), rtp(1)]), internal)),
    );
    await t.test('return traffic without a relay header', () => expectDrop('bad_header', 1, () => tx.send(rtp(1), internal)));
    const m = await scrape(relay.http);
    assert.equal(m.get('parley_relay_packets_total{direction="to_client"}'), 0);
    assert.equal(m.get('parley_relay_packets_total{direction="to_transceiver"}'), 3);
    assert.equal(tx.received.length, 3);
  } finally {
    await Promise.all(sockets.map((s) => s.close()));
    assert.equal(await relay.stop(), 0);
  }
});
