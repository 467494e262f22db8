// test/support/netem.ts: each impairment at its configured rate over many datagrams, the same
// fate for every datagram under the same seed, reordering that really reorders, and NAT
// rebinding that kills the old mapping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../src/core/address.ts';
import { Netem } from './netem.ts';
import type { Datagram, LinkProfile } from './netem.ts';

const A: TransportAddress = { address: '192.0.2.1', port: 1000, family: 'IPv4' };
const B: TransportAddress = { address: '198.51.100.2', port: 2000, family: 'IPv4' };
const NAT1: TransportAddress = { address: '203.0.113.9', port: 40000, family: 'IPv4' };
const NAT2: TransportAddress = { address: '203.0.113.9', port: 40001, family: 'IPv4' };

interface Arrival {
  n: number;
  at: number;
  from: string;
  to: string;
}

/** Sends `count` numbered datagrams A → B, one every `gapMs`, and delivers everything. */
function run(profile: LinkProfile, count: number, o: { seed?: number; gapMs?: number } = {}): { net: Netem; got: Arrival[] } {
  const net = new Netem({ seed: o.seed ?? 1, profile });
  const got: Arrival[] = [];
  net.attach(B, (d, now) =>
    got.push({ n: d.data.readUInt32BE(0), at: now, from: `${d.from.address}:${d.from.port}`, to: `${d.to.address}:${d.to.port}` }),
  );
  const gap = o.gapMs ?? 1;
  for (let n = 0; n < count; n++) {
    const data = Buffer.alloc(4);
    data.writeUInt32BE(n);
    const now = n * gap;
    drainUntil(net, now);
    net.send({ from: A, to: B, data }, now);
  }
  drainUntil(net, Infinity);
  return { net, got };
}

/** Delivers at each deadline up to `t`, as a driver would. */
function drainUntil(net: Netem, t: number): void {
  for (let d = net.nextDeadline(); d !== undefined && d <= t; d = net.nextDeadline()) net.deliver(d);
}

/** Within `k` standard deviations of a binomial(n, p) count. */
function assertRate(observed: number, n: number, p: number, what: string, k = 4): void {
  const sd = Math.sqrt(n * p * (1 - p));
  assert.ok(
    Math.abs(observed - n * p) <= k * sd + 1,
    `${what}: ${observed} of ${n}, expected ≈ ${Math.round(n * p)} ± ${Math.round(k * sd)}`,
  );
}

test('a clean link delivers every datagram after the latency, in order, as a copy of what was sent', () => {
  const net = new Netem({ seed: 7, profile: { latencyMs: 25 } });
  const got: Array<{ d: Datagram; now: number }> = [];
  net.attach(B, (d, now) => got.push({ d, now }));
  const data = Buffer.from('hello');
  net.send({ from: A, to: B, data }, 100);
  data.fill(0);
  assert.equal(net.nextDeadline(), 125);
  assert.equal(net.deliver(124), 0);
  assert.equal(net.deliver(125), 1);
  assert.equal(got[0].now, 125);
  assert.equal(got[0].d.data.toString(), 'hello', 'send() copies: the sender may reuse its buffer');
  assert.deepEqual(got[0].d.from, A);
  assert.deepEqual(got[0].d.to, B);
  assert.equal(net.nextDeadline(), undefined);
  const { net: many, got: arrivals } = run({ latencyMs: 10 }, 1000);
  assert.deepEqual(
    arrivals.map((a) => a.n),
    [...Array(1000).keys()],
  );
  assert.ok(arrivals.every((a) => a.at === a.n + 10));
  assert.deepEqual(many.stats, { sent: 1000, lost: 0, unreachable: 0, duplicated: 0, reordered: 0, delivered: 1000 });
});

test('Bernoulli loss drops its share of datagrams', () => {
  const { net, got } = run({ latencyMs: 5, loss: 0.1 }, 20_000);
  assertRate(net.stats.lost, 20_000, 0.1, 'lost');
  assert.equal(got.length + net.stats.lost, 20_000);
  assert.equal(net.stats.delivered, got.length);
});

test('Gilbert-Elliott loss comes in bursts of the configured mean length at the stationary rate', () => {
  // π_bad = p / (p + r) = 0.02 / 0.27 ≈ 7.4 %; mean burst = 1 / r = 4 datagrams.
  const ge = { pGoodToBad: 0.02, pBadToGood: 0.25 };
  const count = 50_000;
  const { net, got } = run({ loss: ge }, count, { seed: 3 });
  const arrived = new Set(got.map((a) => a.n));
  const bursts: number[] = [];
  let runLen = 0;
  for (let n = 0; n < count; n++) {
    if (!arrived.has(n)) runLen++;
    else if (runLen > 0) {
      bursts.push(runLen);
      runLen = 0;
    }
  }
  const rate = net.stats.lost / count;
  assert.ok(Math.abs(rate - 0.02 / 0.27) < 0.015, `loss rate ${rate}`);
  const mean = bursts.reduce((s, b) => s + b, 0) / bursts.length;
  assert.ok(mean > 3.3 && mean < 4.7, `mean burst ${mean}`);
  // Bernoulli loss at the same rate would make bursts of mean ≈ 1.08.
  const bern = run({ loss: rate }, count, { seed: 3 });
  const bernArrived = new Set(bern.got.map((a) => a.n));
  let bernBursts = 0;
  for (let n = 0; n < count; n++) if (!bernArrived.has(n) && (n === 0 || bernArrived.has(n - 1))) bernBursts++;
  assert.ok(bern.net.stats.lost / bernBursts < 1.2, 'independent losses are mostly single');
  // lossGood / lossBad: a bad state that loses half, a good one that loses nothing.
  const half = run({ loss: { pGoodToBad: 1, pBadToGood: 0, lossBad: 0.5 } }, 10_000, { seed: 4 });
  assertRate(half.net.stats.lost, 10_000, 0.5, 'lossBad 0.5');
});

