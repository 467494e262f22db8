// Hostile input against the pure routing (STYLE.md rule 5): random datagrams, random STUN-shaped
// datagrams and random relay headers never throw, never create a flow and never route a reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CidrSet } from '../../src/core/cidr.ts';
import { FlowTable } from '../../src/relay/flow-table.ts';
import type { JsFlow } from '../../src/relay/flow-table.ts';
import { KeyedTokenBuckets } from '../../src/core/rate-limit.ts';
import { RevokedTokens } from '../../src/relay/revoked-tokens.ts';
import { TokenFlows } from '../../src/relay/token-flows.ts';
import type { RouteContext } from '../../src/relay/route.ts';
import { publicMatchers, routeFromClient, routeFromTransceiver } from '../../src/relay/route.ts';
import { keyring, mintFor, stunCheck, v4 } from './helpers.ts';

const NOW = 1_800_000_000_000;
const ctx: RouteContext<JsFlow> & { table: FlowTable } = {
  keyring,
  table: new FlowTable({ maxFlows: 10, idleMs: 60_000 }),
  newFlowLimiter: new KeyedTokenBuckets({ ratePerSecond: 1e9, burst: 1e9, maxKeys: 10 }),
  publics: [v4('192.0.2.1', 3478)],
  transceiverAllowed: CidrSet.parse('127.0.0.0/8').matcher(),
  tokenFlows: new TokenFlows(),
  revoked: new RevokedTokens(),
  removed: () => {},
};
const matchers = publicMatchers(ctx.publics);
const from = v4('198.51.100.1', 4000);
const { ufrag, pwd } = mintFor(v4('127.0.0.1', 7000), NOW);
const valid = stunCheck(ufrag, pwd);

test('random datagrams from an unknown address never create a flow', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 1600 }), (bytes) => {
      const r = routeFromClient(ctx, Buffer.from(bytes), from, 0, NOW);
      assert.notEqual(r.kind, 'created');
      assert.notEqual(r.kind, 'forward');
    }),
    { numRuns: 3000 },
  );
});

test('any single-byte change to a valid check (outside FINGERPRINT) makes it fail', () => {
  // The last 8 bytes are FINGERPRINT, which the relay does not need to check (integrity covers the rest).
  fc.assert(
    fc.property(fc.integer({ min: 0, max: valid.length - 9 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
      const b = Buffer.from(valid);
      b[i] ^= x;
      const r = routeFromClient(ctx, b, v4('198.51.100.2', 4000 + i), 0, NOW);
      assert.notEqual(r.kind, 'created', `byte ${i} ^ ${x}`);
    }),
    { numRuns: 2000 },
  );
  assert.equal(ctx.table.size, 0);
});

test('random return datagrams from an allowed transceiver never route anywhere', () => {
  fc.assert(
    fc.property(fc.uint8Array({ minLength: 0, maxLength: 200 }), fc.boolean(), (bytes, withMagic) => {
      const b = Buffer.from(bytes);
      if (withMagic && b.length >= 4) b.set([0x50, 0x52, 1, b[3] & 3]);
      const r = routeFromTransceiver(ctx, matchers, b, v4('127.0.0.1', 7000));
      assert.equal(r.kind, 'drop');
    }),
    { numRuns: 3000 },
  );
});
