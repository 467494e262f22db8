// What an interop or browser test needs from the machine. Outside CI a test whose parts are
// missing skips with the reason; under CI=true nothing may skip (.ci/run installs every part), so
// a missing part fails the file at once, naming it.

/** `missing`: what is not there (undefined when all is). Returns the skip reason, or false to run. */
export function skipUnlessInCi(missing: string | undefined, test: string): string | false {
  if (missing === undefined) return false;
  if (process.env.CI === 'true') throw new Error(`CI=true and ${test} cannot run: ${missing}`);
  return missing;
}
