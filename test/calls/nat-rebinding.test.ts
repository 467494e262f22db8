// Our client against our transceiver call when the client's NAT rebinds mid-call (a new public
// port; the client is not told): the old mapping dies at once, the client's RTP from the new
// address is not routed until its next consent check — which carries USE-CANDIDATE — moves the
// session's selected pair there (RFC 8445 §7.3.1.5, RFC 7675), then audio and RTCP flow both
// ways again. In both DTLS roles, every packet accounted for (./accounting.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../src/core/address.ts';
import { CallPair, CLIENT_HOST, CLIENT_PUBLIC, numberedFrames } from './call-pair.ts';
import { assertEveryPacketAccounted } from './accounting.ts';

const REBOUND: TransportAddress = { address: '198.51.100.20', port: 50999, family: 'IPv4' };
const FRAMES = 600;

for (const sessionRole of ['client', 'server'] as const) {
  test(`a NAT rebinding mid-call, transceiver is the DTLS ${sessionRole}: the session follows the next consent check and the call goes on`, () => {
    const pair = new CallPair({ seed: `nat-${sessionRole}`, sessionRole, frames: numberedFrames(FRAMES) });
    pair.runUntilTrue(() => pair.session.state === 'connected' && pair.client.state === 'connected', 2_000, 'connected');
    pair.runUntil(pair.now + 3_000);
    const rtcpBefore = pair.session.stats().rtcpReceived;
    const handledBefore = pair.handled.length;
    const reboundAt = pair.now;
    pair.net.nat(CLIENT_HOST, REBOUND);
    pair.runUntilTrue(() => pair.pathEvents().length === 2, 7_000, 'the session follows the rebinding');
    const movedAt = pair.now;
    const clientEventsAtMove = pair.clientEvents.length;
    assert.ok(movedAt - reboundAt <= 6_100, `moved after ${movedAt - reboundAt} ms (one consent interval at most)`);
    pair.runUntil(pair.now + 4_000);

    const paths = pair.pathEvents();
    assert.deepEqual(
      paths.map((e) => e.path.client.port),
      [CLIENT_PUBLIC.port, REBOUND.port],
    );
    assert.equal(paths[1].previous?.client.port, CLIENT_PUBLIC.port);
    assert.equal(pair.session.selectedPath?.client.port, REBOUND.port);
    assert.equal(pair.session.state, 'connected');
    assert.equal(pair.client.state, 'connected');
    assert.ok(pair.unrouted > 0, 'RTP from the new address before the check was not routed');
    assertEveryPacketAccounted(pair);
    // Audio both ways after the move: the frames sent since reach the handler and come back.
    const after = pair.clientRtpDelivered.filter((r) => r.at > movedAt).length;
    assert.ok(after >= 190, `${after} frames handled in the 4 s after the move`);
    assert.ok(pair.handled.length - handledBefore >= after);
    const heardAfter = pair.sessionRtpDelivered.filter((r) => r.at > movedAt).length;
    assert.ok(heardAfter >= 190, `${heardAfter} echoes heard after the move`);
    assert.ok(pair.session.stats().rtcpReceived > rtcpBefore, 'RTCP from the client again');
    assert.ok(
      pair.clientEvents.slice(clientEventsAtMove).some((e) => e.type === 'rtcp'),
      'RTCP from the session again',
    );
  });
}
