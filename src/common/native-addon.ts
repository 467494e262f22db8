// Loading our C addons (native/, built by `npm ci` through node-gyp into native/build/Release/):
// one place that says why an addon cannot be used — not Linux, not built, fails to load, or built
// from older sources than the TypeScript that calls it — so every caller can fall back (or, when
// the addon was asked for by name, refuse the config) with the reason. Each addon loads once per
// process; the answer, addon or Error, is kept.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';

export interface NativeAddonSpec<T> {
  /** The file name in native/build/Release/, e.g. `parley_srtp.node`. */
  readonly file: string;
  /** What it is, for the message on other platforms: "the native SRTP transform". */
  readonly what: string;
  /** Why a loaded addon is unusable (a stale build, a missing system library), or undefined when it is usable. */
  readonly check?: (addon: T) => string | undefined;
}

/** Where `file` is built. */
export function nativeAddonPath(file: string): string {
  return new URL(`../../native/build/Release/${file}`, import.meta.url).pathname;
}

/** A loader for one addon: the addon, or why it cannot be used. Loads on the first call, then answers from memory. */
export function nativeAddonLoader<T>(spec: NativeAddonSpec<T>): () => T | Error {
  let loaded: T | Error | undefined;
  return () => (loaded ??= loadNativeAddon(spec));
}

function loadNativeAddon<T>({ file, what, check }: NativeAddonSpec<T>): T | Error {
  if (process.platform !== 'linux') return new Error(`${what} is built on Linux only (this is ${process.platform})`);
  const path = nativeAddonPath(file);
  if (!existsSync(path)) return new Error(`${path} is not built (npm ci builds it with node-gyp)`);
  let addon: T;
  try {
    addon = createRequire(import.meta.url)(path) as T;
  } catch (err) {
    return new Error(`cannot load ${path}: ${(err as Error).message}`);
  }
  const unusable = check?.(addon);
  return unusable === undefined ? addon : new Error(`${path}: ${unusable}`);
}
