// analyzeOffer parses an offer only for the fields it reads (OFFER_FIELDS, sdpFieldParser in
// src/core/sdp/parse.ts): lines that set nothing else are skipped. The offer's summary, and every
// refusal with its message, must be what the full parse (parseSdp, sdp-transform's result) gives:
// real offers of every peer the benchmarks drive, each with every line dropped or doubled in
// turn, every grammar rule's example line, and seeded random SDPs from the grammar's names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sdpTransform from 'sdp-transform';
import type { SessionDescription } from 'sdp-transform';
import { parseSdp, sdpFieldParser } from '../../../src/core/sdp/parse.ts';
import { OFFER_FIELDS, analyzeOffer, summarizeOffer } from '../../../src/core/sdp/offer.ts';
import type { OfferResult } from '../../../src/core/sdp/offer.ts';
import { seededRng } from '../../../src/core/rng.ts';

const OFFERS = [
  'chromium-156-audio-datachannel',
  'firefox-esr-153-audio-datachannel',
  'pion-3.1.56-audio',
  'aiortc-1.4.0-audio',
  'gstreamer-1.22-webrtcbin-audio',
].map((name) => ({ name, text: readFileSync(new URL(`./data/${name}.offer.sdp`, import.meta.url), 'utf8') }));
const GRAMMAR_SOURCE = readFileSync(new URL('../../../node_modules/sdp-transform/lib/grammar.js', import.meta.url), 'utf8');
/** Every `a=…`, `c=…` example line in the grammar's comments: each rule's own test line. */
const EXAMPLES = [...GRAMMAR_SOURCE.matchAll(/\/\/\s*([a-z]=[^\n]*)/g)].map((m) => m[1].trim());

const parseOffer = sdpFieldParser(OFFER_FIELDS);

function plain(r: OfferResult): unknown {
  return r.ok ? r : { code: r.error.code, message: r.error.message };
}

function kept(sdp: SessionDescription): unknown {
  const pick = (x: object): Record<string, unknown> =>
    Object.fromEntries(OFFER_FIELDS.filter((f) => f in x).map((f) => [f, (x as Record<string, unknown>)[f]]));
  return { session: pick(sdp), media: sdp.media.map(pick) };
}

/** The kept fields and the summary (or refusal) from the field parser are the full parse's. */
function same(text: string, what: string): void {
  const full = parseSdp(text);
  const part = parseOffer(text);
  assert.deepEqual(kept(part), kept(full), what);
  assert.deepEqual(plain(summarizeOffer(part)), plain(summarizeOffer(full)), what);
}

test("every peer's offer is summarised as from the full parse, and is accepted", () => {
  for (const { name, text } of OFFERS) {
    same(text, name);
    same(text.replaceAll('\r\n', '\n'), `${name} (LF)`);
    assert.equal(analyzeOffer(text).ok, true, name);
  }
});

test('with any one line dropped or doubled, each offer is summarised (or refused) as from the full parse', () => {
  let refused = 0;
  for (const { name, text } of OFFERS) {
    const lines = text.trimEnd().split('\r\n');
    for (let i = 1; i < lines.length; i++) {
      const dropped = [...lines.slice(0, i), ...lines.slice(i + 1)].join('\r\n') + '\r\n';
      const doubled = [...lines.slice(0, i + 1), ...lines.slice(i)].join('\r\n') + '\r\n';
      same(dropped, `${name} without line ${i + 1}: ${lines[i]}`);
      same(doubled, `${name} with line ${i + 1} twice: ${lines[i]}`);
      if (!summarizeOffer(parseOffer(dropped)).ok) refused++;
    }
  }
  // Dropping the credentials, the fingerprint, opus or rtcp-mux is refused: the refusals are compared too.
  assert.ok(refused >= 15, `${refused} refusals`);
});

test("every grammar rule's example line, at session and media level, gives the full parse's fields and summary", () => {
  assert.ok(EXAMPLES.length > 60, `found ${EXAMPLES.length} example lines`);
  const [chrome] = OFFERS;
  for (const line of EXAMPLES) {
    same(`v=0\r\n${line}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${line}\r\n`, line);
    // Inserted into a whole offer, after its audio m= line.
    same(chrome.text.replace(/(m=audio[^\r]*\r\n)/, `$1${line}\r\n`), `chromium + ${line}`);
  }
});

test('seeded random offers from the grammar names give the full parse fields and summary', () => {
  const rng = seededRng('offer-fields-parse');
  const names = [...new Set(EXAMPLES.map((l) => l.slice(2).split(/[: ]/)[0]))];
  const pieces = [':', ' ', '0', '111', 'IN', 'IP4', '*', '-', 'x', '/', ';', '=', 'send', 'recv', 'typ', 'host', '\t', 'opus/48000/2'];
  const pick = <T>(list: readonly T[]): T => list[rng.bytes(1)[0] % list.length];
  const base = OFFERS[2].text.trimEnd().split('\r\n');
  for (let round = 0; round < 300; round++) {
    const lines = [...base];
    for (let i = 0; i < 12; i++) {
      const type = pick(['a', 'a', 'a', 'a', 'a', 'm', 'c', 'b', 'o', 't']);
      let line = `${type}=${type === 'a' ? pick(names) : ''}`;
      const n = rng.bytes(1)[0] % 6;
      for (let k = 0; k < n; k++) line += pick(pieces);
      lines.splice(1 + (rng.bytes(1)[0] % lines.length), 0, line);
    }
    same(lines.join(pick(['\r\n', '\n'])), lines.join('\n'));
  }
});

test('the field parser skips the lines that set only other fields', () => {
  const chrome = OFFERS[0].text;
  const full = sdpTransform.parse(chrome);
  const part = parseOffer(chrome);
  assert.ok(full.media[0].candidates !== undefined && full.media[0].ext !== undefined && full.media[0].ssrcs !== undefined);
  assert.equal(part.media[0].candidates, undefined);
  assert.equal(part.media[0].ext, undefined);
  assert.equal(part.media[0].ssrcs, undefined);
  assert.equal(part.media[0].rtcpFb, undefined);
  assert.deepEqual(part.media[0].rtp, full.media[0].rtp);
});
