// The pure routing decisions (src/relay/route.ts), socket-free: flow creation only from a
// verified STUN check, one drop reason per failure, the return path only to live flows.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { FlowTable } from '../../src/relay/flow-table.ts';
import type { JsFlow } from '../../src/relay/flow-table.ts';
import { KeyedTokenBuckets } from '../../src/core/rate-limit.ts';
import { RevokedTokens } from '../../src/relay/revoked-tokens.ts';
import { TokenFlows } from '../../src/relay/token-flows.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import type { RouteContext } from '../../src/relay/route.ts';
import {
  FIRST_FLOW_WINDOW_MS,
  REPLACE_DEAD_FLOW_AFTER_MS,
  admitLate,
  publicMatchers,
  rateKey,
  recoverFlow,
  routeFromClient,
  routeFromTransceiver,
} from '../../src/relay/route.ts';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_TOKEN_LIFETIME_MS, Keyring, mint } from '../../src/core/token/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { keyring, mintFor, rtp, stunCheck, v4 } from './helpers.ts';

const NOW = 1_800_000_000_000;
const pub = v4('192.0.2.1', 3478);
const dest = v4('127.0.0.5', 7000);
const client = v4('198.51.100.9', 40000);

function ctx(o: { maxFlows?: number; burst?: number; maxKeys?: number } = {}): RouteContext<JsFlow> & { table: FlowTable } {
  return {
    keyring,
    table: new FlowTable({ maxFlows: o.maxFlows ?? 100, idleMs: 60_000 }),
    newFlowLimiter: new KeyedTokenBuckets({ ratePerSecond: 10, burst: o.burst ?? 20, maxKeys: o.maxKeys ?? 1000 }),
    publics: [pub],
    transceiverAllowed: CidrSet.parse('127.0.0.0/8,::1/128').matcher(),
    tokenFlows: new TokenFlows(),
    revoked: new RevokedTokens(),
    removed: () => {},
  };
}

test('a verified STUN check creates a flow; later packets from that address forward by lookup', () => {
  const c = ctx();
  const { ufrag, pwd } = mintFor(dest, NOW);
  const r = routeFromClient(c, stunCheck(ufrag, pwd), client, 0, NOW);
  assert.equal(r.kind, 'created');
  assert.ok(r.kind === 'created');
  assert.equal(r.flow.destAddress, dest.address);
  assert.equal(r.flow.destPort, dest.port);
  const next = routeFromClient(c, rtp(1), client, 0, NOW + 20);
  assert.equal(next.kind, 'forward');
  assert.equal(next.kind === 'forward' && next.flow, r.flow);
});

test('drop reasons: forged token, flipped character, wrong password, non-STUN, garbage, oversize', () => {
  const c = ctx();
  const { ufrag, pwd } = mintFor(dest, NOW);
  const reason = (p: Buffer, from = client): string => {
    const r = routeFromClient(c, p, from, 0, NOW);
    return r.kind === 'drop' ? r.reason : r.kind;
  };
  assert.equal(reason(stunCheck('AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA', pwd)), 'token_unsupported_version');
  const i = 10;
  const flipped = ufrag.slice(0, i) + (ufrag[i] === 'A' ? 'B' : 'A') + ufrag.slice(i + 1);
  assert.equal(reason(stunCheck(flipped, pwd)), 'token_bad_tag');
  assert.equal(reason(stunCheck(ufrag, 'x'.repeat(24))), 'bad_integrity');
  assert.equal(reason(stunCheck(`${ufrag}`, pwd).subarray(0, 20)), 'not_stun');
  assert.equal(reason(Buffer.from('hello garbage')), 'not_stun');
  assert.equal(reason(rtp(1)), 'lookup');
  assert.equal(reason(Buffer.alloc(1501, 0x80)), 'too_large');
  assert.equal(c.table.size, 0);
});

