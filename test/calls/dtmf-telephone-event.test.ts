// RFC 4733 key presses between our client and a transceiver session on the seeded netem: the
// client's sendDtmf('123#') goes out as telephone-event packets (one press = several packets
// with one timestamp, the last three with E, §2.5.1.4), and the session's handler gets each key
// once, in order, even under loss and reordering; the audio stream around them is not broken.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DtmfEvent, MediaHandlerFactory } from '../../src/transceiver/handlers/media-handler.ts';
import { CallPair, numberedFrames } from './call-pair.ts';

for (const [name, profile] of [
  ['a clean network', { latencyMs: 10 }],
  ['5 % loss with reordering', { latencyMs: 20, jitterMs: 4, loss: 0.05, reorder: 0.05, reorderExtraMs: 30 }],
] as const) {
  test(`on ${name}: sendDtmf('123#') reaches the handler as 1, 2, 3, # once each`, () => {
    const keys: DtmfEvent[] = [];
    const handler: MediaHandlerFactory = () => ({ onAudio() {}, onDtmf: (e) => keys.push(e), close() {} });
    const pair = new CallPair({ seed: `dtmf-${name}`, profile, frames: numberedFrames(200), handler });
    pair.runUntilTrue(() => pair.session.state === 'connected' && pair.client.state === 'connected', 10_000, 'connected');
    assert.equal(pair.client.sendDtmf('123#', pair.now), true);
    pair.runUntil(pair.now + 3_000);
    assert.deepEqual(
      keys.map((k) => k.digit),
      ['1', '2', '3', '#'],
    );
    // One timestamp per press, increasing (§2.5.1.2).
    assert.ok(keys.every((k, i) => i === 0 || (k.rtpTimestamp - keys[i - 1].rtpTimestamp) >>> 0 < 48000));
    assert.ok(pair.handled.length > 100, `${pair.handled.length} audio frames still handled`);
  });
}
