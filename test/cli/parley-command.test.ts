// The `parley` command itself, run as a child process: --version / -V, the npm entry point
// (bin/parley.js) that tells an older Node what it needs instead of failing to parse
// TypeScript, package.json's engines, and `parley call --record` refusing an unwritable path
// before it makes the call.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  version: string;
  bin: Record<string, string>;
  engines?: { node?: string };
};

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(node: string, args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(node, args, { cwd: root, timeout: 30_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}
const parley = (args: string[]): Promise<Run> => run(process.execPath, ['bin/parley.ts', ...args]);

test('parley --version and -V print the version from package.json; the top help mentions it', async () => {
  for (const flag of ['--version', '-V']) {
    const r = await parley([flag]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, `parley ${pkg.version}\n`);
  }
  assert.match((await parley(['--help'])).stdout, /parley --version/);
});

test('package.json: engines asks for Node 24 (advisory: npm on an older Node still installs), and the bin is the JavaScript entry point', async () => {
  assert.equal(pkg.engines?.node, '>=24');
  assert.equal(pkg.bin.parley, './bin/parley.js');
  const r = await run(process.execPath, ['bin/parley.js', '--version']);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.stdout, `parley ${pkg.version}\n`, 'on Node 24 it hands over to bin/parley.ts');
});

/** The machine's own Node when it is older than 24 (Debian's /usr/bin/node is 20 here). */
function olderNode(): string | undefined {
  const r = spawnSync('/usr/bin/node', ['-p', 'process.versions.node'], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 && Number(r.stdout.split('.')[0]) < 24 ? '/usr/bin/node' : undefined;
}
const older = olderNode();

test(
  'on a Node older than 24, bin/parley.js says which Node it needs and which it got, exit 1, no stack trace',
  { skip: older || process.env.CI === 'true' ? false : 'no Node older than 24 at /usr/bin/node' },
  async () => {
    assert.ok(older, 'CI runs on a machine whose /usr/bin/node is older than 24');
    const version = spawnSync(older, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout.trim();
    const r = await run(older, ['bin/parley.js', 'relay', '--help']);
    assert.equal(r.code, 1);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^parley: needs Node\.js 24 or newer, and this is Node\.js /);
    assert.ok(r.stderr.includes(version), r.stderr);
    assert.doesNotMatch(r.stderr, /ERR_UNKNOWN_FILE_EXTENSION|\n\s+at /);
  },
);

test('parley call --record into a missing directory exits 2 naming --record, before any request reaches the server', async () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    res.writeHead(503).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  try {
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/realtime/calls`;
    const r = await parley(['call', url, '--seconds', '1', '--record', '/no/such/dir/x.wav']);
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /--record.*the directory \/no\/such\/dir does not exist/);
    assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
    assert.equal(requests, 0, 'no offer was posted');
    const dir = await parley(['call', url, '--seconds', '1', '--record', root]);
    assert.equal(dir.code, 2);
    assert.match(dir.stderr, /--record.* is a directory/);
    assert.equal(requests, 0);
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
});
