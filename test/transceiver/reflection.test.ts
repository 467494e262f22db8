// Issue #19 attack 3, reflection and amplification: a valid check from a forged source address
// (the attacker's own call's credentials, the victim's address) used to make the transceiver run
// DTLS toward the victim — 160 B in, 644 B at the victim as DTLS client; spoofed ClientHellos got
// 5.2× back as DTLS server. Now nothing but STUN goes to an address before it has answered the
// ICE-lite agent's request back (src/core/ice/ice-lite-agent.ts, isConfirmed), the STUN that goes
// there is paid for by what came from it (src/core/ice/unconfirmed-budget.ts: ≤ 1×), and the DTLS
// server answers a ClientHello with a HelloVerifyRequest cookie first (RFC 6347 §4.2.1).
// Real `parley dev`; the attacker's datagrams enter the transceiver as a relay forwards a packet
// from a spoofed source (relay header naming the victim's address), and what the transceiver
// sends toward the victim comes back to this test's "relay" socket, where it is counted.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { TransportAddress } from '../../src/core/address.ts';
import { parseAddress } from '../../src/core/address.ts';
import { classify } from '../../src/core/demux.ts';
import { DtlsEndpoint, generateCertificate } from '../../src/core/dtls/index.ts';
import { connectivityCheck } from '../../src/core/ice/binding-request.ts';
import { seededRng } from '../../src/core/rng.ts';
import { RELAY_HEADER_LENGTH, decodeRelayHeader, encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { freeUdpPort } from '../../src/client/free-port.ts';
import { startDev } from '../e2e/helpers.ts';
import type { DevStack } from '../e2e/helpers.ts';
import { readAnswer } from './helpers/answer.ts';

let dev: DevStack;
let mediaPort: number;
before(async () => {
  mediaPort = await freeUdpPort();
  dev = await startDev(['--media', `127.0.0.1:${mediaPort}`]);
});
after(async () => {
  await dev?.stop();
});

/** A victim per attack: an address one call has selected is refused to any other (address-hijack.test.ts). */
const victim = (port: number): TransportAddress => ({ address: '192.0.2.99', port, family: 'IPv4' });
const agents = createCoreAgents(seededRng('reflection-agents'));

/** The attacker's own call: an offer it POSTs (setup as given), and the credentials of its answer. */
async function attackerCall(seed: string, setup: 'actpass' | 'active') {
  const call = new ClientCall({ rng: seededRng(seed), agents, localAddress: { address: '127.0.0.1', port: 9, family: 'IPv4' } });
  const offer = call.offer.replace(/a=setup:\w+/g, `a=setup:${setup}`);
  const res = await fetch(dev.ready.signaling, { method: 'POST', body: offer, headers: { 'content-type': 'application/sdp' } });
  assert.equal(res.status, 201, await res.clone().text());
  const answer = readAnswer(await res.text());
  const ownUfrag = /a=ice-ufrag:(\S+)/.exec(offer)![1];
  return { answer, ownUfrag, location: res.headers.get('location')! };
}

interface Tally {
  sentBytes: number;
  atVictim: number;
  kinds: Set<string>;
}

/** Sends `payloads` as if from `to` through a relay, then counts for `listenMs` what comes back toward `to`. */
async function reflect(to: TransportAddress, payloads: Buffer[], listenMs: number): Promise<Tally> {
  const relayPublic = parseAddress(dev.ready.relay)!;
  const sock = createSocket('udp4');
  const tally: Tally = { sentBytes: 0, atVictim: 0, kinds: new Set() };
  sock.on('message', (m) => {
    const h = decodeRelayHeader(m);
    if (!h || h.client.address !== to.address || h.client.port !== to.port) return;
    tally.atVictim += m.length - RELAY_HEADER_LENGTH;
    tally.kinds.add(classify(m[RELAY_HEADER_LENGTH]));
  });
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  try {
    for (const p of payloads) {
      tally.sentBytes += p.length;
      await new Promise<void>((r) => sock.send(Buffer.concat([encodeRelayHeader(to, relayPublic), p]), mediaPort, '127.0.0.1', () => r()));
      await sleep(20);
    }
    await sleep(listenMs);
  } finally {
    await new Promise<void>((r) => sock.close(() => r()));
  }
  return tally;
}

function check(a: Awaited<ReturnType<typeof attackerCall>>, useCandidate: boolean): Buffer {
  return connectivityCheck({
    transactionId: randomBytes(12),
    localUfrag: a.ownUfrag,
    remoteUfrag: a.answer.ufrag,
    remotePwd: a.answer.pwd,
    priority: 0x6e0001ff,
    role: { controlling: true, tieBreaker: 7n },
    useCandidate,
  });
}

const ratio = (t: Tally): string => `${t.sentBytes} B sent → ${t.atVictim} B at the victim (${(t.atVictim / t.sentBytes).toFixed(2)}×)`;

test('DTLS client role: one valid check from a forged address sends the victim no DTLS, only STUN', { timeout: 30_000 }, async () => {
  const a = await attackerCall('reflect-client-role', 'actpass');
  assert.equal(a.answer.setup, 'active', 'the transceiver is the DTLS client');
  const one = await reflect(victim(40_001), [check(a, false)], 1_500);
  console.log(`client role, one check: ${ratio(one)}, kinds ${[...one.kinds].join(',')}`);
  assert.deepEqual([...one.kinds], ['stun'], 'no DTLS toward an unconfirmed address');
  // The answer to the check only: the request back would cost more than the check paid for.
  assert.ok(one.atVictim <= one.sentBytes, ratio(one));
  // An attacker that keeps checking gets answers and no more requests than the agent's cap.
  const b = await attackerCall('reflect-client-role-many', 'actpass');
  const many = await reflect(
    victim(40_002),
    Array.from({ length: 20 }, (_, i) => check(b, i > 0)),
    1_000,
  );
  console.log(`client role, 20 checks: ${ratio(many)}, kinds ${[...many.kinds].join(',')}`);
  assert.deepEqual([...many.kinds], ['stun']);
  assert.ok(many.atVictim <= many.sentBytes, ratio(many));
  await fetch(new URL(a.location, dev.ready.signaling), { method: 'DELETE' });
  await fetch(new URL(b.location, dev.ready.signaling), { method: 'DELETE' });
});

test(
  'DTLS server role: a forged check and ClientHello get only a HelloVerifyRequest back, never the server flight',
  { timeout: 30_000 },
  async () => {
    const a = await attackerCall('reflect-server-role', 'active');
    assert.equal(a.answer.setup, 'passive', 'the transceiver is the DTLS server');
    const dtls = new DtlsEndpoint({
      role: 'client',
      certificate: generateCertificate(seededRng('reflect-attacker-cert')),
      remoteFingerprint: a.answer.fingerprint,
      rng: seededRng('reflect-attacker-dtls'),
    });
    dtls.start(0);
    const hellos: Buffer[] = [];
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) hellos.push(d);
    const t = await reflect(victim(40_003), [check(a, true), ...hellos, ...hellos], 1_500);
    console.log(`server role, check + 2 ClientHellos: ${ratio(t)}, kinds ${[...t.kinds].join(',')}`);
    assert.ok(t.atVictim <= t.sentBytes, ratio(t));
    await fetch(new URL(a.location, dev.ready.signaling), { method: 'DELETE' });
  },
);
