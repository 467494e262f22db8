import { test } from 'node:test';
import assert from 'node:assert/strict';
import { containHandler, type HandlerMethod } from '../../src/transceiver/handlers/contain.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { createToneHandler } from '../../src/transceiver/handlers/tone.ts';
import { canPull } from '../../src/transceiver/handlers/pull.ts';
import type { MediaHandlerFactory } from '../../src/transceiver/handlers/media-handler.ts';
import { inbound, recordingContext } from './fake-context.ts';

const boom = (): never => {
  throw new Error('boom');
};

test('errors thrown by onAudio, pull and close are reported, not thrown', () => {
  const errors: HandlerMethod[] = [];
  const bad: MediaHandlerFactory = () => ({ onAudio: boom, close: boom, pull: boom }) as never;
  const h = containHandler(bad, recordingContext(), (m) => errors.push(m));
  h.onAudio(inbound(Buffer.from([1]), 0));
  assert.equal(h.pull(), undefined);
  h.close();
  h.close();
  assert.deepEqual(errors, ['onAudio', 'pull', 'close']);
});

test('a throwing factory gives a silent handler; a throwing listener is swallowed too', () => {
  const h = containHandler(boom, recordingContext(), boom);
  h.onAudio(inbound(Buffer.from([1]), 0));
  assert.equal(h.pull(), undefined);
  h.close();
});

test('a well-behaved handler passes through; pull is undefined for push-only handlers and after close', () => {
  const ctx = recordingContext();
  const h = containHandler(createEchoHandler, ctx, () => assert.fail('no error expected'));
  h.onAudio(inbound(Buffer.from([4, 5]), 0));
  assert.deepEqual(ctx.sent, [Buffer.from([4, 5])]);
  assert.equal(h.pull(), undefined);
  h.close();
  h.onAudio(inbound(Buffer.from([6]), 1));
  assert.equal(ctx.sent.length, 1);
});

test('pull results that are not a non-empty Buffer are dropped', () => {
  let next: unknown = 'text';
  const odd: MediaHandlerFactory = () => ({ onAudio() {}, close() {}, pull: () => next }) as never;
  const h = containHandler(odd, recordingContext(), () => {});
  assert.equal(h.pull(), undefined);
  next = Buffer.alloc(0);
  assert.equal(h.pull(), undefined);
  next = Buffer.from([1]);
  assert.deepEqual(h.pull(), Buffer.from([1]));
});

test('canPull sees through the wrapper: true for tone, false for echo and for a failed factory', () => {
  const log = () => assert.fail('no error expected');
  assert.equal(canPull(containHandler(createToneHandler, recordingContext(), log)), true);
  assert.equal(canPull(containHandler(createEchoHandler, recordingContext(), log)), false);
  assert.equal(canPull(containHandler(boom, recordingContext(), () => {})), false);
  assert.equal(canPull(createToneHandler(recordingContext())), true);
  assert.equal(canPull(createEchoHandler(recordingContext())), false);
});

test('async says whether there is a factory to wait for: false for a sync one (also when it throws), true for a promise', async () => {
  const quiet = { onAudio() {}, close() {} };
  assert.equal(containHandler(createEchoHandler, recordingContext(), () => {}).async, false);
  assert.equal(containHandler(boom, recordingContext(), () => {}).async, false);
  const dialled = containHandler(
    () => Promise.resolve(quiet),
    recordingContext(),
    () => {},
  );
  assert.equal(dialled.async, true);
  await dialled.ready;
  const refused = containHandler(
    () => Promise.reject(new Error('refused')),
    recordingContext(),
    () => {},
  );
  assert.equal(refused.async, true);
  await assert.rejects(refused.ready, /refused/);
});
