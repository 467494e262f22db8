// Malformed and hostile datagrams against a connected Session (STYLE.md rule 5): random bytes
// in every demux range, truncated and bit-flipped copies of real traffic from our client. The
// session must never throw, must count what it drops, and must keep echoing afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { classifyPacket, isRtcp } from '../../src/core/demux.ts';
import { PEER_DROP_REASONS } from '../../src/core/peer/index.ts';
import { CallPair, CLIENT_PUBLIC, numberedFrames, T0 } from '../calls/call-pair.ts';

test('random, truncated and bit-flipped datagrams never throw, are counted, and the call keeps working', () => {
  const reasons = new Set<string>();
  const pair = new CallPair({
    seed: 'hostile',
    sessionRole: 'client',
    frames: numberedFrames(50),
    frameCount: 3_000,
    session: { onDrop: (r) => reasons.add(r) },
  });
  pair.runUntil(T0 + 1000);
  assert.equal(pair.session.state, 'connected');

  // Real traffic to mutate: the last SRTP packet the client sent.
  const real = pair.clientSent.findLast((d) => classifyPacket(d) === 'rtp' && !isRtcp(d))!;
  const path = pair.pathFrom(CLIENT_PUBLIC);
  const firstBytes = fc.constantFrom(0, 1, 3, 22, 23, 63, 128, 144, 200, 255);
  const random = fc.tuple(firstBytes, fc.uint8Array({ maxLength: 300 })).map(([b, rest]) => Buffer.concat([Buffer.from([b]), rest]));
  const truncated = fc.nat(real.length).map((n) => real.subarray(0, n));
  const flipped = fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
    const b = Buffer.from(real);
    b[i] ^= x;
    return b;
  });
  let now = pair.now;
  fc.assert(
    fc.property(fc.oneof(random, truncated, flipped), (d) => {
      now += 1;
      pair.session.handle(d, path, now);
      while (pair.session.pollTransmit());
    }),
    { numRuns: 3000 },
  );
  assert.equal(pair.session.state, 'connected');
  assert.ok(pair.session.stats().packetsDropped > 1000, `dropped ${pair.session.stats().packetsDropped}`);
  // Every drop is reported with a bounded reason (a metric label): SRTP drops carry the SRTP reason.
  assert.ok(reasons.has('srtp_auth_failed'), [...reasons].join());
  for (const r of reasons) assert.ok((PEER_DROP_REASONS.reasons as readonly string[]).includes(r), r);

  // Still a working call: the echo comes back.
  pair.clock.advanceTo(now);
  const before = pair.clientAudio().length;
  pair.runUntil(now + 500);
  assert.ok(pair.clientAudio().length - before >= 20);
});
