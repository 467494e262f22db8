// docs/errors.md lists every error code and drop reason exactly as the catalogs define them
// (STYLE.md rule 14), like README's settings tables (readme-settings.test.ts); and the
// vocabulary holds: codes ERR_<AREA>_<REASON> and unique, reasons snake_case, every one with a
// meaning, and no ERR_… string in src/ that no catalog defines.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { dropReasonSections, errorCodeSections, relayDropReasons, renderErrorsMarkdown } from '../src/cli/errors-doc.ts';
import { errorCatalog, reasonCatalog } from '../src/core/errors.ts';

const SRC = new URL('../src/', import.meta.url).pathname;

test('docs/errors.md is what the catalogs generate (npm run docs:errors rewrites it)', () => {
  const doc = readFileSync(new URL('../docs/errors.md', import.meta.url), 'utf8');
  assert.equal(doc, renderErrorsMarkdown());
});

test('every code is ERR_<AREA>_<REASON>, defined once across all areas, with a meaning', () => {
  const seen = new Set<string>();
  for (const s of errorCodeSections()) {
    for (const e of s.entries) {
      assert.match(e.value, /^ERR_[A-Z0-9]+(_[A-Z0-9]+)+$/, `${s.title}: ${e.value}`);
      assert.ok(!seen.has(e.value), `${e.value} is defined twice`);
      seen.add(e.value);
      assert.ok(e.meaning.length > 0, `${e.value} has no meaning`);
    }
  }
});

test("every drop reason is snake_case, once per list, with a meaning (the relay's from its comments)", () => {
  for (const s of dropReasonSections()) {
    assert.ok(s.entries.length > 0, s.title);
    assert.equal(new Set(s.entries.map((e) => e.value)).size, s.entries.length, `${s.title}: a reason twice`);
    for (const e of s.entries) {
      assert.match(e.value, /^[a-z0-9]+(_[a-z0-9]+)*$/, `${s.title}: ${e.value}`);
      assert.ok(e.meaning.length > 0, `${s.title}: ${e.value} has no meaning`);
    }
  }
  // A reason whose line has no comment gets no meaning, which the loop above refuses.
  const parsed = relayDropReasons("  'not_stun', // first packet is not STUN\n  'send_error',\n");
  assert.deepEqual(
    parsed.filter((e) => e.meaning !== ''),
    [{ value: 'not_stun', meaning: 'first packet is not STUN' }],
  );
});

test('no ERR_… string in src/ bypasses the catalogs', () => {
  const known = new Set(errorCodeSections().flatMap((s) => s.entries.map((e) => e.value)));
  const files = readdirSync(SRC, { recursive: true, encoding: 'utf8' }).filter((f) => f.endsWith('.ts'));
  const strays: string[] = [];
  for (const f of files) {
    for (const m of readFileSync(join(SRC, f), 'utf8').matchAll(/['"`](ERR_[A-Z0-9_]*[A-Z0-9])['"`]/g)) {
      if (!known.has(m[1])) strays.push(`src/${f}: ${m[1]}`);
    }
  }
  assert.deepEqual(strays, []);
});

test('a catalog refuses a misspelt code, a code twice, and a reason that is not snake_case', () => {
  assert.throws(() => errorCatalog('STUN', { a: ['ERR_STUN_too_short', 'x'] }), TypeError);
  assert.throws(() => errorCatalog('STUN', { a: ['ERR_STUN_X', 'x'], b: ['ERR_STUN_X', 'y'] }), /defined twice/);
  assert.throws(() => reasonCatalog('srtp', { 'too-short': 'x' }), /snake_case/);
  assert.throws(() => reasonCatalog('srtp', { tooShort: 'x' }), /snake_case/);
  const ok = errorCatalog('STUN', { tooShort: ['ERR_STUN_TOO_SHORT', 'fewer than 20 bytes'] });
  assert.equal(ok.codes.tooShort, 'ERR_STUN_TOO_SHORT');
});
