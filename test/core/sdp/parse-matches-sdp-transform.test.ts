// parseSdp (src/core/sdp/parse.ts) tries each line only against the grammar rules that can match
// it; the result must be exactly sdp-transform's parse() (plus the ICE credentials as text):
// browsers' offers, every rule's own example lines from sdp-transform's grammar, lines whose
// attribute names are near another rule's (`rtcp` / `rtcp-fb` / `rtcp-mux`), unknown and
// malformed attributes, and seeded random lines built from the grammar's attribute names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as sdpTransform from 'sdp-transform';
import { alternativeStarts, literalStart, parseSdp } from '../../../src/core/sdp/parse.ts';
import { seededRng } from '../../../src/core/rng.ts';

const CHROME = readFileSync(new URL('./data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const GRAMMAR = (sdpTransform as unknown as { grammar: Record<string, { reg: RegExp }[]> }).grammar;
const GRAMMAR_SOURCE = readFileSync(new URL('../../../node_modules/sdp-transform/lib/grammar.js', import.meta.url), 'utf8');

/** sdp-transform's parse with the same credential correction parseSdp makes. */
function reference(text: string): unknown {
  const sdp = sdpTransform.parse(text);
  for (const x of [sdp, ...(sdp.media ?? [])]) {
    if (x.iceUfrag !== undefined) x.iceUfrag = String(x.iceUfrag);
    if (x.icePwd !== undefined) x.icePwd = String(x.icePwd);
  }
  return sdp;
}

const same = (text: string): void => assert.deepEqual(parseSdp(text), reference(text), text.slice(0, 200));

/** Every `a=…`, `c=…` example line in the grammar's comments: each rule's own test line. */
const EXAMPLES = [...GRAMMAR_SOURCE.matchAll(/\/\/\s*([a-z]=[^\n]*)/g)].map((m) => m[1].trim());

test('a browser offer parses exactly as sdp-transform parses it', () => {
  same(CHROME);
  same(CHROME.replaceAll('\r\n', '\n'));
});

test("every grammar rule's example line, at session and media level, parses exactly as sdp-transform", () => {
  assert.ok(EXAMPLES.length > 60, `found ${EXAMPLES.length} example lines`);
  for (const line of EXAMPLES) {
    same(`v=0\r\n${line}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${line}\r\n`);
  }
  same(`v=0\r\n${EXAMPLES.join('\r\n')}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${EXAMPLES.join('\r\n')}\r\n`);
});

test('names near another rule, unknown, empty and malformed attributes parse as sdp-transform', () => {
  const lines = [
    'a=rtcp:9 IN IP4 0.0.0.0',
    'a=rtcp-fb:111 transport-cc',
    'a=rtcp-mux',
    'a=rtcp-mux-only',
    'a=rtcp-rsize',
    'a=rtcp',
    'a=rtcp:',
    'a=rtcpx:1',
    'a=ice-lite',
    'a=ice-lite:yes',
    'a=ice-litex',
    'a=ice-ufrag',
    'a=ice-ufrag:',
    'a=ice-ufrag:72686251',
    'a=ice-pwd:0123456789012345678901',
    'a=ice',
    'a=sendrecv',
    'a=sendrecvx',
    'a=sendonly:1',
    'a=extmap-allow-mixed',
    'a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level',
    'a=simulcast: recv pt=97;98 send pt=97',
    'a=simulcast:send 1,2,3;~4,~5 recv 6;~7,~8',
    'a=msid-semantic: WMS *',
    'a=msid:stream track',
    'a=',
    'a=:',
    'a=:x',
    'a=Unknown:Thing',
    'a=RTPMAP:111 opus/48000/2',
    'a=x-custom:1 2 3',
    'b=AS:30',
    'b=TIAS:128000',
    'c=IN IP6 ::1',
    'c=garbage',
    't=0 0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    'q=unknown type',
  ];
  same(`v=0\r\n${lines.join('\r\n')}\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n${lines.join('\r\n')}\r\n`);
});

test('seeded random lines from the grammar names, digits and separators parse as sdp-transform', () => {
  const rng = seededRng('parse-matches-sdp-transform');
  const names = [...new Set(EXAMPLES.map((l) => l.slice(2).split(/[: ]/)[0]))];
  const pieces = [':', ' ', '0', '111', 'IN', 'IP4', '*', '-', 'x', '/', ';', '=', 'send', 'recv', 'typ', 'host', '\t'];
  const pick = <T>(list: readonly T[]): T => list[rng.bytes(1)[0] % list.length];
  for (let round = 0; round < 200; round++) {
    const lines: string[] = ['v=0'];
    for (let i = 0; i < 20; i++) {
      const type = pick(['a', 'a', 'a', 'a', 'm', 'c', 'b', 'o', 't']);
      let line = `${type}=${type === 'a' ? pick(names) : ''}`;
      const n = rng.bytes(1)[0] % 6;
      for (let k = 0; k < n; k++) line += pick(pieces);
      lines.push(line);
    }
    same(lines.join(pick(['\r\n', '\n'])));
  }
});

test('literalStart: the required literal start of an anchored rule, or undefined when it cannot be told', () => {
  assert.equal(literalStart(/^rtpmap:(\d*) ([\w\-.]*)/), 'rtpmap:');
  assert.equal(literalStart(/^(extmap-allow-mixed)/), 'extmap-allow-mixed');
  assert.equal(literalStart(/^(sendrecv|recvonly|sendonly|inactive)/), undefined);
  assert.equal(literalStart(/(.*)/), undefined);
  assert.equal(literalStart(/^IN IP(\d) (\S*)/), undefined);
  assert.equal(literalStart(/^abc:?x/), undefined, 'an optional colon');
  assert.equal(literalStart(/^abc*/), undefined, 'a repeated last letter');
  assert.equal(literalStart(/^abc|x/), undefined, 'an alternation');
  assert.equal(literalStart(/^abc:/i), undefined, 'case-insensitive');
  // parseSdp execs once where sdp-transform tests and matches: the same only without g or y.
  for (const rules of Object.values(GRAMMAR)) for (const r of rules) assert.equal(r.reg.flags, '', r.reg.source);
});

test('alternativeStarts: the words of a leading group of plain-word alternatives, or undefined', () => {
  assert.deepEqual(alternativeStarts(/^(sendrecv|recvonly|sendonly|inactive)/), ['sendrecv', 'recvonly', 'sendonly', 'inactive']);
  assert.equal(alternativeStarts(/^(sendrecv|recvonly)?x/), undefined, 'an optional group');
  assert.equal(alternativeStarts(/^(a|b)*/), undefined, 'a repeated group');
  assert.equal(alternativeStarts(/^(a|b.c)/), undefined, 'a pattern, not a word');
  assert.equal(alternativeStarts(/^(TIAS|AS):(\d*)/), undefined, 'upper case');
  assert.equal(alternativeStarts(/^(a|b)/i), undefined, 'case-insensitive');
  assert.equal(alternativeStarts(/(a|b)/), undefined, 'not anchored');
  assert.equal(alternativeStarts(/^(abc)/), undefined, 'one word: literalStart');
});

test('offers naming thousands of unknown attributes (past the per-name rule cache) still parse exactly as sdp-transform', () => {
  // Hostile input: every offer names attributes never seen, so the cache of candidate rules per
  // name fills and is cleared again; known attributes after that must still find their rules.
  for (let round = 0; round < 4; round++) {
    const junk = Array.from({ length: 400 }, (_, i) => `a=x-hostile-${round}-${i}:${i}`).join('\r\n');
    same(`${CHROME.trimEnd()}\r\n${junk}\r\na=rtcp-mux\r\na=ice-ufrag:0123\r\n`);
  }
  same(CHROME);
});