test('each way a token fails to open has its own drop reason (a rotated-away key is not an expired token)', () => {
  const c = ctx();
  let port = 30000;
  const reason = (ufrag: string, pwd = 'x'.repeat(24), now = NOW): string => {
    const r = routeFromClient(c, stunCheck(ufrag, pwd), v4('198.51.100.20', port++), 0, now);
    return r.kind === 'drop' ? r.reason : r.kind;
  };
  const good = mintFor(dest, NOW);
  assert.equal(reason(good.ufrag, good.pwd), 'created');
  const at = (ms: number): string => mintFor(dest, ms).ufrag;
  assert.equal(reason(at(NOW - DEFAULT_TOKEN_LIFETIME_MS - 1000)), 'token_expired');
  assert.equal(reason(at(NOW + DEFAULT_CLOCK_SKEW_MS + 10_000)), 'token_not_yet_valid');
  const other = mint(dest, Keyring.generate(seededRng('another deployment'), 99), NOW, seededRng('n'));
  assert.equal(reason(other.ufrag, other.pwd), 'token_unknown_key');
  assert.equal(reason(good.ufrag.slice(0, 40)), 'token_bad_tag', 'truncated');
  assert.equal(reason('BQc' + good.ufrag.slice(3)), 'token_unsupported_version');
  assert.equal(reason('not!ice*chars'), 'token_malformed');
  assert.equal(reason(''), 'token_malformed', 'USERNAME without a server ufrag');
  assert.equal(c.table.size, 1);
});

test('a token naming a destination outside the transceiver networks is refused', () => {
  const c = ctx();
  const { ufrag, pwd } = mintFor(v4('10.1.2.3', 7000), NOW);
  const r = routeFromClient(c, stunCheck(ufrag, pwd), client, 0, NOW);
  assert.deepEqual(r, { kind: 'drop', reason: 'disallowed_destination' });
});

test('rate limit per source IP holds under a flood, and the limiter memory stays bounded', () => {
  const c = ctx({ burst: 5, maxKeys: 50 });
  const { ufrag, pwd } = mintFor(dest, NOW);
  const check = stunCheck(ufrag, pwd);
  let created = 0;
  let limited = 0;
  for (let p = 0; p < 1000; p++) {
    const r = routeFromClient(c, check, v4('198.51.100.9', 10000 + p), 0, NOW);
    if (r.kind === 'created') created++;
    if (r.kind === 'drop' && r.reason === 'rate_limited') limited++;
  }
  assert.equal(created, 5);
  assert.equal(limited, 995);
  for (let h = 0; h < 5000; h++) routeFromClient(c, check, v4(`10.${h >> 8}.${h & 255}.1`, 1), 0, NOW);
  assert.ok(c.newFlowLimiter.size <= 50);
});

test('table full: the cap holds and the drop is named', () => {
  const c = ctx({ maxFlows: 3 });
  const results = [0, 1, 2, 3].map((p) => {
    const { ufrag, pwd } = mintFor(dest, NOW);
    return routeFromClient(c, stunCheck(ufrag, pwd), v4('198.51.100.9', 20000 + p), 0, NOW);
  });
  assert.deepEqual(
    results.map((r) => r.kind),
    ['created', 'created', 'created', 'drop'],
  );
  assert.deepEqual(results[3], { kind: 'drop', reason: 'table_full' });
});

test('NAT rebinding: the same token from a new address makes a second flow', () => {
  const c = ctx();
  const { ufrag, pwd } = mintFor(dest, NOW);
  assert.equal(routeFromClient(c, stunCheck(ufrag, pwd), client, 0, NOW).kind, 'created');
  assert.equal(routeFromClient(c, stunCheck(ufrag, pwd), v4('203.0.113.50', 5000), 0, NOW).kind, 'created');
  assert.equal(c.table.size, 2);
});

