// What a user of the repository reads and runs stands on the repository alone: README and docs
// point at no team-internal file (DESIGN.md, STYLE.md) and no path outside the checkout, the
// docs describe pull() as what it is (supported, not proposed), and the relay benchmark builds
// its load generator from bench/ while the comparison with external reference relays takes
// their directory as an argument.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOAD_PROGRAMS, LOAD_TOOLS } from '../bench/relay/harness.ts';

const root = fileURLToPath(new URL('../', import.meta.url));

function files(dir: string, ext: RegExp): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(root, dir), { withFileTypes: true, recursive: true }))
    if (e.isFile() && ext.test(e.name)) out.push(join(e.parentPath, e.name));
  return out;
}
const docs = [join(root, 'README.md'), ...files('docs', /\.md$/)];
const bench = files('bench', /\.(ts|sh|md|c|h|go)$/);

test('README and docs/ point at no file users do not have (DESIGN.md, STYLE.md)', () => {
  for (const f of docs) assert.doesNotMatch(readFileSync(f, 'utf8'), /\b(DESIGN|STYLE)\.md\b/, relative(root, f));
});

test('README, docs/ and bench/ name no absolute path into the machine they were written on', () => {
  for (const f of [...docs, ...bench]) assert.doesNotMatch(readFileSync(f, 'utf8'), /\/work\//, relative(root, f));
});

test('docs/media.md describes pull() as supported, not as a proposal', () => {
  const lines = readFileSync(join(root, 'docs/media.md'), 'utf8').split('\n');
  const about = lines.filter((l) => /pull/.test(l));
  assert.ok(about.length > 3);
  for (const l of about) assert.doesNotMatch(l, /propos/i, l);
});

test('the relay benchmark builds its generator, sink and spinner from bench/relay/load', () => {
  for (const p of LOAD_PROGRAMS) assert.ok(existsSync(join(LOAD_TOOLS, `${p}.c`)), p);
  assert.ok(existsSync(join(LOAD_TOOLS, 'common.h')));
  assert.ok(LOAD_TOOLS.startsWith(root));
});

test('bench/relay-vs-reference.sh without the reference harness directory exits 2 with its usage', () => {
  const r = spawnSync('bash', [join(root, 'bench/relay-vs-reference.sh')], {
    encoding: 'utf8',
    timeout: 10_000,
    env: { ...process.env, RELAY_BENCH_DIR: '' },
  });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /^usage: bench\/relay-vs-reference\.sh RELAY_BENCH_DIR/);
  assert.match(r.stderr, /npm run bench:relay/);
});
