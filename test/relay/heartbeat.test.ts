// The relay heartbeat (src/relay/heartbeat.ts) against the real Redis: a key per relay under
// PREFIX + LOCATION:ID with a short TTL, refreshed while running and deleted on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { RelayHeartbeat, heartbeatKey, parseHeartbeatKey } from '../../src/relay/heartbeat.ts';

test('heartbeat keys round-trip and foreign keys are rejected', () => {
  assert.deepEqual(parseHeartbeatKey('p:', heartbeatKey('p:', 'eu', 'host-1-ab')), { location: 'eu', id: 'host-1-ab' });
  assert.equal(parseHeartbeatKey('p:', 'q:eu:x'), undefined);
  assert.equal(parseHeartbeatKey('p:', 'p:eu'), undefined);
  assert.equal(parseHeartbeatKey('p:', 'p::x'), undefined);
});

test('a running relay heartbeat keeps its key alive past the TTL; close deletes it', async () => {
  const prefix = `parley:test:${randomBytes(4).toString('hex')}:hb:`;
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  await redis.connect();
  const hb = await RelayHeartbeat.start({
    url: 'redis://127.0.0.1:6379', prefix, location: 'eu', id: 'test-1', intervalMs: 100, ttlMs: 1000,
    publics: () => [{ address: '127.0.0.2', port: 3478, family: 'IPv4' }],
  });
  try {
    await new Promise((r) => setTimeout(r, 1500));
    const v = await redis.get(heartbeatKey(prefix, 'eu', 'test-1'));
    assert.ok(v, 'key present after more than two TTLs');
    assert.deepEqual(JSON.parse(v).public, ['127.0.0.2:3478']);
    const ttl = await redis.pTTL(heartbeatKey(prefix, 'eu', 'test-1'));
    assert.ok(ttl > 0 && ttl <= 1000, `PX ttl set (${ttl})`);
    await hb.close();
    assert.equal(await redis.exists(heartbeatKey(prefix, 'eu', 'test-1')), 0);
  } finally {
    await hb.close();
    await redis.del(heartbeatKey(prefix, 'eu', 'test-1'));
    await redis.close();
  }
});