test('duplication delivers extra copies at its rate, each right behind its original', () => {
  const { net, got } = run({ latencyMs: 10, jitterMs: 5, duplicate: 0.05 }, 20_000);
  assertRate(net.stats.duplicated, 20_000, 0.05, 'duplicated');
  assert.equal(got.length, 20_000 + net.stats.duplicated);
  const order = got.map((a) => a.n).filter((n, i, all) => i === 0 || all[i - 1] !== n);
  assert.deepEqual(order, [...Array(20_000).keys()], 'removing adjacent copies leaves the sent sequence');
  assert.equal(net.stats.reordered, 0, 'a copy does not count as reordering');
});

test('jitter spreads the delay within ±jitterMs but never reorders a link', () => {
  const { net, got } = run({ latencyMs: 30, jitterMs: 10 }, 5000, { gapMs: 20 });
  assert.deepEqual(
    got.map((a) => a.n),
    [...Array(5000).keys()],
  );
  const delays = got.map((a) => a.at - a.n * 20);
  assert.ok(
    delays.every((d) => d >= 20 && d <= 40),
    `delays ${Math.min(...delays)}..${Math.max(...delays)}`,
  );
  assert.ok(Math.max(...delays) - Math.min(...delays) > 15, 'the delay varies');
  assert.equal(net.stats.reordered, 0);
  // Sent faster than the jitter, datagrams queue behind each other instead of overtaking.
  const fast = run({ latencyMs: 30, jitterMs: 10 }, 2000, { gapMs: 1 });
  assert.deepEqual(
    fast.got.map((a) => a.n),
    [...Array(2000).keys()],
  );
});

test('reordering holds datagrams back so later ones overtake them', () => {
  const { net, got } = run({ latencyMs: 10, reorder: 0.1, reorderExtraMs: 15 }, 10_000, { gapMs: 5 });
  assert.equal(got.length, 10_000);
  let outOfOrder = 0;
  let highest = -1;
  for (const a of got) {
    if (a.n < highest) outOfOrder++;
    highest = Math.max(highest, a.n);
  }
  assert.equal(net.stats.reordered, outOfOrder);
  const late = got.filter((a) => a.at - a.n * 5 === 25);
  assert.ok(
    got.every((a) => a.at - a.n * 5 === 10 || a.at - a.n * 5 === 25),
    'on time, or reorderExtraMs late',
  );
  assertRate(late.length, 10_000, 0.1, 'held back');
  // Only a held-back datagram whose followers were held back too is not overtaken.
  assert.ok(outOfOrder <= late.length && outOfOrder > late.length * 0.95, `${outOfOrder} overtaken of ${late.length} held back`);
});

test('the same seed gives every datagram the same fate; another seed does not; the other direction does not shift it', () => {
  const profile: LinkProfile = { latencyMs: 20, jitterMs: 8, loss: 0.2, duplicate: 0.1, reorder: 0.1 };
  const a = run(profile, 3000, { seed: 42 });
  const b = run(profile, 3000, { seed: 42 });
  const c = run(profile, 3000, { seed: 43 });
  assert.deepEqual(b.got, a.got);
  assert.deepEqual(b.net.stats, a.net.stats);
  assert.notDeepEqual(c.got, a.got);
  const named = (seed: string): number[] => {
    const net = new Netem({ seed, profile: { loss: 0.5 } });
    const got: number[] = [];
    net.attach(B, (d) => got.push(d.data[0]));
    for (let n = 0; n < 64; n++) net.send({ from: A, to: B, data: Buffer.from([n]) }, 0);
    net.deliver(0);
    return got;
  };
  assert.deepEqual(named('lossy-7'), named('lossy-7'), 'a string seed is a seed too');
  assert.notDeepEqual(named('lossy-7'), named('lossy-8'));
  // The same A → B traffic, interleaved with B → A traffic: A → B fates are unchanged.
  const net = new Netem({ seed: 42, profile });
  const got: Arrival[] = [];
  net.attach(B, (d, now) =>
    got.push({ n: d.data.readUInt32BE(0), at: now, from: `${d.from.address}:${d.from.port}`, to: `${d.to.address}:${d.to.port}` }),
  );
  net.attach(A, () => {});
  for (let n = 0; n < 3000; n++) {
    drainUntil(net, n);
    const data = Buffer.alloc(4);
    data.writeUInt32BE(n);
    net.send({ from: A, to: B, data }, n);
    if (n % 3 === 0) net.send({ from: B, to: A, data }, n);
  }
  drainUntil(net, Infinity);
  assert.deepEqual(got, a.got);
});

