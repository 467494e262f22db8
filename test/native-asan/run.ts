// `npm run test:native-asan` (issue #19): builds the C addons with AddressSanitizer and
// UndefinedBehaviorSanitizer into a build directory of their own (the normal build in
// native/build is left alone) and runs the native test files against that build.
// - UBSan is fatal (-fno-sanitize-recover=all): any report fails the run, not just prints.
// - Node itself is not ASan-built, so the ASan runtime must be first in the process: it is
//   LD_PRELOADed (the libasan of the compiler that built the addons), leak detection is off (Node
//   leaves allocations at exit that are not ours) and ASan does not insist on being first in the
//   library list (verify_asan_link_order=0).
// - The test processes load the sanitizer build through test/native-asan/redirect-addons.ts.
// Exits non-zero when the build fails, a test fails, or a sanitizer reports.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
/**
 * The native test files: the relay datapath and its first-check verifier, the native SRTP transforms and DTLS record AEAD, the
 * media socket, the Opus decoder, loss recovery and encoder (inline and on codec threads), the
 * DTLS X25519, PRF, peer keys and signer, the transceiver's token mint, the STUN MESSAGE-INTEGRITY HMAC.
 */
const DEFAULT_FILES = [
  'test/relay/native-datapath.test.ts',
  'test/relay/first-check.test.ts',
  'test/transceiver/srtp-native-matches-typescript.test.ts',
  'test/transceiver/srtp-native-gcm-matches-typescript.test.ts',
  'test/transceiver/media-socket-native.test.ts',
  'test/media/opus-fec-recovery.test.ts',
  'test/transceiver/dtls-x25519-native.test.ts',
  'test/transceiver/dtls-prf-native.test.ts',
  'test/transceiver/dtls-peer-key-native.test.ts',
  'test/transceiver/dtls-signer-native.test.ts',
  'test/transceiver/dtls-aead-native-matches-node.test.ts',
  'test/transceiver/native-token-sealer.test.ts',
  'test/transceiver/stun-integrity-native.test.ts',
  'test/media/codec-pool.test.ts',
  'test/handlers/pcm-codec-modes.test.ts',
];
/** `npm run test:native-asan -- FILE…` runs only those files against the sanitizer build. */
const FILES = process.argv.length > 2 ? process.argv.slice(2) : DEFAULT_FILES;
const SANITIZE = '-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer -g';

const started = performance.now();
const work = join(tmpdir(), 'parley-native-asan');
rmSync(work, { recursive: true, force: true });
mkdirSync(work, { recursive: true });
cpSync(join(root, 'native/binding.gyp'), join(work, 'binding.gyp'));
cpSync(join(root, 'native/src'), join(work, 'src'), { recursive: true });
execFileSync('node-gyp', ['rebuild', '-C', work], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, CC: 'gcc', CFLAGS: SANITIZE, LDFLAGS: '-fsanitize=address,undefined' },
});
const libasan = execFileSync('gcc', ['-print-file-name=libasan.so'], { encoding: 'utf8' }).trim();
console.log(`native-asan: built in ${((performance.now() - started) / 1000).toFixed(1)} s; preloading ${libasan}`);

const { NODE_TEST_CONTEXT: _nested, ...inherited } = process.env;
const child = spawn(
  process.execPath,
  [
    '--test',
    '--import',
    './test/support/leak-check.ts',
    '--import',
    './test/native-asan/redirect-addons.ts',
    '--test-concurrency=1',
    '--test-timeout=120000',
    ...FILES,
  ],
  {
    cwd: root,
    stdio: 'inherit',
    env: {
      ...inherited,
      CI: 'true', // no test may skip because an addon did not load
      PARLEY_NATIVE_ASAN_DIR: join(work, 'build/Release'),
      LD_PRELOAD: libasan,
      ASAN_OPTIONS: 'detect_leaks=0:verify_asan_link_order=0:abort_on_error=1:halt_on_error=1',
      UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1',
    },
  },
);
const timer = setTimeout(() => child.kill('SIGKILL'), 300_000);
child.once('exit', (code, signal) => {
  clearTimeout(timer);
  console.log(
    `native-asan: ${code === 0 ? 'passed' : `FAILED (${signal ?? `exit ${code}`})`} in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
  process.exitCode = code === 0 ? 0 : 1;
});
