// Media handlers by name, chosen per call (`?handler=` or config). `echo` and `tone` are
// registered when this module loads; an agent integration registers its own at start-up.
// Names travel in URLs and metrics labels, so they are short lowercase tokens.
import type { MediaHandlerFactory } from '../media-handler.ts';
import { createEchoHandler } from './echo.ts';
import { HandlerError, HandlerErrorCode } from './errors.ts';
import { createToneHandler } from './tone.ts';

export const DEFAULT_HANDLER = 'echo';
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

const factories = new Map<string, MediaHandlerFactory>();

export function isValidHandlerName(name: string): boolean {
  return NAME.test(name);
}

/** Adds a handler. Throws ERR_HANDLER_BAD_NAME, or ERR_HANDLER_EXISTS unless `replace` is set. */
export function registerHandler(name: string, factory: MediaHandlerFactory, options: { replace?: boolean } = {}): void {
  if (!isValidHandlerName(name)) {
    throw new HandlerError(HandlerErrorCode.BadName, `handler name ${JSON.stringify(name)} must match ${NAME.source}`);
  }
  if (typeof factory !== 'function') throw new HandlerError(HandlerErrorCode.BadOption, `handler ${name}: factory is not a function`);
  if (factories.has(name) && options.replace !== true) {
    throw new HandlerError(HandlerErrorCode.Exists, `handler ${name} is already registered`);
  }
  factories.set(name, factory);
}

/** Removes a handler; true if it was there. For tests and hot reload; the defaults may be removed too. */
export function unregisterHandler(name: string): boolean {
  return factories.delete(name);
}

export function getHandlerFactory(name: string): MediaHandlerFactory | undefined {
  return factories.get(name);
}

/** Registered names, sorted. */
export function handlerNames(): string[] {
  return [...factories.keys()].sort();
}

registerHandler('echo', createEchoHandler);
registerHandler('tone', createToneHandler);
