// docs/relay.md lists every relay setting exactly as src/relay/config.ts defines it, and
// docs/metrics.md names every relay metric and drop reason (STYLE.md rule 14: one source).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderSettingsMarkdown } from '../../src/common/cli-config.ts';
import { relaySettings } from '../../src/relay/config.ts';
import { DROP_REASONS, METRIC } from '../../src/relay/stats.ts';

const read = (p: string): string => readFileSync(new URL(`../../${p}`, import.meta.url), 'utf8');

test('docs/relay.md settings table matches the settings spec', () => {
  const doc = read('docs/relay.md');
  const table = /<!-- settings:begin -->\n([\s\S]*?)\n<!-- settings:end -->/.exec(doc)?.[1];
  assert.equal(table, renderSettingsMarkdown(relaySettings));
});

test('docs/metrics.md names every relay metric and drop reason', () => {
  const doc = read('docs/metrics.md');
  for (const name of Object.values(METRIC)) assert.ok(doc.includes(`\`${name}\``), name);
  for (const r of DROP_REASONS) assert.ok(doc.includes(`| \`${r}\` |`), r);
});
