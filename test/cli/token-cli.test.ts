// The real `parley keys` / `parley token` commands, run as child processes with Node 24:
// generate a keyring, mint with it, inspect the result, and the error paths' exit statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const node = join(root, 'node_modules/.bin/node');

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function parley(args: string[], env: Record<string, string> = {}): Promise<Run> {
  const { PARLEY_KEYS: _drop, ...base } = process.env;
  return new Promise((resolve) => {
    execFile(node, ['bin/parley.ts', ...args], { cwd: root, env: { ...base, ...env }, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function generate(id?: number): Promise<string> {
  const r = await parley(['keys', 'generate', ...(id === undefined ? [] : ['--id', String(id)])]);
  assert.equal(r.code, 0, r.stderr);
  return r.stdout.trim();
}

test('keys generate prints one line ID:BASE64 of a 32-byte key; --id sets the id', async () => {
  const line = await generate();
  assert.match(line, /^1:[A-Za-z0-9+/]{43}=$/);
  assert.match(await generate(42), /^42:[A-Za-z0-9+/]{43}=$/);
  assert.notEqual(await generate(), line);
});

test('keys generate --id out of range is a usage error (exit 2)', async () => {
  const r = await parley(['keys', 'generate', '--id', '256']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--id must be an integer 0\.\.255/);
});

test('generate → mint --to 127.0.0.7:7000 → inspect prints the destination', async () => {
  const PARLEY_KEYS = await generate(5);
  const minted = await parley(['token', 'mint', '--to', '127.0.0.7:7000'], { PARLEY_KEYS });
  assert.equal(minted.code, 0, minted.stderr);
  const t = JSON.parse(minted.stdout) as { ufrag: string; pwd: string; to: string; keyId: number };
  assert.deepEqual(Object.keys(t), ['ufrag', 'pwd', 'to', 'keyId']);
  assert.equal(t.to, '127.0.0.7:7000');
  assert.equal(t.keyId, 5);
  assert.match(t.ufrag, /^[A-Za-z0-9+/]{4,64}$/);
  assert.match(t.pwd, /^[A-Za-z0-9+/]{22,}$/);

  const seen = await parley(['token', 'inspect', t.ufrag], { PARLEY_KEYS });
  assert.equal(seen.code, 0, seen.stderr);
  const info = JSON.parse(seen.stdout) as Record<string, unknown>;
  assert.equal(info.valid, true);
  assert.equal(info.to, '127.0.0.7:7000');
  assert.equal(info.keyId, 5);
  const issued = Date.parse(info.issuedAt as string);
  assert.ok(Math.abs(issued - Date.now()) < 60_000);
  assert.equal(Date.parse(info.expiresAt as string) - issued, 86_400_000);
});

test('an IPv6 destination in brackets round-trips through mint and inspect, with --keys-file', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'parley-keys-'));
  try {
    const file = join(dir, 'keys');
    writeFileSync(file, `# test keys\n${await generate(3)}\n`);
    const minted = await parley(['token', 'mint', '--to', '[2001:db8::7]:40000', '--keys-file', file], { PARLEY_KEYS: 'junk' });
    assert.equal(minted.code, 0, minted.stderr);
    const { ufrag } = JSON.parse(minted.stdout) as { ufrag: string };
    const seen = await parley(['token', 'inspect', ufrag, '--keys-file', file]);
    assert.equal((JSON.parse(seen.stdout) as { to: string }).to, '[2001:db8::7]:40000');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('inspect of a tampered ufrag prints why, with exit status 1', async () => {
  const PARLEY_KEYS = await generate();
  const { ufrag } = JSON.parse((await parley(['token', 'mint', '--to', '127.0.0.7:7000'], { PARLEY_KEYS })).stdout) as { ufrag: string };
  const tampered = ufrag.slice(0, 30) + (ufrag[30] === 'A' ? 'B' : 'A') + ufrag.slice(31);
  const r = await parley(['token', 'inspect', tampered], { PARLEY_KEYS });
  assert.equal(r.code, 1);
  assert.deepEqual(JSON.parse(r.stdout), { valid: false, reason: 'bad_tag' });
  const other = await parley(['token', 'inspect', ufrag], { PARLEY_KEYS: await generate(2) });
  assert.equal(other.code, 1);
  assert.deepEqual(JSON.parse(other.stdout), { valid: false, reason: 'unknown_key' });
  const junk = await parley(['token', 'inspect', 'not-a-token!'], { PARLEY_KEYS });
  assert.deepEqual([junk.code, JSON.parse(junk.stdout)], [1, { valid: false, reason: 'malformed' }]);
});

test('no keys: exit 2 with a message saying how to make them', async () => {
  for (const args of [
    ['token', 'mint', '--to', '127.0.0.7:7000'],
    ['token', 'inspect', 'AAAA'],
  ]) {
    const r = await parley(args);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no routing-token keys/);
    assert.match(r.stderr, /parley keys generate/);
    assert.match(r.stderr, /PARLEY_KEYS/);
  }
});

test('bad keys: exit 2 naming the setting and the reason, without echoing the secret', async () => {
  const secret = 'c2hvcnQgYnV0IHNlY3JldA==';
  const r = await parley(['token', 'mint', '--to', '127.0.0.7:7000'], { PARLEY_KEYS: `1:${secret}` });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /PARLEY_KEYS.*at least 32/);
  assert.equal(r.stderr.includes(secret), false);
  const missing = await parley(['token', 'mint', '--to', '127.0.0.7:7000', '--keys-file', '/nonexistent/keys']);
  assert.equal(missing.code, 2);
  assert.match(missing.stderr, /--keys-file \/nonexistent\/keys.*ENOENT/);
});

test('--count 1000 prints 1000 distinct ufrags, quickly', async () => {
  const PARLEY_KEYS = await generate();
  const started = Date.now();
  const r = await parley(['token', 'mint', '--to', '10.0.0.1:5000', '--count', '1000'], { PARLEY_KEYS });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { ufrag: string; pwd: string });
  assert.equal(lines.length, 1000);
  assert.equal(new Set(lines.map((l) => l.ufrag)).size, 1000);
  assert.equal(new Set(lines.map((l) => l.pwd)).size, 1000);
  assert.ok(Date.now() - started < 10_000);
});

test('--to must be a literal IP:port: host names, missing port, port 0 are usage errors', async () => {
  const PARLEY_KEYS = await generate();
  for (const to of ['localhost:7000', '127.0.0.7', '2001:db8::1:7000', '127.0.0.7:0', '127.0.0.7:70000', '']) {
    const r = await parley(['token', 'mint', '--to', to], { PARLEY_KEYS });
    assert.equal(r.code, 2, `--to '${to}'`);
    assert.match(r.stderr, /--to must be a literal IP/);
  }
  const none = await parley(['token', 'mint'], { PARLEY_KEYS });
  assert.equal(none.code, 2);
  assert.match(none.stderr, /needs --to/);
});

test('usage errors: unknown subcommand, unknown option, bad --count (exit 2)', async () => {
  const PARLEY_KEYS = await generate();
  for (const args of [
    ['token'],
    ['token', 'burn'],
    ['token', 'mint', '--to', '1.2.3.4:5', '--bogus'],
    ['token', 'mint', '--to', '1.2.3.4:5', '--count', '0'],
    ['token', 'inspect'],
    ['keys'],
    ['keys', 'rotate'],
  ]) {
    const r = await parley(args, { PARLEY_KEYS });
    assert.equal(r.code, 2, args.join(' '));
    assert.match(r.stderr, /--help/);
  }
});

test('--help explains every option of keys and token', async () => {
  const keys = await parley(['keys', '--help']);
  assert.equal(keys.code, 0);
  for (const s of ['generate', '--id', 'PARLEY_KEYS', '--keys-file']) assert.ok(keys.stdout.includes(s), s);
  const token = await parley(['token', '--help']);
  assert.equal(token.code, 0);
  for (const s of ['mint', 'inspect', '--to', '--count', '--lifetime', '--keys-file', 'PARLEY_KEYS', 'bad_tag']) {
    assert.ok(token.stdout.includes(s), s);
  }
});
