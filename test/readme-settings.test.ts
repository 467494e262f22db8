// README.md documents every setting of `parley relay`, `parley transceiver` and `parley dev` exactly as the
// settings specs render them (STYLE.md rule 14: config keys are defined in one place).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderSettingsMarkdown } from '../src/common/cli-config.ts';
import { devSettings } from '../src/cli/dev.ts';
import { relaySettings } from '../src/relay/config.ts';
import { transceiverSettings } from '../src/transceiver/config.ts';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const block = (name: string): string | undefined =>
  new RegExp(`<!-- ${name}-settings:begin -->\\n([\\s\\S]*?)\\n<!-- ${name}-settings:end -->`).exec(readme)?.[1];

test('README lists the relay settings exactly as src/relay/config.ts defines them', () => {
  assert.equal(block('relay'), renderSettingsMarkdown(relaySettings));
});

test('README lists the transceiver settings exactly as src/transceiver/config.ts defines them', () => {
  assert.equal(block('transceiver'), renderSettingsMarkdown(transceiverSettings));
});

test('README lists the parley dev settings exactly as src/cli/dev.ts defines them', () => {
  assert.equal(block('dev'), renderSettingsMarkdown(devSettings));
});
