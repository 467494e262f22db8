// The handler context's output queue, driven in memory on a manual clock (test/calls/call-pair.ts):
// a 60 s ring that a faster-than-real-time model fills without loss, queuedFrames / framesSent,
// clearAudio() for barge-in, mark(done) resolving when its frames were sent (or false when cleared
// or the call ended), and hangup(reason) with the agent's close reasons.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RtpSender, DEFAULT_QUEUE_FRAMES } from '../../src/core/peer/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import type { MediaHandlerContext, MediaHandlerFactory } from '../../src/transceiver/handlers/media-handler.ts';
import { CallPair, T0 } from '../calls/call-pair.ts';

/** A handler that only hands its context to the test. */
function holdContext(): { factory: MediaHandlerFactory; ctx: () => MediaHandlerContext } {
  let held: MediaHandlerContext | undefined;
  return {
    factory: (ctx) => {
      held = ctx;
      return { onAudio() {}, close() {} };
    },
    ctx: () => held!,
  };
}

const frame = (i: number): Buffer => Buffer.from(`m${i}`);

test('the queue is a 3000-frame ring: 60 s queued at once are all sent in order, none dropped', () => {
  assert.equal(DEFAULT_QUEUE_FRAMES, 3000);
  const s = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng('ring') });
  for (let i = 0; i < 3000; i++) s.enqueue(frame(i), 0);
  assert.equal(s.queued, 3000);
  const got: string[] = [];
  for (let t = 0; t <= 3000 * 20 && got.length < 3000; t += 20) {
    const rtp = s.tick(t);
    if (rtp) got.push(rtp.subarray(12).toString());
  }
  assert.equal(got.length, 3000);
  assert.equal(s.dropped, 0);
  assert.deepEqual(got.slice(0, 3), ['m0', 'm1', 'm2']);
  assert.equal(got[2999], 'm2999');
  assert.equal(s.taken, 3000);
});

test('past 3000 frames the oldest goes and is counted; clear() drops the rest and says how many', () => {
  const s = new RtpSender({ ssrc: 1, payloadType: 111, rng: seededRng('full') });
  for (let i = 0; i < 3005; i++) s.enqueue(frame(i), 0);
  assert.equal(s.dropped, 5);
  assert.equal(s.tick(0)!.subarray(12).toString(), 'm5');
  assert.equal(s.clear(), 2999);
  assert.equal(s.queued, 0);
  assert.equal(s.taken, 3005);
});

test('queuedFrames, framesSent and a mark that resolves true once its frames were sent', () => {
  const h = holdContext();
  const pair = new CallPair({ seed: 'marks', handler: h.factory });
  pair.runUntil(T0 + 1000);
  assert.equal(pair.session.state, 'connected');
  const ctx = h.ctx();
  for (let i = 0; i < 25; i++) ctx.send(frame(i));
  assert.equal(ctx.queuedFrames, 25);
  const sentBefore = ctx.framesSent;
  const played: boolean[] = [];
  let playedAt = 0;
  ctx.mark((p) => {
    played.push(p);
    playedAt = pair.now;
  });
  pair.runUntil(T0 + 1300);
  assert.deepEqual(played, [], 'not before 25 frames (500 ms) went out');
  pair.runUntil(T0 + 2000);
  assert.deepEqual(played, [true]);
  assert.ok(playedAt >= T0 + 1480 && playedAt <= T0 + 1560, `mark done at +${playedAt - T0 - 1000} ms`);
  assert.equal(ctx.framesSent - sentBefore, 25);
  assert.equal(ctx.queuedFrames, 0);
  assert.equal(pair.clientAudio().length, 25);
  pair.session.close('hangup', pair.now);
});

test('clearAudio() drops what is queued, marks resolve false, and nothing more reaches the caller', () => {
  const h = holdContext();
  const pair = new CallPair({ seed: 'clear', handler: h.factory });
  pair.runUntil(T0 + 1000);
  const ctx = h.ctx();
  for (let i = 0; i < 100; i++) ctx.send(frame(i));
  const played: boolean[] = [];
  ctx.mark((p) => played.push(p));
  pair.runUntil(T0 + 1200);
  const heard = pair.clientAudio().length;
  assert.ok(heard >= 9 && heard <= 12, `${heard} frames in 200 ms`);
  const dropped = ctx.clearAudio();
  assert.equal(dropped + ctx.framesSent, 100);
  assert.deepEqual(played, [false]);
  assert.equal(ctx.queuedFrames, 0);
  pair.runUntil(T0 + 2000);
  assert.ok(pair.clientAudio().length <= heard + 1, 'at most the frame already on the wire');
  // A mark on an empty queue resolves at the next drive.
  ctx.mark((p) => played.push(p));
  pair.runUntil(T0 + 2100);
  assert.deepEqual(played, [false, true]);
  pair.session.close('hangup', pair.now);
});

test('pending marks resolve false when the call ends first', () => {
  const h = holdContext();
  const pair = new CallPair({ seed: 'mark-close', handler: h.factory });
  pair.runUntil(T0 + 1000);
  const ctx = h.ctx();
  for (let i = 0; i < 50; i++) ctx.send(frame(i));
  const played: boolean[] = [];
  ctx.mark((p) => played.push(p));
  pair.session.close('hangup', pair.now);
  assert.deepEqual(played, [false]);
  ctx.mark((p) => played.push(p));
  assert.deepEqual(played, [false, false], 'a mark after the end resolves false at once');
});

for (const reason of ['agent_closed', 'agent_error', undefined] as const) {
  test(`hangup(${reason ?? ''}) ends the call with ${reason ?? 'agent_hangup'}`, () => {
    const h = holdContext();
    const pair = new CallPair({ seed: `hangup-${reason}`, handler: h.factory });
    pair.runUntil(T0 + 1000);
    h.ctx().hangup(reason);
    pair.runUntil(T0 + 1100);
    assert.equal(pair.session.closeReason, reason ?? 'agent_hangup');
  });
}

test("hangup(reason, detail): the detail is the call's closeDetail, made safe (no control characters, bounded)", () => {
  const h = holdContext();
  const pair = new CallPair({ seed: 'hangup-detail', handler: h.factory });
  pair.runUntil(T0 + 1000);
  h.ctx().hangup('agent_hangup', 'caller asked to end\n{"forged":true}' + 'x'.repeat(500));
  h.ctx().hangup('agent_error', 'a second hang-up changes nothing');
  pair.runUntil(T0 + 1100);
  assert.equal(pair.session.closeReason, 'agent_hangup');
  const detail = pair.session.closeDetail!;
  assert.ok(detail.startsWith('caller asked to end {"forged":true}xxx'), detail);
  assert.equal(detail.length, 200);
  assert.equal((pair.session.dump() as { closeDetail?: string }).closeDetail, detail);
});

test('a reason an agent may not give is recorded as agent_hangup', () => {
  const h = holdContext();
  const pair = new CallPair({ seed: 'hangup-bad', handler: h.factory });
  pair.runUntil(T0 + 1000);
  (h.ctx().hangup as (r: string) => void)('max_duration');
  pair.runUntil(T0 + 1100);
  assert.equal(pair.session.closeReason, 'agent_hangup');
});
