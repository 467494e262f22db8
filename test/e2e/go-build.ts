// The one builder of Parley's Go helper programs, all of them Pion (webrtc v3) programs built
// from Debian's packaged sources: the interop client of test/e2e/pion-client.test.ts
// (test/e2e/pion) and the ICE-lite echo server that test/e2e/pion-server.test.ts and
// `REFERENCE=pion npm run bench:calls` run (bench/pion-echo), and the pion/dtls v2 handshake
// client and server of bench/dtls-rate.ts (bench/pion-dtls). It sits beside the e2e helpers
// because bench/ already imports those (bench/browser-connect.ts); bench/calls.ts imports it
// from here rather than keeping a second builder of its own.
//
// buildGoProgram(dir) builds the main package in `dir` (its *.go files and go.mod):
// - offline, in GOPATH mode (GO111MODULE=off, GOPROXY=off) against /usr/share/gocode, where
//   golang-github-pion-webrtc.v3-dev puts Pion. The sources are copied into a GOPATH tree of
//   their own, because Go resolves Pion's /v2 and /v3 import paths in GOPATH mode ("minimal
//   module compatibility") only for code inside a GOPATH root with a go.mod;
// - cached under os.tmpdir(), keyed by a hash of the sources, `go version` and Pion's go.mod, so
//   it is built once per change (renamed into place: a concurrent run sees all of it or none);
// - at nice 10 (the machine is shared) and killed when `timeoutMs` passes;
// - never writing into the repository.
// Missing Go or Pion is a GoBuildError naming the apt packages; tests call findGoToolchain()
// first to skip (or, with CI=true, fail) with that reason. Not here: running the programs.
import { execFile, spawn } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { setPriority, tmpdir } from 'node:os';
import { basename, join } from 'node:path';

/** Where Debian's golang-*-dev packages put their sources (a GOPATH root). */
export const GOCODE = '/usr/share/gocode';
/** Debian's golang-github-pion-webrtc.v3-dev: module github.com/pion/webrtc/v3 in a GOPATH layout. */
export const PION_WEBRTC = join(GOCODE, 'src/github.com/pion/webrtc');
export const APT_PACKAGES = 'golang-go golang-github-pion-webrtc.v3-dev';

const CACHE_ROOT = join(tmpdir(), 'parley-go-build');

export const GoBuildErrorCode = {
  /** `go` or Pion's sources are not installed. */
  ToolchainMissing: 'ERR_GO_TOOLCHAIN_MISSING',
  /** `go build` failed or ran over its time. */
  BuildFailed: 'ERR_GO_BUILD_FAILED',
} as const;
export type GoBuildErrorCode = (typeof GoBuildErrorCode)[keyof typeof GoBuildErrorCode];

export class GoBuildError extends Error {
  readonly code: GoBuildErrorCode;
  constructor(code: GoBuildErrorCode, message: string) {
    super(message);
    this.name = 'GoBuildError';
    this.code = code;
  }
}

export type GoToolchain = { readonly ok: true; readonly goVersion: string } | { readonly ok: false; readonly reason: string };

/** Whether `go` runs and Pion's sources are installed; `reason` says what is missing (APT_PACKAGES provide both). */
export async function findGoToolchain(): Promise<GoToolchain> {
  let goVersion: string;
  try {
    goVersion = (await execFileText('go', ['version'], { ...process.env, GOENV: 'off', GOTOOLCHAIN: 'local' }, 10_000)).trim();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { ok: false, reason: 'go is not on PATH' };
    return { ok: false, reason: `\`go version\` failed (${(err as Error).message.split('\n')[0]})` };
  }
  try {
    await access(join(PION_WEBRTC, 'go.mod'));
  } catch {
    return { ok: false, reason: `Pion webrtc v3 sources are not at ${PION_WEBRTC}` };
  }
  return { ok: true, goVersion };
}

export interface BuiltProgram {
  readonly path: string;
  /** False when the cached binary was used. */
  readonly built: boolean;
  readonly ms: number;
  readonly goVersion: string;
}