test('return path: only from allowed transceivers, only to clients with a flow to that transceiver', () => {
  const c = ctx();
  const m = publicMatchers(c.publics);
  const { ufrag, pwd } = mintFor(dest, NOW);
  routeFromClient(c, stunCheck(ufrag, pwd), client, 0, NOW);
  const pkt = (to = client, from = pub): Buffer => Buffer.concat([encodeRelayHeader(to, from), rtp(9)]);
  const r = routeFromTransceiver(c, m, pkt(), dest);
  assert.equal(r.kind, 'forward');
  const reason = (p: Buffer, src = dest): string => {
    const x = routeFromTransceiver(c, m, p, src);
    return x.kind === 'drop' ? x.reason : x.kind;
  };
  assert.equal(reason(pkt(), v4('10.0.0.1', 7000)), 'disallowed_source');
  assert.equal(reason(pkt(), v4('127.0.0.6', 7000)), 'unknown_flow');
  assert.equal(reason(pkt(v4('8.8.8.8', 53))), 'unknown_flow');
  assert.equal(reason(pkt(client, v4('192.0.2.2', 3478))), 'unknown_flow');
  assert.equal(reason(rtp(1)), 'bad_header');
  assert.equal(reason(Buffer.concat([encodeRelayHeader(client, pub, 'tcp'), rtp(9)])), 'bad_header', 'a TCP client is not a UDP flow');
  assert.equal(reason(Buffer.concat([encodeRelayHeader(client, pub), Buffer.alloc(1501)])), 'too_large');
});

test('recovered flows re-open their token: a tampered store record cannot name a destination', () => {
  const c = ctx();
  const { ufrag } = mintFor(dest, NOW);
  const ok = recoverFlow(c, client, 0, ufrag, NOW);
  assert.ok('flow' in ok && ok.flow.destPort === 7000);
  assert.deepEqual(recoverFlow(c, v4('198.51.100.10', 1), 0, 'AAAA' + ufrag.slice(4), NOW), { reason: 'token_unsupported_version' });
  assert.deepEqual(
    recoverFlow(c, v4('198.51.100.10', 2), 0, ufrag, NOW + DEFAULT_TOKEN_LIFETIME_MS),
    { reason: 'token_expired' },
    'a stored token past its lifetime',
  );
});

test('idle flows expire; live ones stay; a flow seen since its last store write is handed back for a refresh', () => {
  const c = ctx();
  const { ufrag, pwd } = mintFor(dest, NOW);
  routeFromClient(c, stunCheck(ufrag, pwd), client, 0, NOW);
  routeFromClient(c, stunCheck(ufrag, pwd), v4('198.51.100.11', 1), 0, NOW);
  const live = c.table.get('198.51.100.11', 1, 0);
  assert.ok(live);
  live.lastSeen = NOW + 50_000;
  const due: string[] = [];
  assert.equal(
    c.table.sweep(NOW + 60_000, 30_000, (f) => due.push(`${f.clientAddress}:${f.clientPort}`)),
    1,
  );
  assert.equal(c.table.size, 1);
  assert.equal(c.table.get(client.address, client.port, 0), undefined);
  assert.deepEqual(due, ['198.51.100.11:1'], 'the live flow, written at NOW and seen since');
  assert.equal(
    c.table.sweep(NOW + 60_001, 30_000, () => assert.fail('just written')),
    0,
  );
});

