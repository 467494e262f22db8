// Issue #19 attack 4, the hijack on one transceiver: one forged check from a live victim's client
// address, signed with the attacker's OWN call's credentials, used to move the victim's address to
// the attacker's session (the endpoint routed DTLS and SRTP by client address to whichever call
// selected it last), so the victim's call stayed "connected" with no inbound audio. Now a client
// address that a live call has confirmed (it answered that call's request back, or finished its
// DTLS handshake there) stays with that call; one that a forged check claimed first is taken back
// by the rightful owner's next valid check (src/transceiver/media/endpoint.ts #claim).
// Real processes: `parley dev` (relay + transceiver); the victim and the attacker are our own
// ClientCall on real sockets; the forged check enters the transceiver as the relay would forward
// it (relay header naming the victim's address), which is what a relay does with a valid check
// from a spoofed source.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseAddress } from '../../src/core/address.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { randomBytes } from 'node:crypto';
import { connectivityCheck } from '../../src/core/ice/binding-request.ts';
import { encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { freeUdpPort } from '../../src/client/free-port.ts';
import { UdpCallDriver } from '../../src/client/udp-driver.ts';
import { startDev, metricSum } from '../e2e/helpers.ts';
import type { DevStack } from '../e2e/helpers.ts';
import { readAnswer } from './helpers/answer.ts';
import { UdpClient } from './helpers/udp-client.ts';
import { waitFor } from '../support/wait-for.ts';

let dev: DevStack;
let mediaPort: number;
const driver = new UdpCallDriver();
const clients: UdpClient[] = [];

before(async () => {
  mediaPort = await freeUdpPort();
  dev = await startDev(['--media', `127.0.0.1:${mediaPort}`]);
});
after(async () => {
  for (const c of clients) c.close(driver.now());
  await dev?.stop();
});

/** A valid check signed with `attacker`'s own call, as a relay forwards it from (forged) `from`. */
function forgedCheck(attacker: UdpClient, from: TransportAddress, useCandidate: boolean): Buffer {
  const theirs = readAnswer(attacker.answer);
  return Buffer.concat([
    encodeRelayHeader(from, parseAddress(dev.ready.relay)!),
    connectivityCheck({
      transactionId: randomBytes(12),
      localUfrag: /a=ice-ufrag:(\S+)/.exec(attacker.call.offer)![1],
      remoteUfrag: theirs.ufrag,
      remotePwd: theirs.pwd,
      priority: 0x6e0001ff,
      role: { controlling: true, tieBreaker: 1n },
      useCandidate,
    }),
  ]);
}

const frames = (tag: string, n: number): Buffer[] =>
  Array.from({ length: n }, (_, i) => Buffer.from(`${tag}${String(i).padStart(5, '0')}`));

test('a forged check from a live call’s address, signed with another call, does not take the address', { timeout: 60_000 }, async () => {
  const victim = await UdpClient.call(driver, dev.ready.signaling, { seed: 'hijack-victim', frames: frames('v', 1000) });
  const attacker = await UdpClient.call(driver, dev.ready.signaling, { seed: 'hijack-attacker', frames: frames('a', 1000) });
  clients.push(victim, attacker);
  await waitFor(
    () => victim.connected && attacker.connected && victim.heard().length >= 25,
    15_000,
    'both calls connected, victim hears echo',
  );

  // The attacker's own call's credentials (its answer and offer), the victim's address.
  const forged = (useCandidate: boolean): Buffer => forgedCheck(attacker, victim.binding.address, useCandidate);
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const send = (b: Buffer): Promise<void> => new Promise((r) => sock.send(b, mediaPort, '127.0.0.1', () => r()));

  const count = (): number => victim.heard().length;
  const window = async (ms: number): Promise<number> => {
    const from = count();
    await sleep(ms);
    return count() - from;
  };
  try {
    const before = await window(1_000);
    // The attack: the first check (provisional selection), then nominating ones, as a browser would.
    const during = await Promise.all([
      window(1_000),
      (async () => {
        await send(forged(false));
        for (let i = 0; i < 4; i++) {
          await sleep(100);
          await send(forged(true));
        }
      })(),
    ]).then(([n]) => n);
    const afterwards = await window(1_000);
    const refused = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_drops_total', 'address_of_other_call');
    console.log(
      `victim echoes heard per second: before ${before}, during ${during}, after ${afterwards}; attacker datagrams toward the victim refused: ${refused}`,
    );
    // 50 frames a second go out; allow for a loaded machine, but not for a call that went silent.
    assert.ok(before >= 35, `victim before the attack heard ${before}`);
    assert.ok(during >= before * 0.8, `victim heard ${during} during the attack (before: ${before})`);
    assert.ok(afterwards >= before * 0.8, `victim heard ${afterwards} after the attack (before: ${before})`);
    assert.ok(refused >= 1, 'the attacker’s call sent nothing toward the victim’s address');
    assert.ok(attacker.connected, 'the attacker’s own call is not harmed either');
  } finally {
    sock.close();
  }
});

test('an address a forged check claimed first is taken back by its rightful owner’s next valid check', { timeout: 60_000 }, async () => {
  const attacker = await UdpClient.call(driver, dev.ready.signaling, { seed: 'reclaim-attacker', frames: frames('a', 1000) });
  clients.push(attacker);
  await waitFor(() => attacker.connected, 15_000, 'the attacker’s own call connected');
  const sock = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const reclaimedBefore = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_address_claims_total', 'reclaimed');
  try {
    // The victim has its answer but has not checked yet: the attacker's call, nominating from the
    // victim's address (forged), claims that address first.
    const victim = await UdpClient.call(driver, dev.ready.signaling, {
      seed: 'reclaim-victim',
      frames: frames('v', 1000),
      beforeStart: async (binding) => {
        const claim = forgedCheck(attacker, binding.address, true);
        await new Promise<void>((r) => sock.send(claim, mediaPort, '127.0.0.1', () => r()));
        await sleep(200);
      },
    });
    clients.push(victim);
    const t0 = performance.now();
    await waitFor(() => victim.connected && victim.heard().length >= 25, 15_000, 'the victim connected and hears its echo');
    const reclaimed = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_address_claims_total', 'reclaimed');
    console.log(
      `victim connected and heard 25 echoes ${Math.round(performance.now() - t0)} ms after starting on an address the attacker had claimed; reclaims: ${reclaimed - reclaimedBefore}`,
    );
    assert.ok(reclaimed - reclaimedBefore >= 1, 'the victim’s check took the address back');
  } finally {
    sock.close();
  }
});
