// Issue #19 at the relay, against a real `parley relay` process on 127.0.0.1 (the native suite
// reruns this file with --datapath native):
// - attack 1: one token (one POST to signaling) signed into checks from 1 000 real source
//   addresses — 40 loopback IPs × 25 ports, under the per-IP rate limit — used to fill the table
//   (one flow per source: 1 000 here, the whole table in ~15 s on the machine). It now
//   holds at most DEFAULT_TOKEN_LIMITS.flowsPerToken confirmed + unconfirmedPerToken unconfirmed
//   flows, whether the transceiver answers every check or none (forged sources never answer);
// - attack 5: a quiet (receive-only, on-hold) victim flow is not taken over by a valid check for
//   another call from its address after seconds of silence; only a dead one (consent timeout) is.
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import { RELAY_HEADER_LENGTH, decodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { DEFAULT_TOKEN_LIMITS } from '../../src/relay/token-flows.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import type { RelayProcess, TestSocket } from './harness.ts';
import { answerChecks, openSocket, scrape, startRelayProcess, withRelayState } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { Slot } from '../../src/relay/stats.ts';
import { startWorkerInProcess } from './worker-in-process.ts';

const IPS = 40;
const PORTS_PER_IP = 25;
const CAP = DEFAULT_TOKEN_LIMITS.flowsPerToken + DEFAULT_TOKEN_LIMITS.unconfirmedPerToken;

/** Sends `check` from IPS × PORTS_PER_IP source addresses (25 sockets open at a time). */
async function fromManySources(check: Buffer, relay: RelayProcess): Promise<void> {
  for (let ip = 1; ip <= IPS; ip++) {
    const socks: TestSocket[] = [];
    try {
      for (let p = 0; p < PORTS_PER_IP; p++) socks.push(await openSocket(`127.0.19.${ip}`));
      for (const s of socks) s.send(check, relay.publics[0]);
      // Let the relay read them before the sockets go (a reply to a closed port is harmless).
      await new Promise((r) => setTimeout(r, 5));
    } finally {
      await Promise.all(socks.map((s) => s.close()));
    }
  }
}

async function flowsHeldByOneToken(t: TestContext, answer: boolean): Promise<void> {
  const tx = await openSocket();
  if (answer) answerChecks(tx);
  const relay = await startRelayProcess(['--workers', '1']);
  try {
    const { ufrag, pwd } = mintFor(tx.address);
    await fromManySources(stunCheck(ufrag, pwd), relay);
    const sent = IPS * PORTS_PER_IP;
    await waitFor(
      async () => (await scrape(relay.http)).get('parley_relay_flows_created_total') === sent,
      10_000,
      'every check seen',
    ).catch((e: unknown) => withRelayState(relay, e));
    // The worker's next tick applies the cap to flows confirmed since the last one: every flow is
    // then either held or counted as removed.
    const removedOf = (m: Map<string, number>): number =>
      [...m].filter(([k]) => k.startsWith('parley_relay_flows_removed_total')).reduce((s, [, v]) => s + v, 0);
    let m = new Map<string, number>();
    await waitFor(
      async () => {
        m = await scrape(relay.http);
        return (
          (m.get('parley_relay_flows{worker="0"}') ?? 0) + removedOf(m) === sent && (m.get('parley_relay_flows{worker="0"}') ?? 0) <= CAP
        );
      },
      5000,
      'the cap applied',
    ).catch((e: unknown) => withRelayState(relay, e));
    const held = m.get('parley_relay_flows{worker="0"}') ?? NaN;
    t.diagnostic(`checks from ${sent} sources with one token (transceiver ${answer ? 'answers' : 'silent'}): ${held} flows held`);
    assert.ok(held >= 1 && held <= (answer ? CAP : DEFAULT_TOKEN_LIMITS.unconfirmedPerToken), `flows held: ${held}`);
    // Which limit removed them depends on how fast the answers come back (under load a flow may be
    // pushed out of the unconfirmed pool before its answer arrives); unanswered flows never count
    // against the confirmed cap.
    if (!answer) assert.equal(m.get('parley_relay_flows_removed_total{reason="token_cap"}'), 0);
    assert.equal(removedOf(m), sent - held, 'every flow beyond the cap is counted by reason');
    // A second call keeps getting its flow: the table is not full.
    const other = mintFor(tx.address);
    const c = await openSocket();
    try {
      c.send(stunCheck(other.ufrag, other.pwd), relay.publics[0]);
      await tx.next(2000, (msg) => decodeRelayHeader(msg)?.client.port === c.address.port);
    } finally {
      await c.close();
    }
  } finally {
    await tx.close();
    assert.equal(await relay.stop(), 0);
  }
}

test('one token from 1 000 real source addresses holds at most the per-token cap (transceiver answers every check)', (t) =>
  flowsHeldByOneToken(t, true));

test('one token from 1 000 source addresses the transceiver never answers (forged) holds at most the unconfirmed pool per token', (t) =>
  flowsHeldByOneToken(t, false));

/** A UDP socket on exactly `port` of 127.0.0.1 that another socket may share (SO_REUSEADDR): a forged source. */
async function bindShared(port: number): Promise<dgram.Socket> {
  const s = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  await new Promise<void>((r) => s.bind(port, '127.0.0.1', () => r()));
  return s;
}

// The worker runs in process on a ManualClock: 20 s of silence pass without the test sleeping.
test("a quiet victim flow stays the victim's under a takeover attempt with another call's valid check", async (t) => {
  const clock = new ManualClock(0, Date.now());
  const victimTx = await openSocket();
  const attackerTx = await openSocket();
  answerChecks(victimTx);
  answerChecks(attackerTx);
  const relay = await startWorkerInProcess(clock);
  const victimSock = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const got: Buffer[] = [];
  victimSock.on('message', (m) => got.push(m));
  let forger: dgram.Socket | undefined;
  try {
    await new Promise<void>((r) => victimSock.bind(0, '127.0.0.1', () => r()));
    const victimPort = victimSock.address().port;
    const pub = relay.publics[0];
    const victimCall = mintFor(victimTx.address, clock.wallNow());
    victimSock.send(stunCheck(victimCall.ufrag, victimCall.pwd), pub.port, pub.address);
    await victimTx.next(2000);
    // Its transceiver's answer reaches it: the flow is confirmed (an unconfirmed one would expire
    // in the 20 s below, and the attacker's check would then open a new flow, not take this one).
    await waitFor(() => got.length > 0, 2000, "the victim hears its transceiver's answer");
    // Receive-only / on hold: the victim sends nothing for far longer than the old 3 s rule
    // allowed, and less than the consent timeout after which a flow counts as dead.
    await clock.advanceAsync(20_000);
    const attackerCall = mintFor(attackerTx.address, clock.wallNow());
    forger = await bindShared(victimPort);
    for (let i = 0; i < 3; i++) forger.send(stunCheck(attackerCall.ufrag, attackerCall.pwd, 'evil'), pub.port, pub.address);
    await assert.rejects(attackerTx.next(1000), "nothing from the victim's address reaches the attacker's transceiver");
    // Linux delivers to the last socket bound to a shared port: the forger goes, the victim hears again.
    await new Promise<void>((r) => forger?.close(() => r()));
    forger = undefined;
    // The victim's media still goes to its own transceiver, and its transceiver still reaches it.
    victimSock.send(rtp(7), pub.port, pub.address);
    const media = await victimTx.next(2000, (m) => m[RELAY_HEADER_LENGTH] === 0x80);
    assert.equal(media.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), 7);
    victimTx.send(Buffer.concat([media.msg.subarray(0, RELAY_HEADER_LENGTH), rtp(8)]), {
      address: media.from.address,
      port: media.from.port,
      family: 'IPv4',
    });
    await waitFor(() => got.some((m) => m[0] === 0x80 && m.readUInt32BE(12) === 8), 2000, 'the victim hears its transceiver');
    assert.equal(relay.stat(Slot.takeoversRefused), 3);
    t.diagnostic(`takeover checks refused: ${relay.stat(Slot.takeoversRefused)}; the victim's flow kept its transceiver`);
  } finally {
    await new Promise<void>((r) => victimSock.close(() => r()));
    if (forger) await new Promise<void>((r) => forger?.close(() => r()));
    await Promise.all([victimTx.close(), attackerTx.close()]);
    await relay.stop();
  }
});
