// The data-channel section (RFC 8841, src/core/sdp/datachannel.ts): taken from the real Chromium
// offer (test/core/sdp/data) and answered in the same BUNDLE group with a=sctp-port and
// a=max-message-size; the older DTLS/SCTP + a=sctpmap form answered in kind; what we cannot do
// (TCP, outside the audio's group, a bad port or size) stays declined; and our client's offer
// and answer reading agree with the transceiver's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'sdp-transform';
import { analyzeOffer, buildAnswer, DEFAULT_LOCAL_MAX_MESSAGE_SIZE } from '../../../src/core/sdp/index.ts';
import type { OfferSummary } from '../../../src/core/sdp/index.ts';
import { buildOffer, parseAnswer } from '../../../src/client/sdp.ts';

const CHROME = readFileSync(new URL('./data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');
const RELAY = { address: '203.0.113.7', port: 3478, family: 'IPv4' as const };

function offer(text = CHROME): OfferSummary {
  const r = analyzeOffer(text);
  if (!r.ok) throw r.error;
  return r.offer;
}

function answer(o: OfferSummary, data = true): string {
  return buildAnswer({
    offer: o,
    iceUfrag: 'AQFtokentokentoken',
    icePwd: 'passwordpasswordpassword',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidates: [RELAY],
    ssrc: 1,
    cname: 'c',
    sessionId: '1',
    streamId: 's',
    dataChannels: data ? { maxMessageSize: DEFAULT_LOCAL_MAX_MESSAGE_SIZE } : undefined,
  });
}

test('the Chromium offer: its data section is found with sctp-port 5000 and max-message-size 262144', () => {
  assert.deepEqual(offer().data, { index: 1, mid: '1', protocol: 'UDP/DTLS/SCTP', legacy: false, sctpPort: 5000, maxMessageSize: 262144 });
});

test('answer: m=application UDP/DTLS/SCTP webrtc-datachannel on the audio 5-tuple, mid, sctp-port, max-message-size, BUNDLE 0 1', () => {
  const sdp = parse(answer(offer()));
  const [audio, app] = sdp.media;
  assert.equal(app.type, 'application');
  assert.equal(app.protocol, 'UDP/DTLS/SCTP');
  assert.equal(String(app.payloads), 'webrtc-datachannel');
  assert.equal(String(app.mid), '1');
  assert.equal(app.sctpPort, 5000);
  assert.equal(app.maxMessageSize, 262144);
  assert.equal(app.port, audio.port);
  assert.deepEqual(app.connection, audio.connection);
  assert.deepEqual([app.iceUfrag, app.icePwd, app.setup, app.fingerprint?.hash], [audio.iceUfrag, audio.icePwd, audio.setup, FP]);
  assert.deepEqual(app.candidates, audio.candidates);
  assert.equal(app.sctpmap, undefined);
  assert.deepEqual(
    sdp.groups?.map((g) => [g.type, String(g.mids)]),
    [['BUNDLE', '0 1']],
  );
});

test('answer without dataChannels: the section is declined as before (port 0, BUNDLE 0)', () => {
  const sdp = parse(answer(offer(), false));
  assert.equal(sdp.media[1].port, 0);
  assert.deepEqual(
    sdp.groups?.map((g) => String(g.mids)),
    ['0'],
  );
});

test('the older DTLS/SCTP 5000 + a=sctpmap form is answered in kind', () => {
  const legacy = CHROME.replace('m=application 51041 UDP/DTLS/SCTP webrtc-datachannel', 'm=application 51041 DTLS/SCTP 5000')
    .replace('a=sctp-port:5000', 'a=sctpmap:5000 webrtc-datachannel 1024')
    .replace('a=max-message-size:262144\r\n', '');
  const o = offer(legacy);
  assert.deepEqual(o.data, { index: 1, mid: '1', protocol: 'DTLS/SCTP', legacy: true, sctpPort: 5000, maxMessageSize: undefined });
  const app = parse(answer(o)).media[1];
  assert.equal(app.protocol, 'DTLS/SCTP');
  assert.equal(String(app.payloads), '5000');
  assert.deepEqual(app.sctpmap, { sctpmapNumber: 5000, app: 'webrtc-datachannel', maxMessageSize: 1024 });
  assert.equal(app.sctpPort, undefined);
  assert.equal(app.maxMessageSize, DEFAULT_LOCAL_MAX_MESSAGE_SIZE);
});

test('what we cannot do stays declined: TCP/DTLS/SCTP, outside the BUNDLE group, no BUNDLE, a bad port, a rejected section', () => {
  const cases: Record<string, string> = {
    tcp: CHROME.replace('UDP/DTLS/SCTP', 'TCP/DTLS/SCTP'),
    'not bundled': CHROME.replace('a=group:BUNDLE 0 1', 'a=group:BUNDLE 0'),
    'no bundle': CHROME.replace('a=group:BUNDLE 0 1\r\n', ''),
    'port 0 sctp': CHROME.replace('a=sctp-port:5000', 'a=sctp-port:0'),
    'port too big': CHROME.replace('a=sctp-port:5000', 'a=sctp-port:70000'),
    'offerer rejected it': CHROME.replace('m=application 51041', 'm=application 0'),
    'other format': CHROME.replace('UDP/DTLS/SCTP webrtc-datachannel', 'UDP/DTLS/SCTP bfcp'),
  };
  for (const [name, text] of Object.entries(cases)) {
    const o = offer(text);
    assert.equal(o.data, undefined, name);
    const sdp = parse(answer(o));
    assert.equal(sdp.media[1].port, 0, name);
  }
});

test('a hostile max-message-size is not taken as a size (the 64 KiB default applies)', () => {
  for (const v of ['99999999999999999999999', '-1']) {
    assert.equal(offer(CHROME.replace('a=max-message-size:262144', `a=max-message-size:${v}`)).data?.maxMessageSize, undefined, v);
  }
  assert.equal(
    offer(CHROME.replace('a=max-message-size:262144', 'a=max-message-size:0')).data?.maxMessageSize,
    0,
    '0 = no limit (RFC 8841 §6)',
  );
});

test("our client's data-channel offer is taken by the transceiver, and the answer read back", () => {
  const text = buildOffer({
    iceUfrag: 'ufrag001',
    icePwd: 'passwordpasswordpassword',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidate: { address: '192.0.2.9', port: 40000, family: 'IPv4' },
    ssrc: 7,
    cname: 'x',
    sessionId: '2',
    dataChannel: { maxMessageSize: 262144 },
  });
  const o = offer(text);
  assert.deepEqual(o.data, { index: 1, mid: '1', protocol: 'UDP/DTLS/SCTP', legacy: false, sctpPort: 5000, maxMessageSize: 262144 });
  const a = parseAnswer(answer(o));
  assert.deepEqual(a.data, { sctpPort: 5000, maxMessageSize: DEFAULT_LOCAL_MAX_MESSAGE_SIZE });
  assert.equal(parseAnswer(answer(o, false)).data, undefined, 'declined: no data channel');
});
