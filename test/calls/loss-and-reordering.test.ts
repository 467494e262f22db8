// Our client against our transceiver call over a bad network — 5 % loss, 5 % of datagrams held
// back 30 ms so the next frame overtakes them, ±4 ms jitter, 2 % duplicated — in both DTLS roles.
// Setup survives it (ICE and DTLS retransmit), and every packet is still accounted for exactly
// (./accounting.ts): what the network delivered reaches the handler once, duplicates and all,
// and the echo and RTCP come back the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CallPair, numberedFrames } from './call-pair.ts';
import { assertEveryPacketAccounted } from './accounting.ts';

const FRAMES = 250;
const BAD = { latencyMs: 20, jitterMs: 4, loss: 0.05, reorder: 0.05, reorderExtraMs: 30, duplicate: 0.02 };

for (const sessionRole of ['client', 'server'] as const) {
  test(`5 % loss with reordering, transceiver is the DTLS ${sessionRole}: every delivered frame is handled once and echoed`, () => {
    const pair = new CallPair({ seed: `lossy-${sessionRole}`, sessionRole, profile: BAD, frames: numberedFrames(FRAMES) });
    pair.runUntilTrue(() => pair.client.state === 'connected' && pair.session.state === 'connected', 10_000, 'connected under loss');
    pair.runUntil(pair.now + FRAMES * 20 + 2_000);
    assert.equal(pair.session.state, 'connected');
    assert.equal(pair.client.state, 'connected');
    assertEveryPacketAccounted(pair);
    // The network did what it was asked: some of each impairment happened.
    assert.ok(pair.net.stats.lost > 0 && pair.net.stats.reordered > 0 && pair.net.stats.duplicated > 0, JSON.stringify(pair.net.stats));
    const seqs = pair.handled.map((f) => f.sequence);
    assert.ok(
      seqs.some((q, i) => i > 0 && q < seqs[i - 1]),
      'the handler got frames out of order (it gets them as they arrive)',
    );
    const s = pair.session.stats();
    const c = pair.client.stats();
    const handled = pair.handled.length;
    assert.ok(handled < FRAMES && handled > FRAMES * 0.85, `handled ${handled} of ${FRAMES}`);
    assert.ok(s.packetsLost > 0 && c.packetsLost > 0, `lost: session ${s.packetsLost}, client ${c.packetsLost}`);
    // Duplicates are refused by SRTP replay protection (RFC 3711 §3.3.2), not handled twice.
    const dupes = pair.clientRtpDelivered.length - new Set(pair.clientRtpDelivered.map((r) => r.header.sequenceNumber)).size;
    assert.ok(s.packetsDropped >= dupes, `${s.packetsDropped} dropped, ${dupes} duplicates delivered`);
    assert.ok(s.rttMs! >= 30 && s.rttMs! <= 60, `session rtt ${s.rttMs}`);
    assert.ok(c.rtcpRttMs! >= 30 && c.rtcpRttMs! <= 60, `client rtt ${c.rtcpRttMs}`);
  });
}
