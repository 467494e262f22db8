// The relay heartbeat (src/relay/heartbeat.ts, in the format of src/contracts/heartbeat.ts)
// against the real Redis: a key per relay under PREFIX + LOCATION:ID with a short TTL and a
// member of the live sorted set PREFIX + live whose score is the Redis clock + TTL, both rewritten every interval of the relay's clock (a
// ManualClock here: no sleeping for our own timer) and removed on close.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import {
  BEAT,
  READ_LIVE,
  heartbeatKey,
  heartbeatMember,
  liveSetKey,
  parseHeartbeatMember,
  readLiveRelays,
  writeHeartbeat,
} from '../../src/contracts/heartbeat.ts';
import { RelayHeartbeat } from '../../src/relay/heartbeat.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { waitFor } from '../support/wait-for.ts';
import { evalCached } from '../../src/common/redis.ts';
import type { CachedScript } from '../../src/common/redis.ts';

test('heartbeat members round-trip and malformed ones are rejected', () => {
  assert.deepEqual(parseHeartbeatMember(heartbeatMember('eu', 'host-1-ab')), { location: 'eu', id: 'host-1-ab' });
  assert.deepEqual(parseHeartbeatMember('eu:host:with:colons'), { location: 'eu', id: 'host:with:colons' });
  assert.equal(parseHeartbeatMember('eu'), undefined);
  assert.equal(parseHeartbeatMember(':x'), undefined);
  assert.equal(parseHeartbeatMember('eu:'), undefined);
  assert.equal(heartbeatKey('p:', 'eu', 'x'), 'p:eu:x');
  assert.notEqual(liveSetKey('p:'), heartbeatKey('p:', 'live', ''), 'the set cannot be mistaken for a relay key');
});

test('a running relay heartbeat rewrites its key and member every interval of its clock; close deletes them', async () => {
  const prefix = `parley:test:${randomBytes(4).toString('hex')}:hb:`;
  const key = heartbeatKey(prefix, 'eu', 'test-1');
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  await redis.connect();
  const clock = new ManualClock(0, Date.UTC(2030, 0, 1));
  const hb = await RelayHeartbeat.start({
    url: 'redis://127.0.0.1:6379',
    prefix,
    location: 'eu',
    id: 'test-1',
    intervalMs: 1000,
    ttlMs: 3000,
    clock,
    publics: () => [{ address: '127.0.0.2', port: 3478, family: 'IPv4' }],
  });
  // The value's `at` is the relay's clock at the beat: it says which beat Redis holds.
  const at = async (): Promise<number | undefined> => {
    const v = await redis.get(key);
    return v === null ? undefined : (JSON.parse(v) as { at: number }).at;
  };
  try {
    // The first beat goes out once the connection is up (real Redis), not an interval later.
    await waitFor(async () => (await at()) === clock.wallNow(), 3000, 'the first beat');
    const v = JSON.parse((await redis.get(key)) as string);
    assert.deepEqual(v, { location: 'eu', public: ['127.0.0.2:3478'], at: Date.UTC(2030, 0, 1) });
    const ttl = await redis.pTTL(key);
    assert.ok(ttl > 0 && ttl <= 3000, `PX ttl set (${ttl})`);
    // The member's deadline is the Redis clock + TTL, and the set itself expires with it.
    const [sec, usec] = (await redis.time()) as unknown as [number, number] | [string, string];
    const redisNow = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
    const score = await redis.zScore(liveSetKey(prefix), 'eu:test-1');
    assert.ok(score !== null && score > redisNow && score <= redisNow + 3000, `score ${score} vs Redis now ${redisNow}`);
    const setTtl = await redis.pTTL(liveSetKey(prefix));
    assert.ok(setTtl > 0 && setTtl <= 3000, `the live set expires when no relay beats (${setTtl})`);
    assert.deepEqual([...(await readLiveRelays(redis, prefix))], ['eu']);
    // No beat before the interval is up; one per interval after it (each refreshing the TTL).
    await clock.advanceAsync(999);
    assert.equal(await at(), Date.UTC(2030, 0, 1));
    for (let i = 1; i <= 3; i++) {
      await clock.advanceAsync(i === 1 ? 1 : 1000);
      await waitFor(async () => (await at()) === Date.UTC(2030, 0, 1) + i * 1000, 3000, `beat ${i}`);
    }
    await hb.close();
    assert.equal(await redis.exists(key), 0);
    assert.equal(await redis.zScore(liveSetKey(prefix), 'eu:test-1'), null, 'close removes the member');
    assert.deepEqual([...(await readLiveRelays(redis, prefix))], []);
    await clock.advanceAsync(5000);
    assert.equal(await redis.exists(key), 0, 'no beat after close');
  } finally {
    await hb.close();
    await redis.del([key, liveSetKey(prefix)]);
    await redis.close();
  }
});

test('heartbeat scripts go by SHA-1 once cached and fall back to their text on NOSCRIPT', async () => {
  const prefix = `parley:test:${randomBytes(4).toString('hex')}:hb:`;
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  await redis.connect();
  const sent: string[] = [];
  // Records the command name of every script call; the real client does the work.
  const spy = {
    evalSha: (sha: string, o: object) => (sent.push('EVALSHA'), redis.evalSha(sha, o)),
    eval: (text: string, o: object) => (sent.push('EVAL'), redis.eval(text, o)),
  };
  try {
    await writeHeartbeat(spy, { prefix, location: 'eu', id: 'sha-1', value: '{}', ttlMs: 1000 });
    assert.deepEqual([...(await readLiveRelays(spy, prefix))], ['eu']);
    assert.deepEqual(await redis.scriptExists([BEAT.sha1, READ_LIVE.sha1]), [1, 1], 'both scripts are in the script cache');
    sent.length = 0;
    await writeHeartbeat(spy, { prefix, location: 'eu', id: 'sha-1', value: '{}', ttlMs: 1000 });
    await readLiveRelays(spy, prefix);
    assert.deepEqual(sent, ['EVALSHA', 'EVALSHA'], 'cached scripts are not sent again');

    // A script Redis has never seen (a restarted Redis, SCRIPT FLUSH): NOSCRIPT, then EVAL once.
    const text = `return '${randomBytes(8).toString('hex')}'`;
    const fresh: CachedScript = { text, sha1: createHash('sha1').update(text).digest('hex') };
    sent.length = 0;
    assert.equal(await evalCached(spy, fresh, { keys: [], arguments: [] }), text.slice(8, -1));
    assert.deepEqual(sent, ['EVALSHA', 'EVAL']);
    sent.length = 0;
    assert.equal(await evalCached(spy, fresh, { keys: [], arguments: [] }), text.slice(8, -1));
    assert.deepEqual(sent, ['EVALSHA'], 'cached by the fallback');

    // Any other error is the caller's, not a reason to resend the text.
    const failing: CachedScript = { text: "return redis.call('NOSUCHCOMMAND')", sha1: '0'.repeat(40) };
    sent.length = 0;
    await assert.rejects(
      evalCached(
        {
          ...spy,
          evalSha: async () => {
            sent.push('EVALSHA');
            throw new Error('ERR something else');
          },
        },
        failing,
        { keys: [], arguments: [] },
      ),
      /something else/,
    );
    assert.deepEqual(sent, ['EVALSHA']);
  } finally {
    await redis.del([heartbeatKey(prefix, 'eu', 'sha-1'), liveSetKey(prefix)]);
    await redis.close();
  }
});