test('a NAT rewrites the source, maps replies back, and a rebinding kills the old mapping at once', () => {
  const net = new Netem({ seed: 1, profile: { latencyMs: 10 } });
  const atA: Datagram[] = [];
  const atB: Datagram[] = [];
  net.attach(A, (d) => atA.push(d));
  net.attach(B, (d) => atB.push(d));
  net.nat(A, NAT1);
  net.send({ from: A, to: B, data: Buffer.from('up') }, 0);
  net.deliver(10);
  assert.deepEqual(atB[0].from, NAT1, 'the far side sees the outside address');
  net.send({ from: B, to: NAT1, data: Buffer.from('reply') }, 10);
  net.deliver(20);
  assert.deepEqual(
    atA.map((d) => d.data.toString()),
    ['reply'],
  );
  assert.deepEqual(atA[0].to, A, 'the NAT rewrites the destination to the inside address');
  assert.deepEqual(atA[0].from, B);
  // In flight to NAT1 while the NAT rebinds: lost, as is anything sent to NAT1 afterwards.
  net.send({ from: B, to: NAT1, data: Buffer.from('in flight') }, 20);
  net.nat(A, NAT2);
  net.send({ from: B, to: NAT1, data: Buffer.from('stale') }, 21);
  net.send({ from: B, to: A, data: Buffer.from('to the inside address') }, 21);
  net.send({ from: A, to: B, data: Buffer.from('after') }, 21);
  net.send({ from: B, to: NAT2, data: Buffer.from('new mapping') }, 22);
  assert.equal(net.deliver(40), 2);
  assert.deepEqual(
    atA.map((d) => d.data.toString()),
    ['reply', 'new mapping'],
  );
  assert.deepEqual(atB.at(-1)!.from, NAT2, 'after rebinding the far side sees the new address');
  assert.equal(net.stats.unreachable, 3);
  assert.equal(net.stats.lost, 3);
});

test('a datagram to an address nobody attached is counted lost, not thrown', () => {
  const net = new Netem({ seed: 1, profile: { latencyMs: 5 } });
  net.send({ from: A, to: B, data: Buffer.from('x') }, 0);
  assert.equal(net.deliver(5), 0);
  assert.equal(net.stats.lost, 1);
  assert.equal(net.stats.unreachable, 1);
  net.attach(B, () => {});
  net.send({ from: A, to: B, data: Buffer.from('y') }, 5);
  net.detach(B);
  assert.equal(net.deliver(10), 0);
  assert.equal(net.stats.lost, 2);
});

test('a scoped profile impairs one direction only; the most specific scope wins', () => {
  const net = new Netem({ seed: 9, profile: { latencyMs: 10 } });
  const got = { a: 0, b: 0 };
  net.attach(A, () => got.a++);
  net.attach(B, () => got.b++);
  net.setProfile({ latencyMs: 10, loss: 1 }, { from: A });
  net.setProfile({ latencyMs: 50 }, { from: A, to: B });
  net.send({ from: A, to: B, data: Buffer.alloc(1) }, 0);
  assert.equal(net.nextDeadline(), 50, 'from+to beats from');
  net.setProfile({ latencyMs: 10, loss: 1 }, { from: A, to: B });
  for (let n = 0; n < 100; n++) {
    net.send({ from: A, to: B, data: Buffer.alloc(1) }, n);
    net.send({ from: B, to: A, data: Buffer.alloc(1) }, n);
  }
  net.deliver(1000);
  assert.deepEqual(got, { a: 100, b: 1 });
  net.setProfile({ latencyMs: 1 });
  net.send({ from: A, to: B, data: Buffer.alloc(1) }, 1000);
  net.deliver(1001);
  assert.equal(got.b, 2, 'an unscoped profile clears the scoped ones');
});

test('deliver() hands over replies that fall due within the same call, in arrival order', () => {
  const net = new Netem({ seed: 1 });
  const seen: string[] = [];
  net.attach(B, (d, now) => {
    seen.push(`B:${d.data}@${now}`);
    if (d.data.toString() === 'ping') net.send({ from: B, to: A, data: Buffer.from('pong') }, now);
  });
  net.attach(A, (d, now) => seen.push(`A:${d.data}@${now}`));
  net.setProfile({ latencyMs: 5 }, { from: A });
  net.send({ from: A, to: B, data: Buffer.from('ping') }, 0);
  net.send({ from: A, to: B, data: Buffer.from('second') }, 1);
  assert.equal(net.deliver(10), 3);
  assert.deepEqual(seen, ['B:ping@10', 'B:second@10', 'A:pong@10']);
  assert.deepEqual(net.stats, { sent: 3, lost: 0, unreachable: 0, duplicated: 0, reordered: 0, delivered: 3 });
});
