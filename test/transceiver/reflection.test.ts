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
import { bindingSuccess } from '../../src/core/ice/binding-response.ts';
import { seededRng } from '../../src/core/rng.ts';
import { RELAY_HEADER_LENGTH, decodeRelayHeader, encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { freeUdpPort } from '../../src/client/free-port.ts';
import { UdpCallDriver } from '../../src/client/udp-driver.ts';
import { startDev, metricSum } from '../e2e/helpers.ts';
import type { DevStack } from '../e2e/helpers.ts';
import { waitFor } from '../support/wait-for.ts';
import { readAnswer } from './helpers/answer.ts';
import { UdpClient } from './helpers/udp-client.ts';

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
  const ownPwd = /a=ice-pwd:(\S+)/.exec(offer)![1];
  return { answer, ownUfrag, ownPwd, location: res.headers.get('location')! };
}

interface Tally {
  sentBytes: number;
  atVictim: number;
  kinds: Set<string>;
}

/** The credentials a check is signed with: the attacker's own call's. */
interface Credentials {
  readonly ownUfrag: string;
  readonly answer: { readonly ufrag: string; readonly pwd: string };
}

/**
 * A relay of the test's own, on a real socket: it forwards datagrams to the transceiver as if from
 * any client address, and keeps what the transceiver sends toward each address.
 */
class FakeRelay {
  readonly #sock = createSocket('udp4');
  readonly #public = parseAddress(dev.ready.relay)!;
  readonly #seen = new Map<string, { bytes: number; kinds: Set<string>; datagrams: Buffer[] }>();
  readonly sentFrom = new Map<string, number>();

  async open(): Promise<this> {
    this.#sock.on('message', (m) => {
      const h = decodeRelayHeader(m);
      if (!h) return;
      const key = `${h.client.address}:${h.client.port}`;
      const s = this.#seen.get(key) ?? { bytes: 0, kinds: new Set<string>(), datagrams: [] };
      s.bytes += m.length - RELAY_HEADER_LENGTH;
      s.kinds.add(classify(m[RELAY_HEADER_LENGTH]));
      s.datagrams.push(m.subarray(RELAY_HEADER_LENGTH));
      this.#seen.set(key, s);
    });
    await new Promise<void>((r) => this.#sock.bind(0, '127.0.0.1', r));
    return this;
  }

  async send(from: TransportAddress, payloads: readonly Buffer[]): Promise<void> {
    const key = `${from.address}:${from.port}`;
    for (const p of payloads) {
      this.sentFrom.set(key, (this.sentFrom.get(key) ?? 0) + p.length);
      await new Promise<void>((r) =>
        this.#sock.send(Buffer.concat([encodeRelayHeader(from, this.#public), p]), mediaPort, '127.0.0.1', () => r()),
      );
    }
  }

  /** What came toward `to` so far. */
  at(to: TransportAddress): { bytes: number; kinds: string[]; datagrams: Buffer[] } {
    const s = this.#seen.get(`${to.address}:${to.port}`);
    return { bytes: s?.bytes ?? 0, kinds: [...(s?.kinds ?? [])], datagrams: s?.datagrams ?? [] };
  }

  close(): Promise<void> {
    return new Promise<void>((r) => this.#sock.close(() => r()));
  }
}

/** Sends `payloads` as if from `to` through a relay, then counts for `listenMs` what comes back toward `to`. */
async function reflect(to: TransportAddress, payloads: Buffer[], listenMs: number): Promise<Tally> {
  const relay = await new FakeRelay().open();
  try {
    for (const p of payloads) {
      await relay.send(to, [p]);
      await sleep(20);
    }
    await sleep(listenMs);
    const at = relay.at(to);
    return { sentBytes: relay.sentFrom.get(`${to.address}:${to.port}`) ?? 0, atVictim: at.bytes, kinds: new Set(at.kinds) };
  } finally {
    await relay.close();
  }
}

