// Controlling client ⇄ ICE-lite agent over a seeded simulated path (NAT, latency, loss),
// manual clock: connection, long-lived consent, NAT rebinding, link loss.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IceControllingClient } from '../../../src/core/ice/ice-controlling-client.ts';
import { IceLiteAgent } from '../../../src/core/ice/ice-lite-agent.ts';
import { seededRng } from '../../../src/core/rng.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { SimLink } from './sim-link.ts';

const RELAY: TransportAddress = { address: '198.51.100.10', port: 3478, family: 'IPv4' };
const NAT1: TransportAddress = { address: '203.0.113.5', port: 40000, family: 'IPv4' };
const NAT2: TransportAddress = { address: '192.0.2.77', port: 50123, family: 'IPv4' };

function pair(seed: number, latencyMs: number, loss: number): { link: SimLink; client: IceControllingClient; server: IceLiteAgent } {
  const server = new IceLiteAgent({ localUfrag: 'tokenUfrag', localPwd: 'derived-password-0123456789', remoteUfrag: 'cUf1' });
  const client = new IceControllingClient({ localUfrag: 'cUf1', localPwd: 'client-pw-0123456789ab', remoteUfrag: 'tokenUfrag', remotePwd: 'derived-password-0123456789', remote: RELAY, rng: seededRng(seed) });
  const link = new SimLink({ client, server, serverAddress: RELAY, mapped: NAT1, latencyMs, loss, seed });
  client.start(0);
  return { link, client, server };
}

test('connects: client sees its NAT-mapped address, the agent selects it', () => {
  const { link, client, server } = pair(1, 25, 0);
  link.runUntil(1000);
  assert.deepEqual(link.clientEvents, [{ type: 'connected', mappedAddress: NAT1, at: 100 }], 'two round trips of 50 ms');
  assert.deepEqual(link.serverEvents, [{ type: 'selected', address: NAT1, at: 25 }], 'the first valid check selects, one round trip before the nomination');
  assert.deepEqual(server.selected, NAT1);
  assert.equal(client.state, 'connected');
});

test('with 30% loss both sides connect and keep consent for 5 minutes (seeded, several seeds)', () => {
  for (const seed of [2, 3, 4, 5, 6]) {
    const { link, client, server } = pair(seed, 40, 0.3);
    link.runUntil(300_000);
    assert.equal(link.clientEvents[0]?.type, 'connected', `seed ${seed}`);
    assert.equal(link.serverEvents[0]?.type, 'selected', `seed ${seed}`);
    assert.ok(!link.clientEvents.some((e) => e.type === 'consent-lost'), `client consent, seed ${seed}`);
    assert.ok(!link.serverEvents.some((e) => e.type === 'consent-lost'), `server consent, seed ${seed}`);
    assert.equal(client.state, 'connected');
    assert.ok(server.stats.answered > 50);
  }
});

test('NAT rebinding: the next consent check from the new mapping moves the selection', () => {
  const { link, server } = pair(7, 10, 0);
  link.runUntil(10_000);
  link.mapped = NAT2;
  link.runUntil(20_000);
  const change = link.serverEvents.find((e) => e.type === 'selected-changed');
  assert.ok(change, 'selected-changed emitted');
  assert.deepEqual({ from: (change as { from: unknown }).from, to: (change as { to: unknown }).to }, { from: NAT1, to: NAT2 });
  assert.ok(change.at > 10_000 && change.at <= 16_100, `moved within one consent interval (at ${change.at})`);
  assert.deepEqual(server.selected, NAT2);
  link.runUntil(120_000);
  assert.ok(!link.serverEvents.some((e) => e.type === 'consent-lost'));
  assert.ok(!link.clientEvents.some((e) => e.type === 'consent-lost'));
});

test('link cut: both sides lose consent about 30 s after their last exchange, once each', () => {
  const { link } = pair(8, 10, 0);
  link.runUntil(60_000);
  link.up = false;
  link.runUntil(200_000);
  const c = link.clientEvents.filter((e) => e.type === 'consent-lost');
  const s = link.serverEvents.filter((e) => e.type === 'consent-lost');
  assert.equal(c.length, 1);
  assert.equal(s.length, 1);
  // The last exchange was at most one consent interval (≤ 6 s) before the cut.
  for (const e of [...c, ...s]) assert.ok(e.at >= 84_000 && e.at <= 90_100, `lost at ${e.at}`);
});

test('wrong password on the client: the agent answers 401 and the client fails; nothing is selected', () => {
  const server = new IceLiteAgent({ localUfrag: 'tokenUfrag', localPwd: 'derived-password-0123456789' });
  const client = new IceControllingClient({ localUfrag: 'cUf1', localPwd: 'x'.repeat(22), remoteUfrag: 'tokenUfrag', remotePwd: 'wrong-password-000000000', remote: RELAY, rng: seededRng(9) });
  const link = new SimLink({ client, server, serverAddress: RELAY, mapped: NAT1, latencyMs: 5, loss: 0, seed: 9 });
  client.start(0);
  link.runUntil(60_000);
  assert.deepEqual(link.clientEvents.map((e) => e.type), ['failed']);
  assert.deepEqual(link.serverEvents, []);
  assert.equal(server.stats.stun_error_401, 1);
});
