// Malformed and hostile datagrams against a connected Session (STYLE.md rule 5): random bytes
// in every demux range, truncated and bit-flipped copies of real traffic. The session must never
// throw, must count what it drops, and must keep echoing afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import type { TransportAddress } from '../../src/core/address.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { PEER_DROP_REASONS } from '../../src/core/peer/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { Session } from '../../src/transceiver/session.ts';
import type { SessionPath } from '../../src/transceiver/session.ts';
import { TestCaller } from './helpers/test-caller.ts';
import { Sim } from './helpers/sim.ts';

const CLIENT: TransportAddress = { address: '198.51.100.20', port: 50000, family: 'IPv4' };
const RELAY: TransportAddress = { address: '203.0.113.7', port: 3478, family: 'IPv4' };

test('random, truncated and bit-flipped datagrams never throw, are counted, and the call keeps working', () => {
  const rng = seededRng('hostile');
  const reasons = new Set<string>();
  const caller = new TestCaller({ rng, relay: RELAY, dtlsRole: 'server' });
  const cert = generateCertificate(seededRng('hostile-cert'));
  const server = { ufrag: 'AQFserverufragserverufrag', pwd: 'serverpasswordserverpass' };
  const session = new Session({
    id: 'rtc_h', now: 0, rng, localUfrag: server.ufrag, localPwd: server.pwd, remoteUfrag: caller.ufrag, remotePwd: caller.pwd,
    dtlsRole: 'client', certificate: cert, remoteFingerprint: caller.certificate.fingerprint, ssrc: 7, cname: 'c', opusPayloadType: 111,
    handlerFactory: createEchoHandler, onDrop: (r) => reasons.add(r),
  });
  const sim = new Sim({ session, caller, now: 0, client: CLIENT, relay: RELAY });
  caller.start({ ...server, fingerprint: cert.fingerprint }, 0);
  sim.run(1000);
  assert.equal(session.state, 'connected');

  // Real traffic to mutate: one SRTP packet from the caller.
  caller.sendOpus(Buffer.from('sample'));
  const real = caller.pollTransmit()!;
  const path: SessionPath = { client: CLIENT, relayPublic: RELAY, relaySocket: sim.relaySocket };
  const firstBytes = fc.constantFrom(0, 1, 3, 22, 23, 63, 128, 144, 200, 255);
  const random = fc.tuple(firstBytes, fc.uint8Array({ maxLength: 300 })).map(([b, rest]) => Buffer.concat([Buffer.from([b]), rest]));
  const truncated = fc.nat(real.length).map((n) => real.subarray(0, n));
  const flipped = fc.tuple(fc.nat(real.length - 1), fc.integer({ min: 1, max: 255 })).map(([i, x]) => {
    const b = Buffer.from(real);
    b[i] ^= x;
    return b;
  });
  let now = sim.now;
  fc.assert(fc.property(fc.oneof(random, truncated, flipped), (d) => {
    now += 1;
    session.handle(d, path, now);
    while (session.pollTransmit());
  }), { numRuns: 3000 });
  assert.equal(session.state, 'connected');
  assert.ok(session.stats().packetsDropped > 1000, `dropped ${session.stats().packetsDropped}`);
  // Every drop is reported with a bounded reason (a metric label): SRTP drops carry the SRTP reason.
  assert.ok(reasons.has('srtp_auth_failed'), [...reasons].join());
  for (const r of reasons) assert.ok((PEER_DROP_REASONS.reasons as readonly string[]).includes(r), r);

  // Still a working call: the echo comes back.
  sim.now = now;
  const before = caller.received.length;
  sim.run(now + 500, (t) => caller.sendOpus(Buffer.from(`after-${t}`)));
  assert.ok(caller.received.length - before >= 20);
});
