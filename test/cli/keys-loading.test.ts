// loadKeyring (src/common/keyring-config.ts): --keys-file wins over PARLEY_KEYS; none or bad
// keys are a ConfigError that names the setting and says how to fix it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadKeyring } from '../../src/common/keyring-config.ts';
import { ConfigError } from '../../src/common/config-error.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';

const one = Keyring.generate(seededRng('one'), 1).toString();
const two = Keyring.generate(seededRng('two'), 2).toString();

function withFile(content: string, fn: (file: string) => void): void {
  const dir = mkdtempSync(join(tmpdir(), 'parley-keys-'));
  try {
    const file = join(dir, 'keys');
    writeFileSync(file, content);
    fn(file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

test('PARLEY_KEYS alone is used, surrounding whitespace tolerated', () => {
  assert.equal(loadKeyring({ env: { PARLEY_KEYS: ` ${one}\n` } }).toString(), one);
});

test('--keys-file wins over PARLEY_KEYS', () => {
  withFile(`# rotated 2026-11\n${two}\n${one}\n`, (file) => {
    const kr = loadKeyring({ keysFile: file, env: { PARLEY_KEYS: 'garbage' } });
    assert.deepEqual(
      kr.keys.map((k) => k.id),
      [2, 1],
    );
  });
});

test('no keys at all: ConfigError saying how to make keys', () => {
  for (const env of [{}, { PARLEY_KEYS: '' }, { PARLEY_KEYS: '  ' }]) {
    assert.throws(
      () => loadKeyring({ env }),
      (err: unknown) => {
        assert.ok(err instanceof ConfigError);
        assert.equal(err.code, 'ERR_CONFIG_NO_KEYS');
        assert.match(err.message, /parley keys generate/);
        return true;
      },
    );
  }
});

test('bad PARLEY_KEYS: ConfigError naming PARLEY_KEYS and the keyring error code', () => {
  assert.throws(
    () => loadKeyring({ env: { PARLEY_KEYS: `${one},${one}` } }),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      assert.equal(err.setting, 'PARLEY_KEYS');
      assert.equal(err.code, 'ERR_CONFIG_BAD_KEYS');
      assert.match(err.message, /listed twice.*ERR_KEYRING_DUPLICATE_ID/);
      return true;
    },
  );
});

test('unreadable or empty keys file: ConfigError naming the file', () => {
  assert.throws(() => loadKeyring({ keysFile: '/nonexistent/parley-keys', env: { PARLEY_KEYS: one } }), {
    name: 'ConfigError',
    code: 'ERR_CONFIG_KEYS_UNREADABLE',
    message: /--keys-file \/nonexistent\/parley-keys.*ENOENT/,
  });
  withFile('# nothing yet\n', (file) => {
    assert.throws(() => loadKeyring({ keysFile: file, env: {} }), { name: 'ConfigError', message: /ERR_KEYRING_EMPTY/ });
  });
});