test('a check for another call from a known address replaces the flow only once it is dead (consent timeout: address reused), never a live one', () => {
  const c = ctx();
  const first = mintFor(dest, NOW);
  const other = v4('127.0.0.6', 7000);
  // Minted later (within its first-flow window when it takes the address; early is within the clock skew).
  const second = mintFor(other, NOW + 40_000);
  const created = routeFromClient(c, stunCheck(first.ufrag, first.pwd), client, 0, NOW);
  assert.ok(created.kind === 'created');
  // Live: media 1 s ago. The other call's valid check goes where the flow goes (as before).
  assert.equal(routeFromClient(c, rtp(1), client, 0, NOW + 1000).kind, 'forward');
  const live = routeFromClient(c, stunCheck(second.ufrag, second.pwd), client, 0, NOW + 1000 + REPLACE_DEAD_FLOW_AFTER_MS - 1);
  assert.ok(live.kind === 'takeover_refused' && live.flow === created.flow, 'a live flow is not replaced');
  // The flow's own consent check keeps it alive and is forwarded.
  const t1 = NOW + 1000 + REPLACE_DEAD_FLOW_AFTER_MS - 1;
  const own = routeFromClient(c, stunCheck(first.ufrag, first.pwd), client, 0, t1);
  assert.ok(own.kind === 'forward' && own.flow === created.flow);
  // Silent for the threshold: a check with a bad password or a forged token does not replace it…
  const t2 = t1 + REPLACE_DEAD_FLOW_AFTER_MS;
  const bad = routeFromClient(c, stunCheck(second.ufrag, 'x'.repeat(24)), client, 0, t2);
  assert.ok(bad.kind === 'drop' && bad.reason === 'bad_integrity');
  assert.equal(c.table.get(client.address, client.port, 0), created.flow, 'the old flow stays after a refused check');
  // …a valid one for the other call does: the address now belongs to that call.
  const replaced = routeFromClient(c, stunCheck(second.ufrag, second.pwd), client, 0, t2);
  assert.ok(replaced.kind === 'created' && replaced.replaced, JSON.stringify(replaced));
  assert.equal(replaced.flow.destAddress, other.address);
  assert.equal(c.table.get(client.address, client.port, 0), replaced.flow);
  assert.equal(c.table.size, 1);
  const media = routeFromClient(c, rtp(2), client, 0, t2 + 20);
  assert.ok(media.kind === 'forward' && media.flow === replaced.flow, 'media follows the new flow');
});

test('new-flow rate limit: per IPv4 address, per /64 for IPv6 sources', () => {
  assert.equal(rateKey('198.51.100.9'), '198.51.100.9');
  assert.equal(rateKey('2001:db8:1:2::5'), rateKey('2001:db8:1:2:ffff:ffff:ffff:1'));
  assert.notEqual(rateKey('2001:db8:1:2::5'), rateKey('2001:db8:1:3::5'));
  const c = ctx({ burst: 3 });
  const { ufrag, pwd } = mintFor(dest, NOW);
  const kinds = [1, 2, 3, 4].map((h) =>
    routeFromClient(c, stunCheck(ufrag, pwd), { address: `2001:db8:1:2::${h}`, port: 5000, family: 'IPv6' }, 0, NOW),
  );
  assert.deepEqual(
    kinds.map((r) => (r.kind === 'drop' ? r.reason : r.kind)),
    ['created', 'created', 'created', 'rate_limited'],
  );
});

test('a revoked token opens no flow; a token past its first-flow window asks the store unless a flow of it is held here', () => {
  const c = ctx();
  const revoked = mintFor(dest, NOW);
  c.revoked.add(revoked.ufrag, NOW + 60_000);
  const r = routeFromClient(c, stunCheck(revoked.ufrag, revoked.pwd), client, 0, NOW);
  assert.ok(r.kind === 'drop' && r.reason === 'token_revoked');
  const late = mintFor(dest, NOW);
  const t = NOW + FIRST_FLOW_WINDOW_MS + 1000;
  const asked = routeFromClient(c, stunCheck(late.ufrag, late.pwd), client, 0, t);
  assert.ok(asked.kind === 'ask_store');
  const no = admitLate(c, asked.flow, false, t);
  assert.ok(no.kind === 'drop' && no.reason === 'token_window_closed');
  assert.equal(admitLate(c, asked.flow, true, t).kind, 'created', 'some relay holds a flow of it');
  // Held here now: a rebinding to another address is admitted without asking.
  assert.equal(routeFromClient(c, stunCheck(late.ufrag, late.pwd), v4('198.51.100.10', 1), 0, t).kind, 'created');
});