function check(a: Credentials, useCandidate: boolean): Buffer {
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

/** The attacker's DTLS client, started: `flight()` takes what it has to send (first its ClientHello). */
function attackerDtls(seed: string, fingerprint: string): { dtls: DtlsEndpoint; flight: () => Buffer[] } {
  const dtls = new DtlsEndpoint({
    role: 'client',
    certificate: generateCertificate(seededRng(`${seed}-cert`)),
    remoteFingerprint: fingerprint,
    rng: seededRng(`${seed}-dtls`),
  });
  dtls.start(0);
  const flight = (): Buffer[] => {
    const out: Buffer[] = [];
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) out.push(d);
    return out;
  };
  return { dtls, flight };
}

const ratio = (t: Tally): string => `${t.sentBytes} B sent → ${t.atVictim} B at the victim (${(t.atVictim / t.sentBytes).toFixed(2)}×)`;

test('DTLS client role: one valid check from a forged address sends the victim no DTLS, only STUN', { timeout: 30_000 }, async () => {
  const a = await attackerCall('reflect-client-role', 'actpass');
  assert.equal(a.answer.setup, 'active', 'the transceiver is the DTLS client');
  const one = await reflect(victim(40_001), [check(a, false)], 1_500);
  console.log(`client role, one check: ${ratio(one)}, kinds ${[...one.kinds].join(',')}`);
  assert.deepEqual([...one.kinds], ['stun'], 'no DTLS toward an unconfirmed address');
  // The request back only: the check paid for it, not for it and the answer together.
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
    const hellos = attackerDtls('reflect-attacker', a.answer.fingerprint).flight();
    const t = await reflect(victim(40_003), [check(a, true), ...hellos, ...hellos], 1_500);
    console.log(`server role, check + 2 ClientHellos: ${ratio(t)}, kinds ${[...t.kinds].join(',')}`);
    assert.ok(t.atVictim <= t.sentBytes, ratio(t));
    await fetch(new URL(a.location, dev.ready.signaling), { method: 'DELETE' });
  },
);

test(
  'DTLS server role: a cookie fetched at the attacker’s own address, then a nomination of the victim, gets the victim no server flight',
  { timeout: 30_000 },
  async () => {
    const a = await attackerCall('reflect-cookie-then-nominate', 'active');
    assert.equal(a.answer.setup, 'passive', 'the transceiver is the DTLS server');
    const own = victim(40_010); // the attacker's own address: it receives there (this test sees it all)
    const target = victim(40_011);
    const relay = await new FakeRelay().open();
    try {
      const { dtls, flight } = attackerDtls('reflect-cookie', a.answer.fingerprint);
      await relay.send(own, [check(a, true)]);
      await sleep(20);
      await relay.send(own, flight());
      // The HelloVerifyRequest, at the attacker's own address: the cookie for its second ClientHello.
      await waitFor(() => relay.at(own).kinds.includes('dtls'), 5_000, 'HelloVerifyRequest at the attacker’s address');
      for (const d of relay.at(own).datagrams) if (classify(d[0]) === 'dtls') dtls.handle(d, 1);
      const hello2 = flight();
      assert.ok(hello2.length > 0, 'the cookie brought a second ClientHello');
      // The victim's address nominated by a forged check, then the ClientHello with the cookie.
      await relay.send(target, [check(a, true)]);
      await sleep(50);
      await relay.send(own, hello2);
      await sleep(1_500);
      const at = relay.at(target);
      const sent = relay.sentFrom.get(`${target.address}:${target.port}`) ?? 0;
      console.log(
        `cookie, then a forged nomination: ${sent} B sent as the victim → ${at.bytes} B at the victim, kinds ${at.kinds.join(',')}`,
      );
      assert.ok(!at.kinds.includes('dtls'), 'no DTLS server flight toward the unconfirmed victim');
      assert.ok(at.bytes <= sent, `${at.bytes} B at the victim for ${sent} B sent as the victim`);
    } finally {
      await relay.close();
      await fetch(new URL(a.location, dev.ready.signaling), { method: 'DELETE' });
    }
  },
);

