// Preloaded (`--import`) by test/native-asan/run.ts into the test processes it starts: every
// addon that src/ loads from native/build/Release/ is loaded from PARLEY_NATIVE_ASAN_DIR instead,
// the sanitizer build of the same sources. src/ keeps its one addon path; only this test run
// swaps the binary underneath it.
const dir = process.env.PARLEY_NATIVE_ASAN_DIR;
if (!dir) throw new Error('PARLEY_NATIVE_ASAN_DIR is not set (run through `npm run test:native-asan`)');
const release = '/native/build/Release/';
const dlopen = process.dlopen.bind(process);
process.dlopen = (module: { exports: unknown }, filename: string, flags?: number): void => {
  const at = filename.lastIndexOf(release);
  const swapped = at >= 0 ? `${dir}/${filename.slice(at + release.length)}` : filename;
  if (flags === undefined) dlopen(module, swapped);
  else dlopen(module, swapped, flags);
};
