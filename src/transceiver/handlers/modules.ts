// Handler modules (`--handler-module FILE`, PARLEY_HANDLER_MODULES): files loaded at start whose
// default export (or named export `register`) is `register(handlers)`, sync or async, adding
// media handlers to the process's registry before the config checks `--handler` against it.
// A file that is missing, fails to import, exports no register function, or whose register
// throws is a configuration error naming the setting (exit 2). Trusted code, like a config file.
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError } from '../../common/config-error.ts';
import type { HandlerRegistry } from './registry.ts';

export const HANDLER_MODULE_SETTING = '--handler-module / PARLEY_HANDLER_MODULES';

/** What a handler module exports (default, or as `register`). */
export type RegisterHandlers = (handlers: HandlerRegistry) => void | Promise<void>;

/** Imports each file (relative to the working directory) and runs its register function, in order. */
export async function loadHandlerModules(files: readonly string[], handlers: HandlerRegistry): Promise<void> {
  for (const file of files) {
    const url = pathToFileURL(resolve(file)).href;
    let mod: { default?: unknown; register?: unknown };
    try {
      mod = (await import(url)) as typeof mod;
    } catch (err) {
      throw new ConfigError(HANDLER_MODULE_SETTING, `${file}: cannot be loaded: ${(err as Error).message}`);
    }
    const register = typeof mod.default === 'function' ? mod.default : mod.register;
    if (typeof register !== 'function')
      throw new ConfigError(
        HANDLER_MODULE_SETTING,
        `${file}: exports no register function (export default function register(handlers) { … })`,
      );
    try {
      await (register as RegisterHandlers)(handlers);
    } catch (err) {
      throw new ConfigError(HANDLER_MODULE_SETTING, `${file}: register(handlers) failed: ${(err as Error).message}`);
    }
  }
}
