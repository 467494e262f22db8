// Media handlers by name, chosen per call (`?handler=` or config). A HandlerRegistry is an
// instance the process builds at start and passes to the transceiver (no module-global state,
// so two transceivers in one process, or two tests, never see each other's handlers).
// `defaultHandlers()` holds `echo` and `tone`; an agent integration registers its own.
// Names travel in URLs and metrics labels, so they are short lowercase tokens.
import type { MediaHandlerFactory } from './media-handler.ts';
import { createEchoHandler } from './echo.ts';
import { HandlerError, HandlerErrorCode } from './errors.ts';
import { createToneHandler } from './tone.ts';

export const DEFAULT_HANDLER = 'echo';
const NAME = /^[a-z0-9][a-z0-9_-]{0,31}$/;

export function isValidHandlerName(name: string): boolean {
  return NAME.test(name);
}

export class HandlerRegistry {
  readonly #factories = new Map<string, MediaHandlerFactory>();

  /** Adds a handler. Throws ERR_HANDLER_BAD_NAME, or ERR_HANDLER_EXISTS unless `replace` is set. */
  register(name: string, factory: MediaHandlerFactory, options: { replace?: boolean } = {}): void {
    if (!isValidHandlerName(name)) {
      throw new HandlerError(HandlerErrorCode.BadName, `handler name ${JSON.stringify(name)} must match ${NAME.source}`);
    }
    if (typeof factory !== 'function') throw new HandlerError(HandlerErrorCode.BadOption, `handler ${name}: factory is not a function`);
    if (this.#factories.has(name) && options.replace !== true) {
      throw new HandlerError(HandlerErrorCode.Exists, `handler ${name} is already registered`);
    }
    this.#factories.set(name, factory);
  }

  /** Removes a handler; true if it was there. */
  unregister(name: string): boolean {
    return this.#factories.delete(name);
  }

  get(name: string): MediaHandlerFactory | undefined {
    return this.#factories.get(name);
  }

  /** Registered names, sorted. */
  names(): string[] {
    return [...this.#factories.keys()].sort();
  }
}

/** A registry holding the built-in handlers: `echo` (the default) and `tone`. */
export function defaultHandlers(): HandlerRegistry {
  const handlers = new HandlerRegistry();
  handlers.register('echo', createEchoHandler);
  handlers.register('tone', createToneHandler);
  return handlers;
}
