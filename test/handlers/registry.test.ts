import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DEFAULT_HANDLER, getHandlerFactory, handlerNames, isValidHandlerName, registerHandler, unregisterHandler,
} from '../../src/transceiver/handlers/registry.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { createToneHandler } from '../../src/transceiver/handlers/tone.ts';
import type { MediaHandlerFactory } from '../../src/transceiver/media-handler.ts';

const noop: MediaHandlerFactory = () => ({ onAudio() {}, close() {} });

test('echo and tone are registered by default, and echo is the default', () => {
  assert.equal(DEFAULT_HANDLER, 'echo');
  assert.equal(getHandlerFactory('echo'), createEchoHandler);
  assert.equal(getHandlerFactory('tone'), createToneHandler);
  assert.ok(handlerNames().includes('echo') && handlerNames().includes('tone'));
});

test('unknown names look up as undefined (the signaling layer answers 400)', () => {
  for (const name of ['nope', '', 'ECHO', '__proto__', 'constructor', 'toString']) {
    assert.equal(getHandlerFactory(name), undefined, name);
  }
});

test('registerHandler adds a name; names come back sorted; unregister removes it', () => {
  registerHandler('zz-test', noop);
  registerHandler('aa_test', noop);
  try {
    assert.equal(getHandlerFactory('zz-test'), noop);
    const names = handlerNames();
    assert.deepEqual(names, [...names].sort());
    assert.ok(names.includes('aa_test'));
  } finally {
    assert.equal(unregisterHandler('zz-test'), true);
    assert.equal(unregisterHandler('aa_test'), true);
  }
  assert.equal(unregisterHandler('zz-test'), false);
  assert.equal(getHandlerFactory('zz-test'), undefined);
});

test('registering a taken name needs replace: true', () => {
  assert.throws(() => registerHandler('echo', noop), { code: 'ERR_HANDLER_EXISTS' });
  registerHandler('echo', noop, { replace: true });
  try {
    assert.equal(getHandlerFactory('echo'), noop);
  } finally {
    registerHandler('echo', createEchoHandler, { replace: true });
  }
});

test('names must be short lowercase URL-safe tokens', () => {
  for (const good of ['echo', 'a', 'agent-1', 'x_y', '0tone', 'a'.repeat(32)]) assert.ok(isValidHandlerName(good), good);
  for (const bad of ['', 'Echo', '-x', '_x', 'a b', 'a/b', 'a?b', 'é', 'a'.repeat(33)]) {
    assert.equal(isValidHandlerName(bad), false, bad);
    assert.throws(() => registerHandler(bad, noop), { code: 'ERR_HANDLER_BAD_NAME' });
  }
  assert.throws(() => registerHandler('ok-name', 'nope' as unknown as MediaHandlerFactory), { code: 'ERR_HANDLER_BAD_OPTION' });
});
