// a=ice-ufrag values made only of decimal digits (Firefox's 8-hex-digit ufrags are, in ≈ 2.3 % of
// calls): sdp-transform reads them as numbers, and a number never equals the ufrag in a check's
// USERNAME, so such a call was refused with 401 on every check and never connected (found as a
// 1-in-~40 Firefox ICE failure in CI). Read as text, the offer's ufrag lets the ICE-lite agent
// answer the peer's check; the same holds for answers `parley call` reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { analyzeOffer } from '../../../src/core/sdp/index.ts';
import { parseAnswer } from '../../../src/client/sdp.ts';
import { IceLiteAgent } from '../../../src/core/ice/ice-lite-agent.ts';
import { connectivityCheck } from '../../../src/core/ice/binding-request.ts';
import { decodeStun } from '../../../src/core/stun/index.ts';

const CHROME = readFileSync(new URL('./data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const DIGITS = '72686251';
const DIGIT_PWD = '12345678901234'; // too short for a real pwd, but the parser's number rule would take it
const offerWith = (ufrag: string): string => CHROME.replace(/a=ice-ufrag:\S+/g, `a=ice-ufrag:${ufrag}`);

test('an offer whose a=ice-ufrag is all digits is read as that text, at media and at session level', () => {
  for (const text of [
    offerWith(DIGITS),
    // Session level: the media sections' lines removed, one before the first m=.
    offerWith(DIGITS)
      .replace(/a=ice-ufrag:\S+\r\n/g, '')
      .replace(/\r\nm=/, `\r\na=ice-ufrag:${DIGITS}\r\nm=`),
  ]) {
    const r = analyzeOffer(text);
    assert.ok(r.ok, r.ok ? '' : r.error.message);
    assert.equal(typeof r.offer.iceUfrag, 'string');
    assert.equal(r.offer.iceUfrag, DIGITS);
  }
  // Not every digit run was converted (leading zero, beyond a double's exact range): still exact.
  for (const ufrag of ['01234567', '123456789012345678901234']) {
    const r = analyzeOffer(offerWith(ufrag));
    assert.ok(r.ok);
    assert.equal(r.offer.iceUfrag, ufrag);
  }
});

test("the ICE-lite agent built from such an offer answers the peer's check (success, not 401)", () => {
  const r = analyzeOffer(offerWith(DIGITS));
  assert.ok(r.ok);
  const agent = new IceLiteAgent({
    localUfrag: 'AQFtokenUfrag',
    localPwd: 'derived-password-0123456789',
    remoteUfrag: r.offer.iceUfrag,
    remotePwd: r.offer.icePwd,
  });
  const check = connectivityCheck({
    transactionId: Buffer.alloc(12, 7),
    localUfrag: DIGITS,
    remoteUfrag: 'AQFtokenUfrag',
    remotePwd: 'derived-password-0123456789',
    priority: 1,
    role: { controlling: true, tieBreaker: 1n },
    useCandidate: true,
  });
  assert.equal(agent.handle(check, { address: '198.51.100.7', port: 50000, family: 'IPv4' }, 0), true);
  const sent = [];
  for (let t = agent.pollTransmit(); t; t = agent.pollTransmit()) sent.push(decodeStun(t.data));
  assert.ok(sent.length > 0);
  for (const m of sent) assert.ok(!(m instanceof Error) && m.errorCode === undefined, 'no error answer (401) to the check');
});

test('parley call reads an answer whose ufrag and pwd are all digits as their text', () => {
  const answer = [
    'v=0',
    'o=- 1 2 IN IP4 127.0.0.1',
    's=-',
    't=0 0',
    'm=audio 9 UDP/TLS/RTP/SAVPF 111',
    'c=IN IP4 0.0.0.0',
    `a=ice-ufrag:${DIGITS}`,
    `a=ice-pwd:${DIGIT_PWD}`,
    'a=fingerprint:sha-256 ' + Array.from({ length: 32 }, () => 'AB').join(':'),
    'a=setup:active',
    'a=rtcp-mux',
    'a=rtpmap:111 opus/48000/2',
    'a=candidate:1 1 udp 2130706431 127.0.0.1 5000 typ host',
    '',
  ].join('\r\n');
  const a = parseAnswer(answer);
  assert.equal(a.iceUfrag, DIGITS);
  assert.equal(a.icePwd, DIGIT_PWD);
});
