// The per-token limits (src/relay/token-flows.ts) over a real FlowTable, socket-free: the
// unconfirmed pool is bounded per token and in total and cannot push confirmed flows out,
// unconfirmed flows go after their time, a token keeps at most its cap of confirmed flows (the
// least recently seen go), and a revoked token loses every flow.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FlowTable } from '../../src/relay/flow-table.ts';
import type { JsFlow } from '../../src/relay/flow-table.ts';
import type { RemovalReason } from '../../src/relay/stats.ts';
import { TokenFlows } from '../../src/relay/token-flows.ts';
import { v4 } from './helpers.ts';

const LIMITS = { flowsPerToken: 3, unconfirmedPerToken: 2, unconfirmedPool: 5, unconfirmedMs: 5000 };
const pub = v4('192.0.2.1', 3478);
const dest = v4('127.0.0.5', 7000);

function setup(): { table: FlowTable; tf: TokenFlows; removed: RemovalReason[]; add(ufrag: string, port: number, now: number): JsFlow } {
  const table = new FlowTable({ maxFlows: 1000, idleMs: 60_000 });
  const tf = new TokenFlows(LIMITS);
  const removed: RemovalReason[] = [];
  return {
    table,
    tf,
    removed,
    add(ufrag, port, now) {
      tf.makeRoom(table, ufrag, (r) => removed.push(r));
      const r = table.insert({ client: v4('198.51.100.1', port), publicIndex: 0, public: pub, dest, ufrag, confirmed: false }, now);
      assert.ok(r.kind !== 'full');
      tf.track(r.flow, now);
      return r.flow;
    },
  };
}

test('a token holds at most unconfirmedPerToken unconfirmed flows; the oldest goes', () => {
  const s = setup();
  for (let p = 1; p <= 10; p++) s.add('A', p, p);
  assert.equal(s.table.size, LIMITS.unconfirmedPerToken);
  assert.ok(s.table.get('198.51.100.1', 10, 0) && s.table.get('198.51.100.1', 9, 0), 'the newest stay');
  assert.equal(s.removed.filter((r) => r === 'unconfirmed_per_token').length, 8);
});

test('the pool is bounded in total, and filling it never removes a confirmed flow', () => {
  const s = setup();
  const confirmed = s.add('victim', 1, 0);
  confirmed.confirmed = true;
  for (let i = 0; i < 50; i++) s.add(`attacker${i}`, 100 + i, i);
  assert.equal(s.table.size, 1 + LIMITS.unconfirmedPool);
  assert.equal(s.table.get('198.51.100.1', 1, 0), confirmed, 'the confirmed flow stays');
  assert.ok(s.removed.every((r) => r === 'unconfirmed_pool_full'));
});

test('unconfirmed flows go after unconfirmedMs; confirmed ones stay', () => {
  const s = setup();
  const a = s.add('A', 1, 0);
  s.add('B', 2, 0);
  a.confirmed = true;
  s.tf.tick(s.table, LIMITS.unconfirmedMs - 1, (r) => s.removed.push(r));
  assert.equal(s.table.size, 2);
  s.tf.tick(s.table, LIMITS.unconfirmedMs, (r) => s.removed.push(r));
  assert.equal(s.table.size, 1);
  assert.deepEqual(s.removed, ['unconfirmed_timeout']);
  assert.ok(s.tf.has(s.table, 'A') && !s.tf.has(s.table, 'B'));
});

test('confirmed flows over the cap: the least recently seen go (at the tick, and never more than cap + unconfirmed at once)', () => {
  const s = setup();
  const flows: JsFlow[] = [];
  for (let p = 1; p <= 8; p++) {
    const f = s.add('A', p, p);
    f.confirmed = true; // the transceiver answered
    f.lastSeen = 100 - p; // the newest address was seen least recently: order is by lastSeen, not age
    flows.push(f);
    assert.ok(s.table.size <= LIMITS.flowsPerToken + LIMITS.unconfirmedPerToken, `${s.table.size} flows`);
  }
  s.tf.tick(s.table, 200, (r) => s.removed.push(r));
  assert.equal(s.table.size, LIMITS.flowsPerToken);
  for (const f of flows.slice(0, 3)) assert.equal(s.table.get(f.clientAddress, f.clientPort, 0), f, 'the most recently seen stay');
  assert.ok(s.removed.every((r) => r === 'token_cap'));
});

test('release removes every flow of a revoked token and no other', () => {
  const s = setup();
  s.add('A', 1, 0).confirmed = true;
  s.add('A', 2, 0);
  s.add('B', 3, 0);
  s.tf.release(s.table, 'A', (r) => s.removed.push(r));
  assert.deepEqual(s.removed, ['revoked', 'revoked']);
  assert.equal(s.table.size, 1);
  assert.ok(!s.tf.has(s.table, 'A') && s.tf.has(s.table, 'B'));
  s.tf.prune(s.table);
  assert.equal(s.tf.tokens, 1);
});
