// Builds and runs the Pion interop client (main.go here) for test/e2e/pion-client.test.ts.
// The build is offline, in GOPATH mode against Debian's packaged sources (go.mod says why),
// and its binary is cached under os.tmpdir() keyed by a hash of the Go sources, the Go version
// and Pion's go.mod, so repeated runs do not rebuild; nothing is written into the repository.
// Every process started here is bounded by a deadline and killed when it passes.
import { execFile, spawn } from 'node:child_process';
import { access, copyFile, mkdir, mkdtemp, readFile, readdir, rename, rm } from 'node:fs/promises';
import { constants } from 'node:fs';
import { createHash } from 'node:crypto';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Where Debian's golang-*-dev packages put their sources (a GOPATH root). */
export const GOCODE = '/usr/share/gocode';
/** Debian's golang-github-pion-webrtc.v3-dev: module github.com/pion/webrtc/v3 in a GOPATH layout. */
export const PION_WEBRTC = join(GOCODE, 'src/github.com/pion/webrtc');
export const APT_PACKAGES = 'golang-go golang-github-pion-webrtc.v3-dev';

const SRC = fileURLToPath(new URL('./', import.meta.url));
const CACHE_ROOT = join(tmpdir(), 'parley-pion-client');
const PACKAGE = 'parley-pion-client';

export type Toolchain = { readonly ok: true; readonly goVersion: string } | { readonly ok: false; readonly reason: string };

/** Whether `go` runs and Pion's sources are installed; `reason` says what is missing. */
export async function findToolchain(): Promise<Toolchain> {
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

export interface BuiltClient {
  readonly path: string;
  /** False when the cached binary was used. */
  readonly built: boolean;
  readonly ms: number;
}

/** The client binary for the current sources: from the cache, or built with `go build` within `timeoutMs`. */
export async function buildPionClient(goVersion: string, timeoutMs: number): Promise<BuiltClient> {
  const started = performance.now();
  const files = (await readdir(SRC)).filter((f) => f.endsWith('.go') || f === 'go.mod').sort();
  const hash = createHash('sha256').update(goVersion).update(await readFile(join(PION_WEBRTC, 'go.mod')));
  for (const f of files) hash.update(`\0${f}\0`).update(await readFile(join(SRC, f)));
  const dir = join(CACHE_ROOT, hash.digest('hex').slice(0, 20));
  const binary = join(dir, 'pion-client');
  try {
    await access(binary, constants.X_OK);
    return { path: binary, built: false, ms: performance.now() - started };
  } catch {
    // not built yet for these sources
  }

  await mkdir(CACHE_ROOT, { recursive: true });
  const work = await mkdtemp(join(CACHE_ROOT, 'build-'));
  try {
    const pkg = join(work, 'gopath', 'src', PACKAGE);
    await mkdir(pkg, { recursive: true });
    for (const f of files) await copyFile(join(SRC, f), join(pkg, f));
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // GOPATH mode: the package sits in a GOPATH root of its own, Debian's sources in the next.
      GO111MODULE: 'off', GOPATH: `${join(work, 'gopath')}:${GOCODE}`,
      // Offline and unaffected by the user's `go env -w` settings; pure Go, no C compiler.
      GOPROXY: 'off', GOFLAGS: '', GOENV: 'off', GOTOOLCHAIN: 'local', CGO_ENABLED: '0',
    };
    if (!env.GOCACHE && !env.XDG_CACHE_HOME && !env.HOME) env.GOCACHE = join(CACHE_ROOT, 'gocache');
    const out = join(work, 'pion-client');
    await runBounded('go', ['build', '-trimpath', '-o', out, '.'], pkg, env, timeoutMs);
    await mkdir(dir, { recursive: true });
    // Atomic: a concurrent run sees the whole binary or none.
    await rename(out, binary);
    return { path: binary, built: true, ms: performance.now() - started };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** What main.go prints as its one JSON line. */
export interface PionResult {
  readonly connected: boolean;
  readonly connectMs: number;
  readonly srtpProfile?: string;
  readonly dtlsRole?: 'client' | 'server';
  readonly dtlsCipherSuite?: string;
  readonly remoteCandidate?: string;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  readonly payloadMismatch: number;
  readonly rtcpReceived: number;
  readonly location?: string;
  readonly hangupStatus?: number;
  readonly error?: string;
}

export interface PionRun {
  readonly code: number | null;
  readonly result: PionResult | undefined;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs the client to completion; SIGKILL after `timeoutMs` (the result then says so). */
export function runPionClient(binary: string, args: string[], timeoutMs: number): Promise<PionRun> {
  const child = spawn(binary, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      stderr += `\n(killed after ${timeoutMs} ms)`;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('close', (code) => {
      clearTimeout(timer);
      let result: PionResult | undefined;
      try {
        result = JSON.parse(stdout.trim().split('\n').pop() ?? '') as PionResult;
      } catch {
        result = undefined;
      }
      resolve({ code, result, stdout, stderr });
    });
  });
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
      reject(err);
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) resolve();
      else reject(new Error(`${file} ${args.join(' ')} failed (${signal ?? `exit ${code}`}${signal === 'SIGKILL' ? `, over ${timeoutMs} ms` : ''}):\n${output}`));
    });
  });
}
