// analyzeOffer never throws and says what is wrong: garbage and structurally broken SDP are
// ERR_SDP_UNPARSABLE (HTTP 400), offers we read but cannot serve are ERR_SDP_NO_AUDIO /
// ERR_SDP_NO_OPUS (HTTP 406). Hostile input is fuzzed with fast-check.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { analyzeOffer, SdpErrorCode } from '../../../src/core/sdp/index.ts';

const CHROME = readFileSync(new URL('./data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');

function code(text: string): string {
  const r = analyzeOffer(text);
  return r.ok ? 'ok' : r.error.code;
}

function message(text: string): string {
  const r = analyzeOffer(text);
  assert.ok(!r.ok);
  return r.error.message;
}

test('garbage, JSON and an empty body are unparsable, with the reason', () => {
  assert.equal(code(''), SdpErrorCode.unparsable);
  assert.equal(code('hello'), SdpErrorCode.unparsable);
  assert.equal(code('{"sdp":"v=0"}'), SdpErrorCode.unparsable);
  assert.match(message('hello'), /first line must be "v=0"/);
  assert.match(message('v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nthis is not sdp\r\n'), /line 5/);
  assert.match(message('v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n'), /no m= line/);
  assert.match(message('v=0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n'), /"o="/);
});

test('no audio m-line → ERR_SDP_NO_AUDIO; an audio line the offerer rejected (port 0) does not count', () => {
  const videoOnly = CHROME.replace('m=audio 36264', 'm=video 36264');
  assert.equal(code(videoOnly), SdpErrorCode.noAudio);
  assert.equal(code(CHROME.replace('m=audio 36264', 'm=audio 0')), SdpErrorCode.noAudio);
});

test('audio without opus/48000/2 → ERR_SDP_NO_OPUS, naming what was offered', () => {
  const noOpus = CHROME.replace('a=rtpmap:111 opus/48000/2', 'a=rtpmap:111 speex/16000');
  assert.equal(code(noOpus), SdpErrorCode.noOpus);
  assert.match(message(noOpus), /PCMU\/8000/);
});

test('missing ICE credentials or fingerprint → ERR_SDP_INCOMPLETE; bad values → unparsable', () => {
  assert.equal(code(CHROME.replaceAll(/a=ice-pwd:.*\r\n/g, '')), SdpErrorCode.incomplete);
  assert.equal(code(CHROME.replaceAll(/a=fingerprint:.*\r\n/g, '')), SdpErrorCode.incomplete);
  assert.equal(code(CHROME.replaceAll('a=ice-ufrag:1ODc', 'a=ice-ufrag:1O')), SdpErrorCode.unparsable);
  assert.equal(code(CHROME.replaceAll('a=ice-pwd:bB0ihW4ux7qRaJewU0XGtHgG', 'a=ice-pwd:short')), SdpErrorCode.unparsable);
  assert.equal(code(CHROME.replaceAll(/sha-256 84:AC/g, 'sha-256 zz:AC')), SdpErrorCode.unparsable);
});

test('no rtcp-mux, plain RTP/AVP or an unknown setup value → ERR_SDP_UNSUPPORTED', () => {
  assert.equal(code(CHROME.replace('a=rtcp-mux\r\n', '')), SdpErrorCode.unsupported);
  assert.equal(code(CHROME.replace('UDP/TLS/RTP/SAVPF', 'RTP/AVP')), SdpErrorCode.unsupported);
  assert.equal(code(CHROME.replaceAll('a=setup:actpass', 'a=setup:holdconn')), SdpErrorCode.unsupported);
  assert.equal(code(CHROME.replaceAll('sha-256 84:AC', 'sha-224 84:AC')), SdpErrorCode.unsupported);
});

test('a=fingerprint with sha-1, sha-256, sha-384 or sha-512 is accepted (RFC 8122 §5)', () => {
  const withFingerprint = (hash: string, bytes: number): string =>
    CHROME.replaceAll(/a=fingerprint:.*\r\n/g, `a=fingerprint:${hash} ${Array.from({ length: bytes }, () => 'AB').join(':')}\r\n`);
  for (const [hash, bytes] of [
    ['sha-1', 20],
    ['sha-256', 32],
    ['sha-384', 48],
    ['sha-512', 64],
  ] as const) {
    assert.equal(code(withFingerprint(hash, bytes)), 'ok', hash);
  }
});

test('LF-only line ends are accepted', () => {
  assert.equal(code(CHROME.replaceAll('\r\n', '\n')), 'ok');
});

test('hostile input: analyzeOffer never throws (fast-check, 2000 runs)', () => {
  const lines = CHROME.split('\r\n');
  const mutated = fc
    .tuple(fc.array(fc.nat(lines.length - 1), { maxLength: 6 }), fc.array(fc.string(), { maxLength: 6 }))
    .map(([drop, junk]) =>
      lines
        .filter((_, i) => !drop.includes(i))
        .concat(junk)
        .join('\r\n'),
    );
  fc.assert(
    fc.property(fc.oneof(fc.string(), fc.string({ unit: 'binary' }), mutated), (text) => {
      const r = analyzeOffer(text);
      assert.ok(r.ok || typeof r.error.message === 'string');
    }),
    { numRuns: 2000 },
  );
});
