// The C addons take what they share with the TypeScript from the generated
// native/src/generated/parley_contracts.h (src/contracts/c-header.ts): the committed header must
// be exactly what the contracts render now (a changed offset, flag, counter or limit on one side
// only fails here), and the C sources must use its names, not numbers of their own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { C_HEADER_PATH, renderContractsHeader } from '../../src/contracts/c-header.ts';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

/** C source without comments and string literals, so only code is checked. */
function code(text: string): string {
  return text
    .replace(/\/\*[\s\S]*?\*\//g, ' ')
    .replace(/\/\/.*$/gm, ' ')
    .replace(/"(?:[^"\\\n]|\\.)*"/g, '""');
}

test('the committed C header is what src/contracts renders (run `npm run gen:contracts` after changing a contract)', () => {
  assert.equal(readFileSync(C_HEADER_PATH, 'utf8'), renderContractsHeader());
});

test('relay_native.c (with first_check.h, which it includes) uses every generated name and types none of those numbers itself', () => {
  const src = read('native/src/relay_native.c');
  assert.match(src, /^#include "generated\/parley_contracts\.h"$/m);
  assert.match(src, /^#include "first_check\.h"$/m);
  const c = code(src + read('native/src/first_check.h'));
  const names = [...renderContractsHeader().matchAll(/^#define (PARLEY_(?:RELAY|TOKEN)_\w+) /gm)].map((m) => m[1]);
  assert.ok(names.length > 30, `names: ${names.length}`);
  for (const name of names) assert.match(c, new RegExp(`\\b${name}\\b`), `relay_native.c does not use ${name}`);
  const handTyped: [RegExp, string][] = [
    [/\b0x5[02]\b|\b8[02]\b(?=\s*[&|)=;])/, 'the magic bytes'],
    [/\b(?:h|hdr|b)\s*\[\s*\d+\s*\]/, 'a header byte at a numeric offset'],
    [/\b(?:h|hdr)\s*\+\s*\d+\b/, 'a header field at a numeric offset'],
    [/#define\s+\w+\s+(?:40|1500|16)\b/, 'the header length, payload limit or public-address limit'],
    [/\benum\s*\{[^}]*\bC_/, 'a private counter enum'],
    [/\(uint32_t\)\s*i\s*\*\s*\d/, 'a numeric miss-batch stride'],
    [/napi_create_int32\(\s*env\s*,\s*\d+\s*,\s*&abi\s*\)/, 'a numeric ABI'],
  ];
  for (const [re, what] of handTyped) assert.doesNotMatch(c, re, `relay_native.c types ${what} by hand`);
});

test('media_socket.c sizes its receive slots from the generated header', () => {
  const src = read('native/src/media_socket.c');
  assert.match(src, /^#include "generated\/parley_contracts\.h"$/m);
  assert.match(code(src), /_Static_assert\(SLOT >= PARLEY_RELAY_HEADER_LENGTH \+ PARLEY_RELAY_MAX_PAYLOAD/);
});
