// Hostile SCTP inside a real DTLS session (STYLE.md rule 5), at the level of the one AudioPeer:
// the far end's every SCTP packet is replaced, mutated (checksum fixed, so it reaches the
// chunk parsers), followed by crafted chunks under the right verification tag, or dropped, as
// fast-check (seeded, bounded) decides, while both sides send messages. No throw escapes, the
// call's audio keeps flowing afterwards, and what the associations hold stays within their limits
// and the shared SctpBudget. A far end that never SACKs cannot grow our send buffer past its limit.
// The far end here is the controlling AudioPeer; its DTLS records are tampered with before
// encryption by wrapping DtlsEndpoint.prototype.send for the one endpoint that sends SCTP first
// (the DTLS client sends INIT), restored after the tests.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { DataChannelCode } from '../../../src/core/datachannel/index.ts';
import type { DataChannelEvent } from '../../../src/core/datachannel/index.ts';
import { DtlsEndpoint } from '../../../src/core/dtls/index.ts';
import type { PeerData, PeerEvent } from '../../../src/core/peer/index.ts';
import { SctpBudget } from '../../../src/core/sctp/index.ts';
import { IN_SEQUENCE_HEADROOM } from '../../../src/core/sctp/reassembly.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { chunk, reseal } from '../sctp/hostile.ts';
import { pair } from './peer-pair.ts';

const LIMITS = { maxReassemblyBytes: 256 * 1024, maxSendBufferBytes: 128 * 1024, maxMessageSize: 64 * 1024 };

type Tamper = (packet: Buffer, send: (b: Buffer) => void) => void;
const originalSend = DtlsEndpoint.prototype.send;
/** Holds the attacker's endpoint: the first to send SCTP after connected() reset it. */
const attacker = new Set<DtlsEndpoint>();
let tamper: Tamper | undefined;
DtlsEndpoint.prototype.send = function (this: DtlsEndpoint, data: Buffer): void {
  if (attacker.size === 0) attacker.add(this);
  if (attacker.has(this) && tamper !== undefined) return tamper(data, (b) => originalSend.call(this, b));
  return originalSend.call(this, data);
};
after(() => {
  DtlsEndpoint.prototype.send = originalSend;
});

const dcEvents = (events: PeerEvent<TransportAddress>[]): DataChannelEvent[] =>
  events.flatMap((e) => (e.type === 'datachannel' ? [e.event] : []));
const audioCount = (events: PeerEvent<TransportAddress>[]): number => events.filter((e) => e.type === 'audio').length;

/** A connected pair (the lite peer is the DTLS server, so the controlling one sends INIT and is the attacker) with one channel open. */
function connected(seed: number, budget: SctpBudget) {
  attacker.clear();
  tamper = undefined;
  const p = pair({ liteRole: 'server', seed, dataChannels: { remoteMaxMessageSize: 64 * 1024, sctp: { ...LIMITS, budget } } });
  p.run(() => dcEvents(p.events.lite).some((e) => e.type === 'connected'), 3_000);
  const id = p.ctl.data!.open({ label: 'oai-events' }, p.clock.now());
  p.flush();
  p.run(() => dcEvents(p.events.lite).some((e) => e.type === 'channel_open'), 1_000);
  return { p, id };
}

/** The call works: five frames from the lite peer reach the far end. */
function audioFlows(p: ReturnType<typeof pair>): void {
  const before = audioCount(p.events.ctl);
  p.lite.queueAudio(
    Array.from({ length: 5 }, (_, i) => Buffer.from(`after${i}`)),
    p.clock.now(),
  );
  p.flush();
  p.run(() => audioCount(p.events.ctl) >= before + 5, 1_000);
  assert.equal(p.lite.state, 'connected');
}

/** send(), or undefined when the channel is no longer open (hostile input may have closed it: that is allowed). */
function trySend(d: PeerData, id: number, data: Buffer, now: number): boolean | undefined {
  try {
    return d.send(id, data, now);
  } catch (err) {
    if ((err as { code?: string }).code === DataChannelCode.notOpen) return undefined;
    throw err;
  }
}

function withinLimits(budget: SctpBudget): void {
  // Both associations draw on this budget: each holds at most its reassembly (plus headroom) and send buffer.
  const most = 2 * (LIMITS.maxReassemblyBytes + IN_SEQUENCE_HEADROOM + LIMITS.maxSendBufferBytes);
  assert.ok(budget.used <= most, `budget used ${budget.used} > ${most}`);
}

