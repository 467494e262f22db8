// DtlsEndpoint.prepare() (issue #18): the client builds its ClientHello ahead of time and holds it —
// nothing sent, no timer, state 'new' — and start() then sends exactly that flight, with the
// retransmission timer and the handshake budget counted from start(), not from prepare(); its
// X25519 key share is made in prepare() too, and answering the server's flight makes no other.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HANDSHAKE_BUDGET_MS } from '../../../src/core/dtls/endpoint.ts';
import { INITIAL_RETRANSMIT_MS } from '../../../src/core/dtls/flight.ts';
import type { DtlsEndpoint } from '../../../src/core/dtls/index.ts';
import { nodeX25519 } from '../../../src/core/dtls/ecdhe.ts';
import type { X25519 } from '../../../src/core/dtls/ecdhe.ts';
import { bothConnected, drive, eventsOfType, makePair } from './harness.ts';

function transmits(ep: DtlsEndpoint): Buffer[] {
  const out: Buffer[] = [];
  for (let d = ep.pollTransmit(); d !== undefined; d = ep.pollTransmit()) out.push(d);
  return out;
}

test('a prepared client sends nothing, arms no timer and answers no timer or nomination until start()', () => {
  const p = makePair('prepare-silent');
  p.client.prepare(0);
  p.client.prepare(5); // idempotent
  assert.equal(p.client.state, 'new');
  assert.deepEqual(transmits(p.client), []);
  assert.equal(p.client.pollTimeout(), undefined);
  p.client.handleTimeout(10_000);
  p.client.retransmitNow(10_000);
  assert.deepEqual(transmits(p.client), [], 'neither a timeout nor a nomination sends the held flight');
  assert.equal(p.client.pollEvent(), undefined);
});

test('start() after prepare() sends the same ClientHello a plain start() sends, timed from start()', () => {
  const prepared = makePair('same-hello');
  const plain = makePair('same-hello');
  prepared.client.prepare(0);
  prepared.client.start(7_000);
  plain.client.start(7_000);
  const a = transmits(prepared.client);
  const b = transmits(plain.client);
  assert.equal(a.length, 1);
  assert.deepEqual(a, b, 'byte for byte (same seeded random)');
  assert.equal(prepared.client.state, 'handshaking');
  assert.equal(prepared.client.pollTimeout(), 7_000 + INITIAL_RETRANSMIT_MS);
  // The retransmission goes at 7 400 ms with a new record sequence number, as a plain start's does.
  prepared.client.handleTimeout(7_000 + INITIAL_RETRANSMIT_MS);
  plain.client.handleTimeout(7_000 + INITIAL_RETRANSMIT_MS);
  assert.deepEqual(transmits(prepared.client), transmits(plain.client));
  // The budget counts from start(): nothing fails at prepare time + budget.
  prepared.client.handleTimeout(HANDSHAKE_BUDGET_MS + 1);
  assert.equal(prepared.client.state, 'handshaking');
});

test('a prepared client completes the handshake (with and without a cookie round trip)', () => {
  for (const cookie of [false, true]) {
    const p = makePair(`prepared-${cookie}`, { server: { cookie } });
    p.client.prepare(0);
    p.client.start(50);
    p.server.start(50);
    drive(p, { start: 50, done: bothConnected(p) });
    const c = eventsOfType(p.clientEvents, 'connected');
    const s = eventsOfType(p.serverEvents, 'connected');
    assert.equal(c.length, 1, `cookie ${cookie}`);
    assert.equal(s.length, 1, `cookie ${cookie}`);
    assert.deepEqual(c[0].keyingMaterial, s[0].keyingMaterial);
  }
});

test('prepare() is a no-op for the server and once the client started', () => {
  const p = makePair('prepare-noop');
  p.server.prepare(0);
  assert.equal(p.server.state, 'new');
  p.client.start(0);
  const hello = transmits(p.client);
  p.client.prepare(1);
  assert.equal(hello.length, 1);
  assert.deepEqual(transmits(p.client), []);
});

test("a prepared client makes its X25519 key share in prepare() and answers the server's flight with it", () => {
  const made: number[] = [];
  let now = 0;
  const counting: X25519 = {
    keyPair: (scalar) => {
      made.push(now);
      return nodeX25519.keyPair(scalar);
    },
  };
  const p = makePair('prepared-key-share', { client: { x25519: counting } });
  p.client.prepare(0);
  assert.deepEqual(made, [0], 'one key share, made in prepare()');
  now = 50;
  p.client.start(50);
  p.server.start(50);
  drive(p, { start: 50, done: bothConnected(p) });
  assert.deepEqual(made, [0], 'none made for the server flight');
  const c = eventsOfType(p.clientEvents, 'connected');
  assert.equal(c.length, 1);
  assert.deepEqual(c[0].keyingMaterial, eventsOfType(p.serverEvents, 'connected')[0].keyingMaterial);
  // Unprepared, the key share is made when the server's flight is answered.
  const plain = makePair('plain-key-share', { client: { x25519: counting } });
  plain.client.start(0);
  assert.deepEqual(made, [0]);
  now = 60;
  drive(plain, { done: bothConnected(plain) });
  assert.deepEqual(made, [0, 60]);
});
