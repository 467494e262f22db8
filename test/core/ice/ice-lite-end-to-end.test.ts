// Controlling client ⇄ ICE-lite agent over the seeded netem (NAT, latency, loss), manual clock:
// connection, long-lived consent, NAT rebinding, link loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../../src/common/clock.ts';
import { drain } from '../../../src/core/output.ts';
import { IceControllingClient } from '../../../src/core/ice/ice-controlling-client.ts';
import { IceLiteAgent } from '../../../src/core/ice/ice-lite-agent.ts';
import type { IceClientEvent, IceLiteEvent } from '../../../src/core/ice/ice-types.ts';
import { seededRng } from '../../../src/core/rng.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { Netem } from '../../support/netem.ts';
import { progressTo } from '../../support/progress.ts';
import type { Driven } from '../../support/progress.ts';

const RELAY: TransportAddress = { address: '198.51.100.10', port: 3478, family: 'IPv4' };
const CLIENT_HOST: TransportAddress = { address: '192.168.1.5', port: 50000, family: 'IPv4' };
const NAT1: TransportAddress = { address: '203.0.113.5', port: 40000, family: 'IPv4' };
const NAT2: TransportAddress = { address: '192.0.2.77', port: 50123, family: 'IPv4' };

/** The client behind a NAT (CLIENT_HOST → NAT1) and the agent at RELAY, on one netem and clock. */
class Link {
  readonly clock = new ManualClock(0);
  readonly net: Netem;
  readonly clientEvents: Array<IceClientEvent & { at: number }> = [];
  readonly serverEvents: Array<IceLiteEvent & { at: number }> = [];
  readonly #client: IceControllingClient;
  readonly #server: IceLiteAgent;
  readonly #parts: Driven[];

  constructor(o: { client: IceControllingClient; server: IceLiteAgent; latencyMs: number; loss: number; seed: number }) {
    this.#client = o.client;
    this.#server = o.server;
    this.net = new Netem({ seed: o.seed, profile: { latencyMs: o.latencyMs, loss: o.loss } });
    this.net.nat(CLIENT_HOST, NAT1);
    this.net.attach(CLIENT_HOST, (d, now) => {
      this.#client.handle(d.data, d.from, now);
      this.#flush();
    });
    this.net.attach(RELAY, (d, now) => {
      this.#server.handle(d.data, d.from, now);
      this.#flush();
    });
    const part = (m: IceControllingClient | IceLiteAgent): Driven => ({
      nextDeadline: () => m.pollTimeout(),
      advance: (now) => {
        m.handleTimeout(now);
        this.#flush();
      },
    });
    // Datagrams first, then timers, at each instant.
    this.#parts = [this.net, part(o.client), part(o.server)];
  }

  start(): void {
    this.#client.start(this.clock.now());
    this.#flush();
  }

