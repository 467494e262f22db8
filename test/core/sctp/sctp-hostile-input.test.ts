// Hostile input (STYLE.md rule 5): random and mutated packets after setup never make an exception
// escape and never take memory past the limits; an INIT flood creates no association state; a
// peer that never reads (zero window, no SACK) cannot grow our send buffer past its limit; a peer
// that sends fragments and never finishes cannot grow reassembly past its limit; forged and stale
// cookies make nothing.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { seededRng } from '../../../src/core/rng.ts';
import { SctpAssociation, SctpBudget, SctpCode } from '../../../src/core/sctp/index.ts';
import type { SctpEvent } from '../../../src/core/sctp/index.ts';
import { IN_SEQUENCE_HEADROOM } from '../../../src/core/sctp/reassembly.ts';
import { assoc, pair } from './harness.ts';
import type { Pair } from './harness.ts';
import { chunk, dataChunk, discard, reseal, seal } from './hostile.ts';

const LIMITS = { maxReassemblyBytes: 256 * 1024, maxSendBufferBytes: 128 * 1024, maxMessageSize: 64 * 1024 };

function established(seed: number): { p: Pair<SctpAssociation>; captured: Buffer[]; budget: SctpBudget } {
  const budget = new SctpBudget(8 * 1024 * 1024);
  const p = pair(assoc(`a${seed}`, { budget, ...LIMITS }), assoc(`b${seed}`, { budget, ...LIMITS }), seed, { latencyMs: 5 });
  const captured: Buffer[] = [];
  const send = p.net.send.bind(p.net);
  p.net.send = (d, now) => {
    if (d.from === p.a.address && captured.length < 64) captured.push(Buffer.from(d.data));
    send(d, now);
  };
  p.a.m.connect(0);
  p.a.pump(0);
  p.run(() => p.a.m.state === 'established' && p.b.m.state === 'established', 5000);
  for (let i = 0; i < 20; i++) p.a.m.send(i % 3, 53, Buffer.alloc(100 + i * 300, i), { unordered: i % 2 === 0 }, p.clock.now());
  p.a.pump(p.clock.now());
  p.run(() => p.b.events.filter((e) => e.type === 'message').length === 20, 5000);
  return { p, captured, budget };
}

function withinLimits(a: SctpAssociation, budget: SctpBudget): void {
  const d = a.dump();
  assert.ok(d.reassemblyBytes <= LIMITS.maxReassemblyBytes + IN_SEQUENCE_HEADROOM, `reassembly ${d.reassemblyBytes}`);
  assert.ok(d.bufferedBytes <= LIMITS.maxSendBufferBytes, `send buffer ${d.bufferedBytes}`);
  assert.ok(budget.used <= budget.limit);
}

test('random bytes and random chunks with a valid header never throw and stay within limits', () => {
  const { p, captured, budget } = established(31);
  const b = p.b.m;
  const vtag = captured[captured.length - 1].readUInt32BE(4);
  let now = p.clock.now();
  const chunkArb = fc.record({
    type: fc.oneof(fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 9, 10, 11, 14, 130, 192), fc.integer({ min: 0, max: 255 })),
    flags: fc.integer({ min: 0, max: 255 }),
    value: fc.uint8Array({ maxLength: 64 }),
  });
  fc.assert(
    fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 200 }).map((u) => Buffer.from(u)),
        fc.array(chunkArb, { minLength: 1, maxLength: 6 }).map((cs) =>
          seal(
            vtag,
            cs.map((c) => chunk(c.type, c.flags, Buffer.from(c.value))),
          ),
        ),
      ),
      (pkt) => {
        b.handle(pkt, (now += 1));
        discard(b);
        b.handleTimeout(now);
        discard(b);
        withinLimits(b, budget);
      },
    ),
    { numRuns: 3000, seed: 31 },
  );
});

test('mutated real packets (checksum fixed up) never throw and stay within limits', () => {
  const { p, captured, budget } = established(32);
  const b = p.b.m;
  let now = p.clock.now();
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: captured.length - 1 }),
      fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
      fc.boolean(),
      (i, flips, truncate) => {
        const pkt = Buffer.from(captured[i]);
        for (const [at, v] of flips) pkt[12 + (at % Math.max(1, pkt.length - 12))] = v;
        const out = reseal(truncate ? pkt.subarray(0, Math.max(12, pkt.length - (flips[0][0] % 17))) : pkt);
        b.handle(out, (now += 3));
        discard(b);
        b.handleTimeout(now);
        discard(b);
        withinLimits(b, budget);
      },
    ),
    { numRuns: 3000, seed: 32 },
  );
});

