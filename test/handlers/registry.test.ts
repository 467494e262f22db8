import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_HANDLER, HandlerRegistry, defaultHandlers, isValidHandlerName } from '../../src/transceiver/handlers/registry.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { createToneHandler } from '../../src/transceiver/handlers/tone.ts';
import type { MediaHandlerFactory } from '../../src/transceiver/handlers/media-handler.ts';

const noop: MediaHandlerFactory = () => ({ onAudio() {}, close() {} });

test('the default registry holds echo and tone, and echo is the default', () => {
  const handlers = defaultHandlers();
  assert.equal(DEFAULT_HANDLER, 'echo');
  assert.equal(handlers.get('echo'), createEchoHandler);
  assert.equal(handlers.get('tone'), createToneHandler);
  assert.deepEqual(handlers.names(), ['echo', 'tone']);
});

test('unknown names look up as undefined (the signaling layer answers 400)', () => {
  const handlers = defaultHandlers();
  for (const name of ['nope', '', 'ECHO', '__proto__', 'constructor', 'toString']) {
    assert.equal(handlers.get(name), undefined, name);
  }
});

test('register adds a name; names come back sorted; unregister removes it', () => {
  const handlers = defaultHandlers();
  handlers.register('zz-test', noop);
  handlers.register('aa_test', noop);
  assert.equal(handlers.get('zz-test'), noop);
  assert.deepEqual(handlers.names(), ['aa_test', 'echo', 'tone', 'zz-test']);
  assert.equal(handlers.unregister('zz-test'), true);
  assert.equal(handlers.unregister('zz-test'), false);
  assert.equal(handlers.get('zz-test'), undefined);
});

test('registering a taken name needs replace: true', () => {
  const handlers = defaultHandlers();
  assert.throws(() => handlers.register('echo', noop), { code: 'ERR_HANDLER_EXISTS' });
  handlers.register('echo', noop, { replace: true });
  assert.equal(handlers.get('echo'), noop);
});

test('registries are independent instances (no process-global handler table)', () => {
  const a = defaultHandlers();
  const b = defaultHandlers();
  a.register('only-in-a', noop);
  assert.equal(b.get('only-in-a'), undefined);
  assert.deepEqual(new HandlerRegistry().names(), []);
});

test('names must be short lowercase URL-safe tokens', () => {
  const handlers = new HandlerRegistry();
  for (const good of ['echo', 'a', 'agent-1', 'x_y', '0tone', 'a'.repeat(32)]) assert.ok(isValidHandlerName(good), good);
  for (const bad of ['', 'Echo', '-x', '_x', 'a b', 'a/b', 'a?b', 'é', 'a'.repeat(33)]) {
    assert.equal(isValidHandlerName(bad), false, bad);
    assert.throws(() => handlers.register(bad, noop), { code: 'ERR_HANDLER_BAD_NAME' });
  }
  assert.throws(() => handlers.register('ok-name', 'nope' as unknown as MediaHandlerFactory), { code: 'ERR_HANDLER_BAD_OPTION' });
});

test('echo and tone are registered as synchronous; the flag follows replace and unregister', () => {
  const handlers = defaultHandlers();
  assert.equal(handlers.synchronous('echo'), true);
  assert.equal(handlers.synchronous('tone'), true);
  assert.equal(handlers.synchronous('nope'), false);
  handlers.register('mine', noop);
  assert.equal(handlers.synchronous('mine'), false);
  handlers.register('mine', noop, { replace: true, synchronous: true });
  assert.equal(handlers.synchronous('mine'), true);
  // A replacement that does not say so is not synchronous (it may dial an agent).
  handlers.register('echo', noop, { replace: true });
  assert.equal(handlers.synchronous('echo'), false);
  handlers.unregister('mine');
  handlers.register('mine', noop);
  assert.equal(handlers.synchronous('mine'), false);
});