test(
  'DTLS server role (issue #18): an attacker that confirmed its own address, then nominates the victim, gets the victim no server flight for a cookie-less ClientHello',
  { timeout: 30_000 },
  async () => {
    const a = await attackerCall('reflect-confirm-then-nominate', 'active');
    assert.equal(a.answer.setup, 'passive', 'the transceiver is the DTLS server');
    const own = victim(40_030); // the attacker's own address: it receives there and answers the request back
    const target = victim(40_031);
    const relay = await new FakeRelay().open();
    try {
      const hello = attackerDtls('reflect-confirm', a.answer.fingerprint).flight();
      await relay.send(own, [check(a, false)]);
      await waitFor(() => relay.at(own).kinds.includes('stun'), 5_000, 'the request back at the attacker’s address');
      // The attacker answers it (signed with its own offer's password): its own address is confirmed.
      const request = relay.at(own).datagrams.find((d) => d.readUInt16BE(0) === 0x0001)!;
      await relay.send(own, [bindingSuccess(request.subarray(8, 20), own, a.ownPwd)]);
      await sleep(50);
      // The victim's address nominated by a forged check, then a ClientHello without a cookie.
      await relay.send(target, [check(a, true)]);
      await sleep(50);
      await relay.send(own, hello);
      await relay.send(target, hello);
      await sleep(1_500);
      const at = relay.at(target);
      const sent = relay.sentFrom.get(`${target.address}:${target.port}`) ?? 0;
      console.log(
        `confirmed own address, then a forged nomination: ${sent} B sent as the victim → ${at.bytes} B at the victim, kinds ${at.kinds.join(',')}`,
      );
      const flightAtVictim = at.datagrams.filter((d) => classify(d[0]) === 'dtls' && d[13] !== 3);
      assert.equal(flightAtVictim.length, 0, 'no DTLS but a HelloVerifyRequest toward the unconfirmed victim');
      assert.ok(at.bytes <= sent, `${at.bytes} B at the victim for ${sent} B sent as the victim`);
    } finally {
      await relay.close();
      await fetch(new URL(a.location, dev.ready.signaling), { method: 'DELETE' });
    }
  },
);

test(
  'a connected call that nominates a forged address sends it no more than was sent from it (no media flood)',
  { timeout: 30_000 },
  async () => {
    const frames = Array.from({ length: 1000 }, (_, i) => Buffer.from(`media-${String(i).padStart(5, '0')}-${'x'.repeat(60)}`));
    const attacker = await UdpClient.call(driver, dev.ready.signaling, { seed: 'reflect-connected', frames });
    clients.push(attacker);
    await waitFor(() => attacker.connected && attacker.heard().length >= 10, 15_000, 'the attacker’s own call connected, echo heard');
    const credentials: Credentials = {
      ownUfrag: /a=ice-ufrag:(\S+)/.exec(attacker.call.offer)![1],
      answer: readAnswer(attacker.answer),
    };
    const target = victim(40_020);
    const relay = await new FakeRelay().open();
    const heldBefore = await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_session_drops_total', 'unconfirmed_address');
    try {
      // Nominating checks from the victim's address, as often as consent checks come, for 1.5 s.
      for (let i = 0; i < 6; i++) {
        await relay.send(target, [check(credentials, true)]);
        await sleep(250);
      }
      const at = relay.at(target);
      const sent = relay.sentFrom.get(`${target.address}:${target.port}`) ?? 0;
      const held =
        (await metricSum(dev.ready.transceiverMetrics, 'parley_transceiver_session_drops_total', 'unconfirmed_address')) - heldBefore;
      console.log(
        `connected call, forged nominations: ${sent} B sent as the victim → ${at.bytes} B at the victim (kinds ${at.kinds.join(',')}); media not sent there: ${held}`,
      );
      // The echo of ~50 frames a second would have gone to the victim: only what its budget pays goes.
      assert.ok(at.bytes <= sent, `${at.bytes} B at the victim for ${sent} B sent as the victim`);
      assert.ok(held >= 10, `media toward the unconfirmed address is counted as not sent (${held})`);
    } finally {
      await relay.close();
    }
  },
);