/** The binary of the Go main package in `dir`: from the cache, or built with `go build` within `timeoutMs`. */
export async function buildGoProgram(dir: string, timeoutMs: number): Promise<BuiltProgram> {
  const started = performance.now();
  const toolchain = await findGoToolchain();
  if (!toolchain.ok)
    throw new GoBuildError(
      GoBuildErrorCode.ToolchainMissing,
      `cannot build ${dir}: ${toolchain.reason}; Go and Debian's Pion sources: apt-get install ${APT_PACKAGES}`,
    );
  const { goVersion } = toolchain;
  const files = (await readdir(dir)).filter((f) => f.endsWith('.go') || f === 'go.mod').sort();
  // Named as its go.mod names the module (the directory's name without one).
  const moduleName = files.includes('go.mod') ? /^module\s+(\S+)/m.exec(await readFile(join(dir, 'go.mod'), 'utf8'))?.[1] : undefined;
  const name = basename(moduleName ?? dir);
  const hash = createHash('sha256')
    .update(goVersion)
    .update(await readFile(join(PION_WEBRTC, 'go.mod')));
  for (const f of files) hash.update(`\0${f}\0`).update(await readFile(join(dir, f)));
  const binary = join(CACHE_ROOT, `${name}-${hash.digest('hex').slice(0, 20)}`, name);
  const done = (built: boolean): BuiltProgram => ({ path: binary, built, ms: performance.now() - started, goVersion });
  try {
    await access(binary, constants.X_OK);
    return done(false);
  } catch {
    // not built yet for these sources
  }

  await mkdir(CACHE_ROOT, { recursive: true });
  const work = await mkdtemp(join(CACHE_ROOT, 'build-'));
  try {
    const pkg = join(work, 'gopath', 'src', name);
    await mkdir(pkg, { recursive: true });
    for (const f of files) await copyFile(join(dir, f), join(pkg, f));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // GOPATH mode: the package sits in a GOPATH root of its own, Debian's sources in the next.
      GO111MODULE: 'off',
      GOPATH: `${join(work, 'gopath')}:${GOCODE}`,
      // Offline and unaffected by the user's `go env -w` settings; pure Go, no C compiler.
      GOPROXY: 'off',
      GOFLAGS: '',
      GOENV: 'off',
      GOTOOLCHAIN: 'local',
      CGO_ENABLED: '0',
    };
    // The user's build cache (shared by every program here: Pion is compiled once) when there is one.
    if (!env.GOCACHE && !env.XDG_CACHE_HOME && !env.HOME) env.GOCACHE = join(CACHE_ROOT, 'gocache');
    const out = join(work, name);
    await runBounded('go', ['build', '-trimpath', '-o', out, '.'], pkg, env, timeoutMs);
    await mkdir(join(binary, '..'), { recursive: true });
    await rename(out, binary);
    return done(true);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

function execFileText(file: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(file, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout) => (err ? reject(err) : resolve(stdout)));
  });
}

/** Runs a build step at lower CPU priority (this machine is shared), killed after `timeoutMs`. */
function runBounded(file: string, args: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    // Set before `go` has loaded the packages, so the compiler processes it starts inherit it.
    try {
      if (child.pid !== undefined) setPriority(child.pid, 10);
    } catch {
      // not permitted here: build at normal priority
    }
    let output = '';
    child.stdout.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr.on('data', (d: Buffer) => (output += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(new GoBuildError(GoBuildErrorCode.BuildFailed, `${file} ${args.join(' ')} in ${cwd}: ${err.message}`));
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else
        reject(
          new GoBuildError(
            GoBuildErrorCode.BuildFailed,
            `${file} ${args.join(' ')} in ${cwd} failed (${signal ?? `exit ${code}`}${signal === 'SIGKILL' ? `, over ${timeoutMs} ms` : ''}):\n${output}`,
          ),
        );
    });
  });
}