const action = fc.oneof(
  fc.record({ kind: fc.constant('random' as const), bytes: fc.uint8Array({ maxLength: 400 }) }),
  fc.record({
    kind: fc.constant('mutate' as const),
    at: fc.nat(2000),
    xor: fc.integer({ min: 1, max: 255 }),
    times: fc.integer({ min: 1, max: 4 }),
  }),
  fc.record({
    kind: fc.constant('chunk' as const),
    type: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 130, 192), fc.nat(255)),
    flags: fc.nat(255),
    value: fc.uint8Array({ maxLength: 64 }),
  }),
  fc.record({ kind: fc.constant('drop' as const) }),
  fc.record({ kind: fc.constant('pass' as const) }),
);
type Action = typeof action extends fc.Arbitrary<infer A> ? A : never;

function tamperWith(actions: Action[]): Tamper {
  let i = 0;
  return (packet, send) => {
    const a = actions[i++ % actions.length];
    if (a.kind === 'pass') return send(packet);
    if (a.kind === 'drop') return;
    if (a.kind === 'random') return send(Buffer.from(a.bytes));
    if (a.kind === 'mutate') {
      const m = Buffer.from(packet);
      for (let k = 0; k < a.times && m.length > 12; k++) m[12 + ((a.at + k * 7) % (m.length - 12))] ^= a.xor;
      return send(reseal(m));
    }
    // A crafted chunk after the real ones, under the association's own ports and tag.
    send(packet);
    send(reseal(Buffer.concat([packet.subarray(0, 12), chunk(a.type, a.flags, Buffer.from(a.value))])));
  };
}

test('random, mutated and crafted SCTP inside DTLS: nothing escapes, audio goes on, memory within limits', () => {
  let run = 0;
  let drops = 0;
  fc.assert(
    fc.property(fc.array(action, { minLength: 1, maxLength: 40 }), (actions) => {
      const budget = new SctpBudget(8 * 1024 * 1024);
      const { p, id } = connected(100 + run++, budget);
      tamper = tamperWith(actions);
      const start = p.clock.now();
      // Traffic both ways for 1.5 s of simulated time while the far end's SCTP is tampered with.
      p.run(() => {
        const now = p.clock.now();
        for (const d of [p.ctl.data!, p.lite.data!])
          if (d.bufferedTotal < 64 * 1024) trySend(d, id, Buffer.alloc(1 + ((now * 37) % 20_000), now & 0xff), now);
        p.flush();
        withinLimits(budget);
        return now >= start + 1_500;
      }, 3_000);
      tamper = undefined;
      const d = p.lite.stats().data!;
      drops += Object.values(d.sctpDrops).reduce((a, b) => a + b, 0) + Object.values(d.channelDrops).reduce((a, b) => a + b, 0);
      audioFlows(p);
      withinLimits(budget);
      p.lite.close(p.clock.now());
      p.ctl.close(p.clock.now());
      p.flush();
    }),
    { seed: 14, numRuns: 12 },
  );
  assert.ok(drops > 0, 'the hostile input reached the parsers and was counted');
});

test('a far end that never SACKs cannot grow our send buffer past its limit; audio goes on', () => {
  const budget = new SctpBudget(8 * 1024 * 1024);
  const { p, id } = connected(7, budget);
  tamper = () => {}; // the far end's SCTP never arrives: no SACK, no window update
  const data = p.lite.data!;
  let refused = 0;
  const start = p.clock.now();
  p.run(() => {
    const now = p.clock.now();
    for (let k = 0; k < 8; k++) if (trySend(data, id, Buffer.alloc(16 * 1024, k), now) === false) refused++;
    p.flush();
    assert.ok(data.bufferedTotal <= LIMITS.maxSendBufferBytes, `buffered ${data.bufferedTotal}`);
    withinLimits(budget);
    return now >= start + 5_000;
    // Deadlines here are sparse (T3 backs off, consent every 4-6 s): room for the one after 5 s.
  }, 12_000);
  assert.ok(refused > 0, 'send() refused once the buffer was full');
  audioFlows(p);
  tamper = undefined;
  p.lite.close(p.clock.now());
  p.ctl.close(p.clock.now());
  p.flush();
});