  /** Runs every delivery and deadline up to `t` (ms on the manual clock). */
  runUntil(t: number): void {
    progressTo({ clock: this.clock, parts: this.#parts, t });
  }

  /** Cuts the link both ways: everything sent from now on is lost. */
  cut(latencyMs: number): void {
    this.net.setProfile({ latencyMs, loss: 1 });
  }

  #flush(): void {
    const now = this.clock.now();
    drain(
      this.#client,
      (t) => this.net.send({ from: CLIENT_HOST, to: t.to, data: t.data }, now),
      (e) => this.clientEvents.push({ ...e, at: now }),
    );
    drain(
      this.#server,
      (t) => this.net.send({ from: RELAY, to: t.to, data: t.data }, now),
      (e) => this.serverEvents.push({ ...e, at: now }),
    );
  }
}

function pair(seed: number, latencyMs: number, loss: number): { link: Link; client: IceControllingClient; server: IceLiteAgent } {
  const server = new IceLiteAgent({ localUfrag: 'tokenUfrag', localPwd: 'derived-password-0123456789', remoteUfrag: 'cUf1' });
  const client = new IceControllingClient({
    localUfrag: 'cUf1',
    localPwd: 'client-pw-0123456789ab',
    remoteUfrag: 'tokenUfrag',
    remotePwd: 'derived-password-0123456789',
    remote: RELAY,
    rng: seededRng(seed),
  });
  const link = new Link({ client, server, latencyMs, loss, seed });
  link.start();
  return { link, client, server };
}

test('connects: client sees its NAT-mapped address, the agent selects it', () => {
  const { link, client, server } = pair(1, 25, 0);
  link.runUntil(1000);
  assert.deepEqual(link.clientEvents, [{ type: 'connected', mappedAddress: NAT1, at: 100 }], 'two round trips of 50 ms');
  assert.deepEqual(
    link.serverEvents,
    [
      { type: 'selected', address: NAT1, at: 25 },
      { type: 'nominated', address: NAT1, at: 75 },
    ],
    'the first valid check selects, one round trip before the nomination of the same pair',
  );
  assert.deepEqual(server.selected, NAT1);
  assert.equal(client.state, 'connected');
});

test('with 30% loss both sides connect and keep consent for 5 minutes (seeded, several seeds)', () => {
  // A check is lost with p = 1 - 0.7² ≈ 0.51, so a transaction fails all 7 transmissions with
  // p ≈ 0.51⁷ ≈ 1 %: about 3 seeds in 100 fail to connect at all (seed 4 does, at 7.9 s). That
  // is correct behaviour and not this test's subject, which is consent once connected.
  for (const seed of [2, 3, 5, 6, 7]) {
    const { link, client, server } = pair(seed, 40, 0.3);
    link.runUntil(300_000);
    assert.equal(link.clientEvents[0]?.type, 'connected', `seed ${seed}`);
    assert.equal(link.serverEvents[0]?.type, 'selected', `seed ${seed}`);
    assert.ok(!link.clientEvents.some((e) => e.type === 'consent_lost'), `client consent, seed ${seed}`);
    assert.ok(!link.serverEvents.some((e) => e.type === 'consent_lost'), `server consent, seed ${seed}`);
    assert.equal(client.state, 'connected');
    assert.ok(server.stats.answered > 50);
  }
});

test('NAT rebinding: the next consent check from the new mapping moves the selection', () => {
  const { link, server } = pair(7, 10, 0);
  link.runUntil(10_000);
  link.net.nat(CLIENT_HOST, NAT2);
  link.runUntil(20_000);
  const change = link.serverEvents.find((e) => e.type === 'selected-changed');
  assert.ok(change, 'selected-changed emitted');
  assert.deepEqual({ from: (change as { from: unknown }).from, to: (change as { to: unknown }).to }, { from: NAT1, to: NAT2 });
  assert.ok(change.at > 10_000 && change.at <= 16_100, `moved within one consent interval (at ${change.at})`);
  assert.deepEqual(server.selected, NAT2);
  link.runUntil(120_000);
  assert.ok(!link.serverEvents.some((e) => e.type === 'consent_lost'));
  assert.ok(!link.clientEvents.some((e) => e.type === 'consent_lost'));
});

test('link cut: both sides lose consent about 30 s after their last exchange, once each', () => {
  const { link } = pair(8, 10, 0);
  link.runUntil(60_000);
  link.cut(10);
  link.runUntil(200_000);
  const c = link.clientEvents.filter((e) => e.type === 'consent_lost');
  const s = link.serverEvents.filter((e) => e.type === 'consent_lost');
  assert.equal(c.length, 1);
  assert.equal(s.length, 1);
  // The last exchange was at most one consent interval (≤ 6 s) before the cut.
  for (const e of [...c, ...s]) assert.ok(e.at >= 84_000 && e.at <= 90_100, `lost at ${e.at}`);
});

test('wrong password on the client: the agent answers 401 and the client fails; nothing is selected', () => {
  const server = new IceLiteAgent({ localUfrag: 'tokenUfrag', localPwd: 'derived-password-0123456789' });
  const client = new IceControllingClient({
    localUfrag: 'cUf1',
    localPwd: 'x'.repeat(22),
    remoteUfrag: 'tokenUfrag',
    remotePwd: 'wrong-password-000000000',
    remote: RELAY,
    rng: seededRng(9),
  });
  const link = new Link({ client, server, latencyMs: 5, loss: 0, seed: 9 });
  link.start();
  link.runUntil(60_000);
  assert.deepEqual(
    link.clientEvents.map((e) => e.type),
    ['failed'],
  );
  assert.deepEqual(link.serverEvents, []);
  assert.equal(server.stats.stun_error_401, 1);
});
