// The lint rules that keep the house's shape bite (eslint.config.js): a transceiver → relay
// import, a client → transceiver import and a core → common import each fail lint, and so does an
// import cycle, even one closed by a type-only import, and a file off the prettier style. Each
// case lints real code with the project's own config, so a rule that is switched off or
// misconfigured fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ESLint } from 'eslint';

const root = fileURLToPath(new URL('../../', import.meta.url));
const eslint = new ESLint({ cwd: root, ignore: false });

async function ruleIds(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: `${root}${filePath}` });
  return result.messages.map((m) => m.ruleId ?? `fatal: ${m.message}`);
}

test('a transceiver file importing the relay fails lint (processes meet through src/contracts)', async () => {
  const ids = await ruleIds('src/transceiver/probe.ts', "import { route } from '../relay/route.ts';\nexport const r = route;\n");
  assert.deepEqual(ids, ['import-x/no-restricted-paths']);
});

test('a relay file importing the transceiver fails lint', async () => {
  const ids = await ruleIds(
    'src/relay/probe.ts',
    "import { CallRegistry } from '../transceiver/calls/call-registry.ts';\nexport const c = CallRegistry;\n",
  );
  assert.deepEqual(ids, ['import-x/no-restricted-paths']);
});

test('the client importing the transceiver fails lint', async () => {
  const ids = await ruleIds(
    'src/client/probe.ts',
    "import { CallRegistry } from '../transceiver/calls/call-registry.ts';\nexport const c = CallRegistry;\n",
  );
  assert.deepEqual(ids, ['import-x/no-restricted-paths']);
});

test('src/core importing anything above it fails lint', async () => {
  const ids = await ruleIds('src/core/probe.ts', "import { systemClock } from '../common/clock.ts';\nexport const c = systemClock;\n");
  assert.deepEqual(ids, ['import-x/no-restricted-paths']);
});

test('allowed directions pass: transceiver → core, relay → common', async () => {
  assert.deepEqual(
    await ruleIds('src/transceiver/probe.ts', "import { formatAddress } from '../core/address.ts';\nexport const f = formatAddress;\n"),
    [],
  );
  assert.deepEqual(
    await ruleIds('src/relay/probe.ts', "import { systemClock } from '../common/clock.ts';\nexport const c = systemClock;\n"),
    [],
  );
});

test('an import cycle fails lint on both files, even when one edge is type-only', async () => {
  const results = await eslint.lintFiles([
    'test/lint/fixtures/cycle-a.ts',
    'test/lint/fixtures/cycle-b.ts',
    'test/lint/fixtures/acyclic.ts',
  ]);
  const byFile = Object.fromEntries(results.map((r) => [r.filePath.slice(root.length), r.messages]));
  for (const f of ['test/lint/fixtures/cycle-a.ts', 'test/lint/fixtures/cycle-b.ts']) {
    assert.deepEqual(
      byFile[f].map((m) => m.ruleId),
      ['parley/no-import-cycle'],
      f,
    );
    assert.match(
      byFile[f][0].message,
      /cycle-a\.ts → test\/lint\/fixtures\/cycle-b\.ts → test\/lint\/fixtures\/cycle-a\.ts|cycle-b\.ts → test\/lint\/fixtures\/cycle-a\.ts → test\/lint\/fixtures\/cycle-b\.ts/,
    );
  }
  assert.deepEqual(byFile['test/lint/fixtures/acyclic.ts'], [], 'importing a cycle member is not itself a cycle');
});

test('the normal lint run ignores the fixtures (they exist to fail)', async () => {
  assert.equal(await new ESLint({ cwd: root }).isPathIgnored(`${root}test/lint/fixtures/cycle-a.ts`), true);
});

test('the formatter is part of lint: a file off the project style fails prettier --check', () => {
  // prettier's CLI in a child (its API leaves a pipe open in this process), on stdin with the
  // path a source file would have, so .prettierrc.json applies.
  const check = (code: string): number =>
    spawnSync(`${root}node_modules/.bin/prettier`, ['--check', '--stdin-filepath', 'src/probe.ts'], { cwd: root, input: code }).status ??
    -1;
  assert.equal(check("export const a = { b: 1, c: 'x' };\n"), 0);
  assert.notEqual(check('export const a = {b:1,c:"x"}\n'), 0);
  const long = `export const a = [${Array.from({ length: 40 }, (_, i) => `'item${i}'`).join(', ')}];\n`;
  assert.notEqual(check(long), 0, 'a line past 140 columns is re-wrapped');
});
