// RFC 4733 key presses between our client and a transceiver session on the seeded netem: the
// client's sendDtmf('123#') goes out as telephone-event packets (one press = several packets
// with one timestamp, the last three with E, §2.5.1.4), and the session's handler gets each key
// once, in order, even under loss and reordering; the audio stream around them is not broken.
// The other way, a handler's ctx.sendDtmf reaches our client in order, the end sent 3 times.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { DtmfEvent, MediaHandlerContext, MediaHandlerFactory } from '../../src/transceiver/handlers/media-handler.ts';
import { OFFER_TELEPHONE_EVENT_PT } from '../../src/client/sdp.ts';
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

for (const [name, profile] of [
  ['a clean network', { latencyMs: 10 }],
  ['5 % loss with reordering', { latencyMs: 20, jitterMs: 4, loss: 0.05, reorder: 0.05, reorderExtraMs: 30 }],
] as const) {
  test(`on ${name}: the handler's ctx.sendDtmf('42#', { durationMs: 60 }) reaches our client as 4, 2, # once each`, () => {
    let ctx: MediaHandlerContext | undefined;
    const handler: MediaHandlerFactory = (c) => {
      ctx = c;
      return { onAudio() {}, close() {} };
    };
    const pair = new CallPair({ seed: `dtmf-out-${name}`, profile, frames: numberedFrames(200), handler });
    pair.runUntilTrue(() => pair.session.state === 'connected' && pair.client.state === 'connected', 10_000, 'connected');
    assert.equal(ctx!.sendDtmf('42#', { durationMs: 60 }), true);
    pair.runUntil(pair.now + 2_000);
    const got = pair.clientEvents.flatMap((e) => (e.type === 'dtmf' ? [e] : []));
    assert.deepEqual(
      got.map((e) => e.digit),
      ['4', '2', '#'],
    );
    // On the wire: 3 + 2 packets per press (60 ms of tone, the end sent 3 times), one timestamp each, the marker on the first.
    const te = pair.sessionRtpSent.filter((r) => r.header.payloadType === OFFER_TELEPHONE_EVENT_PT);
    const presses = [...Map.groupBy(te, (r) => r.header.timestamp).values()];
    assert.deepEqual(
      presses.map((p) => p.length),
      [5, 5, 5],
    );
    assert.ok(presses.every((p) => p.map((r) => r.header.marker).join() === 'true,false,false,false,false'));
  });
}

test('ctx.sendDtmf refuses a key that is not one and a duration out of range; false once the call ended', () => {
  let ctx: MediaHandlerContext | undefined;
  const pair = new CallPair({
    seed: 'dtmf-out-checks',
    handler: (c) => {
      ctx = c;
      return { onAudio() {}, close() {} };
    },
  });
  assert.throws(() => ctx!.sendDtmf('12x'), { code: 'ERR_HANDLER_BAD_OPTION' });
  assert.throws(() => ctx!.sendDtmf('1', { durationMs: 5000 }), { code: 'ERR_HANDLER_BAD_OPTION' });
  pair.session.close('hangup', pair.now);
  assert.equal(ctx!.sendDtmf('1'), false);
});
