// Global relay on loopback: two relay "locations" (a = 127.0.0.2, b = 127.0.0.3), two
// transceivers (own region a and b), one Redis for flows and heartbeats. A `parley call`
// through the transceiver of region a is advertised a first and b as the backup; mid-call every
// relay of a is SIGKILLed and the call must go on through b (the client's ICE fails over, the
// transceiver follows the same session onto the new relay) with a media gap under 3 s,
// measured from the transceiver's packet counters. Then: a dead location stops being advertised
// once its heartbeat expires, and a region hint naming b puts b first.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { formatAddress } from '../../src/core/address.ts';
import { runCall } from './helpers.ts';
import type { RelayProc, TransceiverProc } from './failover-helpers.ts';
import { minimalOffer, gapAround, redisPrefix, startRelay, startTransceiver, stopAll, watchCall } from './failover-helpers.ts';
import { waitFor as until } from '../support/wait-for.ts';

const run = redisPrefix();
let relayA: RelayProc;
let relayB: RelayProc;
let trxA: TransceiverProc;
let trxB: TransceiverProc;

before(async () => {
  [relayA, relayB] = await Promise.all([
    startRelay({ listen: '127.0.0.2:0', location: 'a', prefix: run.prefix }),
    startRelay({ listen: '127.0.0.3:0', location: 'b', prefix: run.prefix }),
  ]);
  const relays = `a=${formatAddress(relayA.public)};b=${formatAddress(relayB.public)}`;
  const common = ['--relays', relays, '--redis', 'redis://127.0.0.1:6379', '--heartbeat-prefix', `${run.prefix}hb:`];
  [trxA, trxB] = await Promise.all([startTransceiver([...common, '--region', 'a']), startTransceiver([...common, '--region', 'b'])]);
});

after(async () => {
  await stopAll();
  await run.cleanup();
});

/** POSTs a minimal offer; returns the answer's candidates as [address, priority] in SDP order. */
async function candidates(base: string, headers: Record<string, string> = {}): Promise<[string, number][]> {
  const offer = minimalOffer();
  const res = await fetch(`${base}/v1/realtime/calls`, {
    method: 'POST',
    body: offer,
    headers: { 'content-type': 'application/sdp', ...headers },
  });
  assert.equal(res.status, 201);
  const sdp = await res.text();
  const out: [string, number][] = [];
  for (const m of sdp.matchAll(/a=candidate:\S+ 1 udp (\d+) (\S+) (\d+) typ host/g)) out.push([`${m[2]}:${m[3]}`, Number(m[1])]);
  const loc = res.headers.get('location');
  if (loc) await fetch(base + loc, { method: 'DELETE' });
  return out;
}

test('each transceiver advertises its own region first and the other as a lower-priority backup; a region hint naming b puts b first', async () => {
  const a = formatAddress(relayA.public);
  const b = formatAddress(relayB.public);
  // Heartbeats appear within ~1 s of the relays being ready; until then every location counts anyway.
  const fromA = await candidates(trxA.base);
  assert.deepEqual(
    fromA.map((c) => c[0]),
    [a, b],
  );
  assert.ok(fromA[0][1] > fromA[1][1], 'primary has the higher ICE priority');
  assert.deepEqual(
    (await candidates(trxB.base)).map((c) => c[0]),
    [b, a],
  );
  const hinted = await candidates(trxA.base, { 'x-parley-region': 'b' });
  assert.deepEqual(
    hinted.map((c) => c[0]),
    [b, a],
    'X-Parley-Region: b picks b first on the transceiver of region a',
  );
  assert.ok(hinted[0][1] > hinted[1][1]);
  const metrics = await (await fetch(`${trxA.ops}/metrics`)).text();
  assert.match(
    metrics,
    /^parley_transceiver_relay_plans_total\{primary="b",backup="a",none_live="0"\} 1$/m,
    'the hinted answer is counted',
  );
});

test('parley call: killing every relay of location a mid-call moves the call to b within 3 s, and a is no longer advertised', async (t) => {
  const a = formatAddress(relayA.public);
  const b = formatAddress(relayB.public);
  const created = trxA.lines.length;
  const callDone = runCall(`${trxA.base}/v1/realtime/calls`, ['--seconds', '9', '--tone', '440'], 60_000);
  const connected = await until(
    () => trxA.lines.slice(created).find((l) => l.includes('"msg":"call connected"')),
    15_000,
    'call connected',
  );
  const id = (JSON.parse(connected) as { call: string; relay: string }).call;
  assert.equal((JSON.parse(connected) as { relay: string }).relay, a, 'the call starts on location a');
  const watch = watchCall(trxA.base, id);
  await new Promise((r) => setTimeout(r, 2500));
  const killedAt = performance.now();
  relayA.child.kill('SIGKILL');
  await relayA.exited();
  const result = await callDone;
  await watch.stop();
  const gap = gapAround(watch.samples, killedAt);
  assert.ok(gap, 'media resumed after the kill');
  t.diagnostic(`parley call failover gap: ${gap.gapMs.toFixed(0)} ms (last packet before the kill → first after; 20 ms polling)`);
  console.log(`# failover gap (parley call): ${gap.gapMs.toFixed(0)} ms`);
  assert.ok(gap.gapMs < 3000, `gap ${gap.gapMs.toFixed(0)} ms`);
  const last = watch.samples.filter((s) => s.relay !== undefined).at(-1);
  assert.equal(last?.relay, b, 'the session moved to relay b');
  assert.equal(result.code, 0, `parley call: ${JSON.stringify(result.summary)}\n${result.stderr}`);
  assert.equal(result.summary.stats?.remoteAddress, b, 'the client ends on the backup candidate');
  // TTL 3 s + 1 s refresh: a dead location drops out of new answers.
  await until(
    async () => {
      const c = await candidates(trxA.base);
      return c.length === 1 && c[0][0] === b;
    },
    8000,
    'location a no longer advertised',
  );
});
