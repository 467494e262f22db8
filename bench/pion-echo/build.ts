// Builds bench/pion-echo (the Pion reference of `REFERENCE=pion npm run bench:calls`) offline from
// Debian's Go sources (golang-go, golang-github-pion-webrtc.v3-dev under /usr/share/gocode) and
// returns the binary's path. GOPATH mode, GO111MODULE=off, GOPROXY=off: no network. The sources
// are copied into a GOPATH tree under os.tmpdir(), because Go resolves Pion's /v2 and /v3 import
// paths in GOPATH mode ("minimal module compatibility") only for code inside a GOPATH with a
// go.mod. The binary is cached there, keyed by a hash of the sources and the Go version, so it is
// built once per change and never in the repository.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const SOURCES = ['main.go', 'go.mod'];
const GOCODE = '/usr/share/gocode';
const INSTALL = 'apt-get install -y golang-go golang-github-pion-webrtc.v3-dev';

export function buildPionEcho(): string {
  const here = new URL('.', import.meta.url).pathname;
  const version = spawnSync('go', ['version'], { encoding: 'utf8' });
  if (version.error || version.status !== 0 || !existsSync(join(GOCODE, 'src/github.com/pion/webrtc'))) {
    throw new Error(`REFERENCE=pion needs Go and Debian's Pion sources: ${INSTALL}`);
  }
  const hash = createHash('sha256').update(version.stdout);
  for (const f of SOURCES) hash.update(f).update(readFileSync(join(here, f)));
  const dir = join(tmpdir(), `parley-pion-echo-${hash.digest('hex').slice(0, 16)}`);
  const bin = join(dir, 'pion-echo');
  if (existsSync(bin)) return bin;
  const pkg = join(dir, 'gopath/src/pion-echo');
  mkdirSync(pkg, { recursive: true });
  for (const f of SOURCES) copyFileSync(join(here, f), join(pkg, f));
  const env = {
    ...process.env, GO111MODULE: 'off', GOPROXY: 'off', GOFLAGS: '',
    GOPATH: `${join(dir, 'gopath')}:${GOCODE}`, GOCACHE: join(tmpdir(), 'parley-pion-echo-gocache'),
  };
  const build = spawnSync('go', ['build', '-o', `${bin}.tmp`, '.'], { cwd: pkg, env, encoding: 'utf8', timeout: 600_000 });
  if (build.status !== 0) throw new Error(`go build of bench/pion-echo failed:\n${build.stderr}${build.error?.message ?? ''}`);
  renameSync(`${bin}.tmp`, bin);
  return bin;
}
