// Per-call relay location choice (src/transceiver/relays/relay-locations.ts): the hinted location
// first, else the transceiver's own region, one backup after it at lower ICE priority; dead
// locations (no heartbeat) are skipped, and with none live every location is advertised.
// Also the heartbeat reader against the real Redis, its refresh and staleness on a ManualClock.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createClient } from 'redis';
import { formatAddress } from '../../src/core/address.ts';
import { candidatePriority } from '../../src/core/sdp/answer.ts';
import { LiveRelays, RelayLocations, parseRegionMap } from '../../src/transceiver/relays/relay-locations.ts';
import { parseRelaySpec } from '../../src/transceiver/relays/relay-spec.ts';
import { heartbeatKey, liveSetKey, writeHeartbeat } from '../../src/contracts/heartbeat.ts';
import { ManualClock } from '../../src/common/clock.ts';
import { waitFor } from '../support/wait-for.ts';

const spec = parseRelaySpec('eu=203.0.113.10:3478,[2001:db8::10]:3478;us=198.51.100.7:3478;ap=192.0.2.9:3478');
const names = (p: { addresses: readonly { address: string; port: number; family: string }[] }): string[] =>
  p.addresses.map((a) => formatAddress(a as never));

test('no hint: own region first, the next location as the one backup', () => {
  const plan = new RelayLocations({ spec, region: 'us' }).choose(undefined);
  assert.deepEqual(names(plan), ['198.51.100.7:3478', '203.0.113.10:3478', '[2001:db8::10]:3478']);
  assert.equal(plan.backupFrom, 1);
  assert.equal(plan.primary, 'us');
  assert.equal(plan.backup, 'eu');
});

test('a hint naming a location, or mapped by --region-map, puts it first; unknown hints are ignored', () => {
  const l = new RelayLocations({ spec, region: 'eu', regionMap: parseRegionMap('DE=eu,US=us,JP=ap') });
  assert.equal(l.choose('us').primary, 'us');
  assert.equal(l.choose('us').backup, 'eu');
  assert.equal(l.choose(' JP ').primary, 'ap');
  assert.equal(l.choose('ap').backup, 'eu');
  assert.equal(l.choose('xx').primary, 'eu');
  assert.equal(l.choose('xx').backup, 'us');
  assert.deepEqual(names(l.choose('de')), ['203.0.113.10:3478', '[2001:db8::10]:3478', '198.51.100.7:3478']);
  assert.equal(l.choose('de').backupFrom, 2);
});

test('locations without a live relay are skipped; none live → every location, in preference order', () => {
  let live: Set<string> | undefined = new Set(['us', 'ap']);
  const l = new RelayLocations({ spec, region: 'eu', live: () => live });
  assert.equal(l.choose(undefined).primary, 'us');
  assert.equal(l.choose(undefined).backup, 'ap');
  assert.equal(l.choose('ap').backup, 'us');
  live = new Set(['us']);
  assert.equal(l.choose(undefined).primary, 'us');
  assert.equal(l.choose(undefined).backup, undefined);
  live = new Set();
  const none = l.choose('us');
  assert.equal(none.noneLive, true);
  assert.equal(none.primary, 'us');
  assert.equal(none.addresses.length, 4);
  live = undefined; // unknown (no Redis or stale): all count
  assert.equal(l.choose(undefined).primary, 'eu');
  assert.equal(l.choose(undefined).noneLive, false);
});

test('an unnamed list keeps its order and has no backup split; bad region settings throw', () => {
  const plan = new RelayLocations({ spec: parseRelaySpec('192.0.2.1:3478,192.0.2.2:3478') }).choose('us');
  assert.deepEqual(names(plan), ['192.0.2.1:3478', '192.0.2.2:3478']);
  assert.equal(plan.backupFrom, 2);
  assert.throws(() => new RelayLocations({ spec, region: 'mars' }), /not one of the relay locations/);
  assert.throws(() => new RelayLocations({ spec, regionMap: parseRegionMap('DE=mars') }), /not a relay location/);
  assert.throws(() => parseRegionMap('DE'), /VALUE=LOCATION/);
});

