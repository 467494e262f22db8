// Hostile input (STYLE.md rule 5): random bytes and random mutations of valid flights must never
// throw out of handle(); the endpoint drops them or fails with a typed reason, never connects
// twice, and when both sides do connect they agree on the keys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { encodeRecord } from '../../../src/core/dtls/record.ts';
import { bothConnected, drive, eventsOfType, makePair } from './harness.ts';

const STATES = ['handshaking', 'connected', 'failed', 'closed'];

const mutation = fc.oneof(
  fc.record({ kind: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }),
  fc.record({ kind: fc.constant('truncate' as const), at: fc.nat() }),
  fc.record({ kind: fc.constant('set' as const), at: fc.nat(), value: fc.integer({ min: 0, max: 255 }) }),
  fc.record({ kind: fc.constant('splice' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 40 }) }),
  fc.record({ kind: fc.constant('double' as const) }),
);
type Mutation = typeof mutation extends fc.Arbitrary<infer T> ? T : never;

function apply(d: Buffer, m: Mutation): Buffer {
  const out = Buffer.from(d);
  switch (m.kind) {
    case 'flip':
      out[m.at % out.length] ^= 1 << m.bit;
      return out;
    case 'truncate':
      return out.subarray(0, m.at % out.length);
    case 'set':
      out[m.at % out.length] = m.value;
      return out;
    case 'splice':
      return Buffer.concat([out.subarray(0, m.at % out.length), m.bytes, out.subarray(m.at % out.length)]);
    case 'double':
      return Buffer.concat([out, out]);
  }
}

test('random mutations of valid flights never throw out of handle() and never connect twice', () => {
  let seed = 0;
  fc.assert(
    fc.property(fc.nat({ max: 9 }), fc.array(mutation, { minLength: 1, maxLength: 4 }), fc.boolean(), (target, mutations, cookie) => {
      const p = makePair(`fuzz-${seed++}`, { server: { cookie } });
      let index = 0;
      p.client.start(0);
      drive(p, {
        maxSteps: 500,
        done: bothConnected(p),
        tap: (_from, d) => (index++ === target ? mutations.reduce(apply, d) : d),
      });
      for (const [ep, events] of [
        [p.client, p.clientEvents],
        [p.server, p.serverEvents],
      ] as const) {
        assert.ok(STATES.includes(ep.state), ep.state);
        assert.ok(eventsOfType(events, 'connected').length <= 1);
        // A failure has a specific code; internal_error would mean a bug (an unexpected exception).
        if (ep.state === 'failed') assert.match(eventsOfType(events, 'failed')[0].reason.code, /^ERR_DTLS_(?!INTERNAL)/);
      }
      if (p.client.state === 'connected' && p.server.state === 'connected') {
        assert.deepEqual(
          eventsOfType(p.clientEvents, 'connected')[0].keyingMaterial,
          eventsOfType(p.serverEvents, 'connected')[0].keyingMaterial,
        );
      }
    }),
    { numRuns: Number(process.env.DTLS_FUZZ_RUNS ?? 400) },
  );
});

test('random datagrams and random records never throw, in every state', () => {
  const connected = makePair('fuzz-connected');
  connected.client.start(0);
  drive(connected, { done: bothConnected(connected) });
  const fresh = makePair('fuzz-fresh');
  fresh.client.start(0);
  const targets = [fresh.server, fresh.client, connected.server, connected.client];
  const record = fc.record({
    type: fc.constantFrom(20, 21, 22, 23, 0, 255),
    version: fc.constantFrom(0xfefd, 0xfeff, 0x0303),
    epoch: fc.constantFrom(0, 1, 2, 0xffff),
    seq: fc.nat({ max: 2 ** 32 }),
    body: fc.uint8Array({ maxLength: 300 }),
  });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 1500 }).map((b) => Buffer.from(b)),
        fc
          .array(record, { minLength: 1, maxLength: 4 })
          .map((rs) => Buffer.concat(rs.map((r) => encodeRecord(r.type, r.version, r.epoch, r.seq, Buffer.from(r.body))))),
      ),
      (datagram) => {
        for (const ep of targets) ep.handle(datagram, 1);
      },
    ),
    { numRuns: 2000 },
  );
  assert.equal(connected.server.state, 'connected');
  assert.equal(connected.client.state, 'connected');
});
