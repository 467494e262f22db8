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

export interface RegisterOptions {
  /** Replaces a handler of the same name (else ERR_HANDLER_EXISTS). */
  readonly replace?: boolean;
  /**
   * The factory never returns a promise (it dials nothing): nothing it does can refuse a call, so
   * the call's answer is sent before its session is built (calls/call-registry.ts). A factory
   * that returns a promise all the same is waited for after the answer, and its failure ends the
   * call (`agent_error`) instead of refusing the POST.
   */
  readonly synchronous?: boolean;
}

export class HandlerRegistry {
  readonly #factories = new Map<string, MediaHandlerFactory>();
  readonly #synchronous = new Set<string>();

  /** Adds a handler. Throws ERR_HANDLER_BAD_NAME, or ERR_HANDLER_EXISTS unless `replace` is set. */
  register(name: string, factory: MediaHandlerFactory, options: RegisterOptions = {}): void {
    if (!isValidHandlerName(name)) {
      throw new HandlerError(HandlerErrorCode.BadName, `handler name ${JSON.stringify(name)} must match ${NAME.source}`);
    }
    if (typeof factory !== 'function') throw new HandlerError(HandlerErrorCode.BadOption, `handler ${name}: factory is not a function`);
    if (this.#factories.has(name) && options.replace !== true) {
      throw new HandlerError(HandlerErrorCode.Exists, `handler ${name} is already registered`);
    }
    this.#factories.set(name, factory);
    if (options.synchronous === true) this.#synchronous.add(name);
    else this.#synchronous.delete(name);
  }

  /** Removes a handler; true if it was there. */
  unregister(name: string): boolean {
    this.#synchronous.delete(name);
    return this.#factories.delete(name);
  }

  /** Whether the handler was registered as `synchronous` (its calls are answered before their session is built). */
  synchronous(name: string): boolean {
    return this.#synchronous.has(name);
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
  handlers.register('echo', createEchoHandler, { synchronous: true });
  handlers.register('tone', createToneHandler, { synchronous: true });
  return handlers;
}
