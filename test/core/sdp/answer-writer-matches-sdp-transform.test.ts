// The answer's own writer (writeAnswer, issue #18: the POST's cost) against sdp-transform's
// generic write(): byte for byte the same text for every kind of answer buildAnswer makes — the
// real Chromium offer with and without its data channel taken, the older DTLS/SCTP form, Pion's
// audio-only offer, every direction and setup, declined sections with and without a mid, no
// BUNDLE, no relay (port 9), IPv6, a backup location and ICE-TCP candidates.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { write } from 'sdp-transform';
import { analyzeOffer, buildAnswer } from '../../../src/core/sdp/index.ts';
import type { AnswerParams, OfferSummary } from '../../../src/core/sdp/index.ts';
import { answerDescription, writeAnswer } from '../../../src/core/sdp/answer.ts';
import type { TransportAddress } from '../../../src/core/address.ts';

const CHROME = readFileSync(new URL('./data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
// Pion v3's audio-only offer (the Pion interop client), as it reached the transceiver.
const PION = [
  'v=0',
  'o=- 4696111139685078304 1796626085 IN IP4 0.0.0.0',
  's=-',
  't=0 0',
  'a=fingerprint:sha-256 05:7C:94:A1:59:7C:2D:58:85:D3:A6:57:5D:36:38:0B:06:94:D0:97:0C:02:4B:41:05:3B:8E:9A:4E:10:85:8E',
  'a=extmap-allow-mixed',
  'a=group:BUNDLE 0',
  'm=audio 9 UDP/TLS/RTP/SAVPF 111',
  'c=IN IP4 0.0.0.0',
  'a=setup:actpass',
  'a=mid:0',
  'a=ice-ufrag:LyefpUaQMVyHnpDb',
  'a=ice-pwd:WmvZyCKSjWzRXYukwOUZqDEoSkFsfIAH',
  'a=rtcp-mux',
  'a=rtcp-rsize',
  'a=rtpmap:111 opus/48000/2',
  'a=fmtp:111 minptime=10;useinbandfec=1',
  'a=ssrc:1172948239 cname:pion',
  'a=msid:pion audio',
  'a=sendrecv',
  'a=candidate:2878742611 1 udp 2130706431 127.0.0.1 36317 typ host',
  'a=end-of-candidates',
  '',
].join('\r\n');

const V4: TransportAddress = { address: '203.0.113.7', port: 3478, family: 'IPv4' };
const V4B: TransportAddress = { address: '198.51.100.9', port: 3479, family: 'IPv4' };
const V6: TransportAddress = { address: '2001:db8::7', port: 3478, family: 'IPv6' };

function offer(text: string): OfferSummary {
  const r = analyzeOffer(text);
  if (!r.ok) throw r.error;
  return r.offer;
}

function params(o: OfferSummary, over: Partial<AnswerParams> = {}): AnswerParams {
  return {
    offer: o,
    iceUfrag: 'AQFtokentokentokentokentokentokentokentokentokentokentokentoken0',
    icePwd: 'passwordpasswordpassword',
    fingerprint: { algorithm: 'sha-256', value: 'AB:CD:EF:01' },
    candidates: [V4],
    ssrc: 4_000_000_000,
    cname: 'cnamecnamecname0',
    sessionId: '86053744412605',
    streamId: 'parley',
    dataChannels: { maxMessageSize: 262144 },
    ...over,
  };
}

function variants(): [string, AnswerParams][] {
  const chrome = offer(CHROME);
  const pion = offer(PION);
  const out: [string, AnswerParams][] = [
    ['Chromium, data taken', params(chrome)],
    ['Chromium, data declined', params(chrome, { dataChannels: undefined })],
    ['Chromium, older DTLS/SCTP form', params({ ...chrome, data: { ...chrome.data!, protocol: 'DTLS/SCTP', legacy: true } })],
    ['Pion', params(pion)],
    ['Pion, offer setup active (we are passive)', params({ ...pion, setup: 'active' })],
    ['no relay: port 9, 0.0.0.0', params(pion, { candidates: [] })],
    ['IPv6 first, a backup location, ICE-TCP', params(chrome, { candidates: [V6, V4, V4B], backupFrom: 2, tcpCandidates: [V4, V6] })],
    ['no BUNDLE, no mids', params({ ...pion, audio: { ...pion.audio, mid: undefined }, bundleMids: [] })],
    [
      'declined sections with and without a mid',
      params({
        ...pion,
        declined: [
          { index: 1, type: 'video', protocol: 'UDP/TLS/RTP/SAVPF', formats: '96 97', mid: '1' },
          { index: 2, type: 'video', protocol: 'RTP/AVP', formats: '31', mid: undefined },
        ],
      }),
    ],
  ];
  for (const direction of ['sendonly', 'recvonly', 'inactive'] as const)
    out.push([`offer ${direction}`, params({ ...pion, audio: { ...pion.audio, direction, telephoneEventPayloadType: 101 } })]);
  return out;
}

test('writeAnswer gives exactly the text sdp-transform write() gives for every kind of answer we build', () => {
  for (const [name, p] of variants()) {
    const ours = writeAnswer(answerDescription(p));
    assert.equal(ours, write(answerDescription(p)), name);
    assert.equal(buildAnswer(p), ours, `${name}: buildAnswer writes with it`);
    assert.ok(ours.endsWith('\r\n') && !ours.includes('\n\n') && !ours.includes('undefined'), name);
  }
});
