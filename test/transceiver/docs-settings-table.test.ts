// docs/transceiver.md carries the settings table rendered from the spec in config.ts, so the
// documented flags, variables and defaults cannot drift from the code (STYLE.md rule 14).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { renderSettingsMarkdown } from '../../src/common/cli-config.ts';
import { transceiverSettings } from '../../src/transceiver/config.ts';

test('docs/transceiver.md contains the settings table exactly as config.ts renders it', () => {
  const doc = readFileSync(new URL('../../docs/transceiver.md', import.meta.url), 'utf8');
  assert.ok(doc.includes(renderSettingsMarkdown(transceiverSettings)), 'regenerate the table in docs/transceiver.md');
});

test('every setting has a PARLEY_ variable and the documented defaults of the issue', () => {
  for (const s of Object.values(transceiverSettings)) assert.match(s.env, /^PARLEY_[A-Z_]+$/);
  assert.equal(transceiverSettings.http.default.port, 8080);
  assert.equal(transceiverSettings.media.default.port, 7000);
  // No default of its own: echo, or realtime when --realtime-url is set (resolve-config.test.ts).
  assert.equal(transceiverSettings.handler.default, undefined);
  assert.ok(transceiverSettings.relayCidrs.default.has('127.0.0.1') && !transceiverSettings.relayCidrs.default.has('10.0.0.1'));
});
