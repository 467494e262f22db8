// Keyring text format (docs/keys.md): `ID:BASE64[,ID:BASE64…]`, first key mints, all open.
// Bad input is refused with a stable code and a message naming the key — never its secret.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring, KeyringError } from '../../../src/core/token/index.ts';
import { secret } from './helpers.ts';

const A = secret('a').toString('base64');
const B = secret('b').toString('base64');

function refuses(text: string, code: string, mentions?: RegExp): void {
  assert.throws(
    () => Keyring.parse(text),
    (err: unknown) => {
      assert.ok(err instanceof KeyringError);
      assert.equal(err.code, code);
      if (mentions) assert.match(err.message, mentions);
      for (const s of [A, B]) assert.equal(err.message.includes(s.slice(0, 12)), false, 'message leaks a secret');
      return true;
    },
  );
}

test('parses one key; it mints and opens', () => {
  const kr = Keyring.parse(`1:${A}`);
  assert.equal(kr.minting.id, 1);
  assert.deepEqual(
    kr.keys.map((k) => k.id),
    [1],
  );
  assert.equal(kr.get(1), kr.minting);
  assert.equal(kr.get(2), undefined);
});

test('the first key listed mints, whatever its id; all listed keys open', () => {
  const kr = Keyring.parse(`7:${A},3:${B}`);
  assert.equal(kr.minting.id, 7);
  assert.deepEqual(
    kr.keys.map((k) => k.id),
    [7, 3],
  );
});

test('tolerates surrounding whitespace, newlines, spaces after commas and # comment lines', () => {
  const kr = Keyring.parse(`\uFEFF\r\n# keys for prod\r\n  2:${A},\n  # retired soon:\n 1:${B}\n\n`);
  assert.deepEqual(
    kr.keys.map((k) => k.id),
    [2, 1],
  );
});

test('toString round-trips and is the canonical one-line form', () => {
  const text = `2:${A},1:${B}`;
  assert.equal(Keyring.parse(` ${text.replace(',', ',\n')} `).toString(), text);
  const gen = Keyring.generate(seededRng(5), 9);
  assert.match(gen.toString(), /^9:[A-Za-z0-9+/]{43}=$/);
  assert.equal(Keyring.parse(gen.toString()).toString(), gen.toString());
});

test('unpadded base64 is accepted', () => {
  assert.equal(Keyring.parse(`1:${A.replace(/=+$/, '')}`).toString(), `1:${A}`);
});

test('inspect and JSON show key ids only, never secrets', () => {
  const kr = Keyring.parse(`1:${A},2:${B}`);
  for (const shown of [inspect(kr, { showHidden: true, depth: 9 }), JSON.stringify(kr), inspect(kr.keys)]) {
    assert.equal(shown.includes(A.slice(0, 12)), false, shown);
  }
});

test('refuses an empty keyring (nothing, whitespace, or only comments)', () => {
  refuses('', 'ERR_KEYRING_EMPTY');
  refuses('  \n\t', 'ERR_KEYRING_EMPTY');
  refuses('# nothing here\n', 'ERR_KEYRING_EMPTY');
});

test('refuses duplicate ids, naming the id', () => {
  refuses(`1:${A},1:${B}`, 'ERR_KEYRING_DUPLICATE_ID', /id 1/);
});

test('refuses keys shorter than 32 bytes, naming the key', () => {
  const short = secret('s').subarray(0, 31).toString('base64');
  refuses(`1:${A},4:${short}`, 'ERR_KEYRING_SHORT_KEY', /key #2 \(id 4\).*31 bytes/);
});

test('refuses bad base64: base64url chars, non-canonical trailing bits, bad padding', () => {
  refuses(`1:${A.replace(/[+/]/g, '-')}x`, 'ERR_KEYRING_SYNTAX');
  const last = A.at(-2) as string; // 32 bytes: last char before '=' carries 2 unused bits
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const noncanonical = alphabet[alphabet.indexOf(last) ^ 1];
  refuses(`1:${A.slice(0, -2)}${noncanonical}=`, 'ERR_KEYRING_BAD_BASE64', /key #1 \(id 1\)/);
  refuses(`1:${A}=`, 'ERR_KEYRING_BAD_BASE64');
});

test('refuses bad ids and bad syntax', () => {
  refuses(`256:${A}`, 'ERR_KEYRING_BAD_ID', /256/);
  refuses(`x:${A}`, 'ERR_KEYRING_SYNTAX', /key #1/);
  refuses(A, 'ERR_KEYRING_SYNTAX');
  refuses(`1=${A}`, 'ERR_KEYRING_SYNTAX');
  refuses(`1:${A};2:${B}`, 'ERR_KEYRING_SYNTAX');
});

test('the constructor validates too', () => {
  assert.throws(() => new Keyring([]), { code: 'ERR_KEYRING_EMPTY' });
  assert.throws(() => new Keyring([{ id: -1, secret: secret('a') }]), { code: 'ERR_KEYRING_BAD_ID' });
  assert.throws(() => new Keyring([{ id: 1.5, secret: secret('a') }]), { code: 'ERR_KEYRING_BAD_ID' });
});