test('an INIT flood (10 000 INITs with random tags) leaves no association state', () => {
  const budget = new SctpBudget(1024 * 1024);
  const b = new SctpAssociation({ rng: seededRng('flood'), budget });
  const rng = seededRng('attacker');
  let answered = 0;
  for (let i = 0; i < 10_000; i++) {
    const v = Buffer.alloc(16);
    rng.bytes(16).copy(v);
    v.writeUInt16BE(1024, 8);
    v.writeUInt16BE(1024, 10);
    if (v.readUInt32BE(0) === 0) v.writeUInt32BE(1, 0);
    b.handle(seal(0, [chunk(1, 0, v)]), i);
    while (b.pollTransmit() !== undefined) answered++;
    assert.equal(b.pollEvent(), undefined);
  }
  assert.equal(answered, 10_000, 'each INIT answered statelessly with an INIT-ACK');
  assert.deepEqual(b.dump(), {
    state: 'closed',
    streams: 0,
    reassemblyBytes: 0,
    bufferedBytes: 0,
    queuedMessages: 0,
    outstandingChunks: 0,
    cwnd: 0,
    ssthresh: 0,
    rto: 1000,
    srtt: undefined,
    peerRwnd: 0,
  });
  assert.equal(b.pollTimeout(), undefined, 'no timer armed');
  assert.equal(budget.used, 0);
});

test('an INIT flood at an established association changes nothing', () => {
  const { p } = established(33);
  const before = p.b.m.dump();
  for (let i = 0; i < 1000; i++) {
    const v = Buffer.alloc(16);
    v.writeUInt32BE(i + 1, 0);
    v.writeUInt16BE(16, 8);
    v.writeUInt16BE(16, 10);
    p.b.m.handle(seal(0, [chunk(1, 0, v)]), p.clock.now());
  }
  discard(p.b.m);
  assert.equal(p.b.m.drops.restart_refused, 1000);
  assert.deepEqual(p.b.m.dump(), before);
});

test('a forged or stale COOKIE-ECHO makes no association', () => {
  const a = assoc('ca', { cookieLifetimeMs: 1000 });
  const b = assoc('cb', { cookieLifetimeMs: 1000 });
  a.connect(0);
  b.handle(a.pollTransmit()!, 0);
  const initAck = b.pollTransmit()!;
  a.handle(initAck, 0);
  const echo = a.pollTransmit()!;
  const forged = Buffer.from(echo);
  forged[12 + 4 + 20] ^= 1; // inside the cookie's signed body
  b.handle(reseal(forged), 10);
  assert.equal(b.drops.bad_cookie, 1);
  b.handle(echo, 5000);
  assert.equal(b.drops.stale_cookie, 1);
  assert.equal(b.state, 'closed');
  b.handle(echo, 500);
  assert.equal(b.state, 'established', 'the genuine cookie within its lifetime works');
});

test('a peer that never reads (zero window, no SACK) cannot grow our send buffer past its limit', () => {
  const { p, budget } = established(34);
  const usedBefore = budget.used;
  // From now on b's packets say "window 0" and acknowledge nothing new.
  const send = p.net.send.bind(p.net);
  p.net.send = (d, now) => {
    if (d.from === p.b.address) return;
    send(d, now);
  };
  const a = p.a.m;
  let accepted = 0;
  let refused = 0;
  for (let round = 0; round < 50 && a.state === 'established'; round++) {
    for (let i = 0; i < 20; i++) {
      if (a.send(1, 53, Buffer.alloc(4000), {}, p.clock.now())) accepted++;
      else refused++;
    }
    p.a.pump(p.clock.now());
    assert.ok(a.bufferedAmount <= LIMITS.maxSendBufferBytes);
    const t0 = p.clock.now();
    p.run(() => p.clock.now() >= t0 + 500 || a.state !== 'established', 200_000);
  }
  assert.ok(refused > 0 && accepted <= LIMITS.maxSendBufferBytes / 4000 + 1, `accepted ${accepted}, refused ${refused}`);
  p.run(() => a.state === 'closed', 600_000, 'peer declared unreachable');
  const closed = p.a.events.find((e: SctpEvent) => e.type === 'closed');
  assert.equal(closed?.type === 'closed' && closed.error?.code, SctpCode.peerUnreachable);
  assert.equal(a.bufferedAmount, 0, 'everything given back');
  assert.ok(budget.used <= usedBefore, 'the shared budget got its bytes back');
});