test("--relays-tcp: the chosen locations' TCP addresses, in the same order; a location without one adds none; names must match", () => {
  const tcpSpec = parseRelaySpec('eu=203.0.113.10:443;us=198.51.100.7:443');
  const plan = new RelayLocations({ spec, tcpSpec, region: 'us' }).choose(undefined);
  assert.deepEqual(
    plan.tcpAddresses.map((a) => formatAddress(a)),
    ['198.51.100.7:443', '203.0.113.10:443'],
  );
  const ap = new RelayLocations({ spec, tcpSpec, region: 'ap' }).choose(undefined);
  assert.deepEqual(
    ap.tcpAddresses.map((a) => formatAddress(a)),
    ['203.0.113.10:443'],
    'ap has no TCP address; its backup eu does',
  );
  assert.deepEqual(new RelayLocations({ spec }).choose(undefined).tcpAddresses, []);
  const unnamed = new RelayLocations({ spec: parseRelaySpec('192.0.2.1:3478'), tcpSpec: parseRelaySpec('192.0.2.1:443') }).choose(
    undefined,
  );
  assert.deepEqual(
    unnamed.tcpAddresses.map((a) => formatAddress(a)),
    ['192.0.2.1:443'],
  );
  assert.throws(() => new RelayLocations({ spec, tcpSpec: parseRelaySpec('mars=192.0.2.1:443') }), /not one of the relay locations/);
  assert.throws(() => new RelayLocations({ spec, tcpSpec: parseRelaySpec('192.0.2.1:443') }), /unnamed list/);
});

test('every backup candidate has a lower ICE priority than every primary candidate', () => {
  assert.ok(candidatePriority(0, true) < candidatePriority(100));
  assert.ok(candidatePriority(1, true) < candidatePriority(0, true));
});

test('LiveRelays reads the live heartbeat members from Redis into live locations; a member past its deadline drops its location', async () => {
  const prefix = `parley:test:${randomBytes(4).toString('hex')}:hb:`;
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  await redis.connect();
  const live = await LiveRelays.start({ url: 'redis://127.0.0.1:6379', prefix, clock: new ManualClock() });
  try {
    await writeHeartbeat(redis, { prefix, location: 'eu', id: 'a', value: '{}', ttlMs: 60_000 });
    await writeHeartbeat(redis, { prefix, location: 'us', id: 'b', value: '{}', ttlMs: 300 });
    // Keys that merely share the prefix (flow records, say) are not heartbeats.
    await redis.set(`${prefix}asia:not-a-member`, '{}', { expiration: { type: 'PX', value: 60_000 } });
    await live.refresh();
    assert.deepEqual([...(live.live() ?? [])].sort(), ['eu', 'us']);
    // The member's deadline is on the Redis server's clock: wait for Redis (bounded), not a timer of ours.
    await waitFor(
      async () => {
        await live.refresh();
        return !live.live()?.has('us');
      },
      3000,
      "'us' past its deadline",
    );
    assert.deepEqual([...(live.live() ?? [])], ['eu']);
  } finally {
    await live.close();
    await redis.del([heartbeatKey(prefix, 'eu', 'a'), `${prefix}asia:not-a-member`, liveSetKey(prefix)]);
    await redis.close();
  }
});

test('LiveRelays re-reads every refreshMs of its clock and forgets what it read once that is staleMs old', async () => {
  const prefix = `parley:test:${randomBytes(4).toString('hex')}:hb:`;
  const redis = createClient({ url: 'redis://127.0.0.1:6379' });
  await redis.connect();
  const clock = new ManualClock();
  const live = await LiveRelays.start({ url: 'redis://127.0.0.1:6379', prefix, refreshMs: 1000, staleMs: 5000, clock });
  try {
    assert.deepEqual([...(live.live() ?? ['unknown'])], [], 'the first read (at start) found no relay');
    await writeHeartbeat(redis, { prefix, location: 'eu', id: 'a', value: '{}', ttlMs: 60_000 });
    assert.deepEqual([...(live.live() ?? [])], [], 'not read again before refreshMs');
    clock.advance(1000); // the refresh timer starts a read…
    await live.refresh(); // …which this awaits (a read in flight is shared, not repeated)
    assert.deepEqual([...(live.live() ?? [])], ['eu']);
    // Reads start on every refresh but none has finished yet: 5 s after the last good one, the
    // set is stale and liveness unknown (every location counts), until a read completes again.
    clock.advance(5001);
    assert.equal(live.live(), undefined, 'stale');
    await live.refresh();
    assert.deepEqual([...(live.live() ?? [])], ['eu'], 'fresh again');
    await live.close();
    clock.advance(10_000);
    assert.equal(clock.pendingTimers, 0, 'close cancels the refresh timer');
  } finally {
    await live.close();
    await redis.del([heartbeatKey(prefix, 'eu', 'a'), liveSetKey(prefix)]);
    await redis.close();
  }
});