test('a peer advertising a zero window gets one probe chunk at a time', () => {
  const { p } = established(35);
  const send = p.net.send.bind(p.net);
  let dataPackets = 0;
  p.net.send = (d, now) => {
    if (d.from === p.b.address) {
      // Rewrite every SACK's a_rwnd to 0 (chunk value offset 4 of the first chunk).
      const q = Buffer.from(d.data);
      if (q[12] === 3) q.writeUInt32BE(0, 20);
      send({ ...d, data: reseal(q) }, now);
      return;
    }
    if (d.data[12] === 0) dataPackets++;
    send(d, now);
  };
  const a = p.a.m;
  // One SACK with window 0 first.
  a.send(1, 53, Buffer.alloc(10), {}, p.clock.now());
  p.a.pump(p.clock.now());
  p.run(() => a.dump().peerRwnd === 0 && a.dump().outstandingChunks === 0, 5000);
  dataPackets = 0;
  for (let i = 0; i < 20; i++) a.send(1, 53, Buffer.alloc(1000), {}, p.clock.now());
  p.a.pump(p.clock.now());
  assert.equal(dataPackets, 1, 'only the zero-window probe goes out');
  assert.ok(a.dump().outstandingChunks <= 1);
});

test('a peer that sends fragments and never finishes cannot grow reassembly past its limit', () => {
  const { p, captured, budget } = established(36);
  const b = p.b.m;
  // b's tag and a's next TSN come from a real DATA packet a sent.
  const last = [...captured].reverse().find((c) => c[12] === 0)!;
  const vtag = last.readUInt32BE(4);
  let tsn = last.readUInt32BE(16) + 1;
  const now = p.clock.now();
  // Partial messages on many streams, each under max-message-size, in order of TSN but none ending.
  const frag = Buffer.alloc(1100, 7);
  let delivered = 0;
  for (let s = 10; s < 200; s++) {
    for (let k = 0; k < 50; k++) {
      b.handle(seal(vtag, [dataChunk(k === 0 ? 0x06 : 0x04, tsn >>> 0, s, 0, 53, frag)]), now);
      // Unordered fragments with a gap: TSNs stay non-consecutive per stream after the first.
      tsn += 2;
      for (let e = b.pollEvent(); e !== undefined; e = b.pollEvent()) if (e.type === 'message') delivered++;
      discard(b);
      withinLimits(b, budget);
    }
  }
  assert.equal(delivered, 0);
  assert.ok(b.drops.receive_window_full > 0 || b.drops.tsn_out_of_window > 0);
  assert.ok(b.dump().reassemblyBytes <= LIMITS.maxReassemblyBytes + IN_SEQUENCE_HEADROOM);
});

test('a message that never ends past max-message-size is a protocol violation: ABORT, memory freed', () => {
  const { p, captured, budget } = established(37);
  const b = p.b.m;
  const last = [...captured].reverse().find((c) => c[12] === 0)!;
  const vtag = last.readUInt32BE(4);
  let tsn = last.readUInt32BE(16) + 1;
  const frag = Buffer.alloc(1100, 9);
  const events: SctpEvent[] = [];
  for (let k = 0; k < 200 && b.state === 'established'; k++) {
    b.handle(seal(vtag, [dataChunk(k === 0 ? 0x02 : 0x00, tsn++ >>> 0, 1, 0, 53, frag)]), p.clock.now());
    for (let e = b.pollEvent(); e !== undefined; e = b.pollEvent()) events.push(e);
    discard(b);
  }
  assert.equal(b.state, 'closed');
  assert.ok(events.some((e) => e.type === 'closed' && e.error?.code === SctpCode.protocolViolation));
  assert.equal(b.dump().reassemblyBytes, 0);
  assert.ok(budget.used <= p.a.m.bufferedAmount, 'b holds nothing in the budget');
});
