// The answer to a real Chromium offer (test/core/sdp/data, see its README for provenance):
// every line JSEP (RFC 8829 §5.3) and ICE-lite (RFC 8445 §2.5) require, and nothing of ours
// that would let a browser reach the transceiver directly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { parse } from 'sdp-transform';
import { analyzeOffer, buildAnswer, candidatePriority, dtlsRole, tcpCandidatePriority } from '../../../src/core/sdp/index.ts';
import type { OfferSummary } from '../../../src/core/sdp/index.ts';
import type { TransportAddress } from '../../../src/core/address.ts';

const CHROME = readFileSync(new URL('./data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');
const RELAYS: TransportAddress[] = [
  { address: '203.0.113.7', port: 3478, family: 'IPv4' },
  { address: '2001:db8::7', port: 3478, family: 'IPv6' },
];

function chromeOffer(text = CHROME): OfferSummary {
  const r = analyzeOffer(text);
  if (!r.ok) throw r.error;
  return r.offer;
}

function answer(offer: OfferSummary, candidates = RELAYS): string {
  return buildAnswer({
    offer,
    iceUfrag: 'AQFtokentokentoken',
    icePwd: 'passwordpasswordpassword',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidates,
    ssrc: 0x11223344,
    cname: 'parleycname',
    sessionId: '4611686018427387904',
    streamId: 'parley',
  });
}

test('the Chromium offer is read: opus PT 111, telephone-event 110, data channel to decline, actpass', () => {
  const o = chromeOffer();
  assert.equal(o.audio.opusPayloadType, 111);
  assert.equal(o.audio.telephoneEventPayloadType, 110);
  assert.equal(o.audio.mid, '0');
  assert.equal(o.setup, 'actpass');
  assert.equal(o.iceUfrag, '1ODc');
  assert.equal(o.fingerprint.algorithm, 'sha-256');
  assert.deepEqual(o.bundleMids, ['0', '1']);
  assert.deepEqual(
    o.declined.map((d) => [d.type, d.mid, d.formats]),
    [['application', '1', 'webrtc-datachannel']],
  );
});

test('answer: ice-lite, our credentials, fingerprint, setup:active, rtcp-mux, CRLF', () => {
  const text = answer(chromeOffer());
  assert.ok(text.endsWith('\r\n') && !/[^\r]\n/.test(text), 'CRLF line ends (RFC 8866 §5)');
  const sdp = parse(text);
  assert.equal(sdp.icelite, 'ice-lite');
  const audio = sdp.media[0];
  assert.equal(audio.type, 'audio');
  assert.equal(audio.iceUfrag, 'AQFtokentokentoken');
  assert.equal(audio.icePwd, 'passwordpasswordpassword');
  assert.deepEqual(audio.fingerprint, { type: 'sha-256', hash: FP });
  assert.equal(audio.setup, 'active');
  assert.equal(audio.rtcpMux, 'rtcp-mux');
  assert.equal(audio.direction, 'sendrecv');
  assert.equal(audio.protocol, 'UDP/TLS/RTP/SAVPF');
});

test('answer: opus echoes the offer payload type, plus telephone-event/48000, nothing else', () => {
  const audio = parse(answer(chromeOffer())).media[0];
  assert.equal(String(audio.payloads), '111 110');
  assert.deepEqual(audio.rtp, [
    { payload: 111, codec: 'opus', rate: 48000, encoding: 2 },
    { payload: 110, codec: 'telephone-event', rate: 48000 },
  ]);
  const other = CHROME.replace(/ 111 63/, ' 96 63')
    .replaceAll('rtpmap:111', 'rtpmap:96')
    .replaceAll('fmtp:111', 'fmtp:96');
  assert.equal(String(parse(answer(chromeOffer(other))).media[0].payloads), '96 110');
});

test('answer: the data channel is declined with port 0 and BUNDLE lists only the audio mid', () => {
  const sdp = parse(answer(chromeOffer()));
  assert.equal(sdp.media.length, 2, 'one answer section per offered section, same order');
  const app = sdp.media[1];
  assert.equal(app.type, 'application');
  assert.equal(app.port, 0);
  assert.equal(String(app.mid), '1');
  assert.equal(app.candidates, undefined);
  assert.deepEqual(
    sdp.groups?.map((g) => [g.type, String(g.mids)]),
    [['BUNDLE', '0']],
  );
});

test('answer: candidates are exactly the relay addresses, in order, host/udp, decreasing priority', () => {
  const audio = parse(answer(chromeOffer())).media[0];
  assert.deepEqual(
    audio.candidates?.map((c) => [c.ip, c.port, c.transport, c.type, c.component]),
    [
      ['203.0.113.7', 3478, 'udp', 'host', 1],
      ['2001:db8::7', 3478, 'udp', 'host', 1],
    ],
  );
  assert.deepEqual(
    audio.candidates?.map((c) => c.priority),
    [candidatePriority(0), candidatePriority(1)],
  );
  assert.ok(candidatePriority(0) > candidatePriority(1));
  assert.equal(audio.endOfCandidates, 'end-of-candidates');
  assert.equal(audio.port, 3478);
  assert.deepEqual(audio.connection, { version: 4, ip: '203.0.113.7' });
});

test('answer: our ssrc and msid are announced so the browser gets a stream in ontrack', () => {
  const audio = parse(answer(chromeOffer())).media[0];
  assert.deepEqual(audio.ssrcs, [{ id: 0x11223344, attribute: 'cname', value: 'parleycname' }]);
  assert.equal(audio.msid?.[0].id, 'parley');
});

test('RFC 8842 §5.3: offer actpass/passive → we are active (DTLS client); offer active → passive (server)', () => {
  assert.equal(dtlsRole('actpass'), 'client');
  assert.equal(dtlsRole('passive'), 'client');
  assert.equal(dtlsRole('active'), 'server');
  const activeOffer = chromeOffer(CHROME.replaceAll('a=setup:actpass', 'a=setup:active'));
  assert.equal(parse(answer(activeOffer)).media[0].setup, 'passive');
});

test('RFC 3264 §6.1: a recvonly offer gets a sendonly answer; sendonly gets recvonly without our ssrc', () => {
  const recvonly = parse(answer(chromeOffer(CHROME.replace('a=sendrecv', 'a=recvonly')))).media[0];
  assert.equal(recvonly.direction, 'sendonly');
  const sendonly = parse(answer(chromeOffer(CHROME.replace('a=sendrecv', 'a=sendonly')))).media[0];
  assert.equal(sendonly.direction, 'recvonly');
  assert.equal(sendonly.ssrcs, undefined);
});

test('an offer without BUNDLE gets an answer without a group', () => {
  const sdp = parse(answer(chromeOffer(CHROME.replace('a=group:BUNDLE 0 1\r\n', ''))));
  assert.equal(sdp.groups, undefined);
});

test('a UDP/TLS/RTP/SAVP audio offer (DTLS-SRTP without RTCP feedback) is accepted like SAVPF and answered in kind', () => {
  const savp = CHROME.replace(/^(m=audio \d+) UDP\/TLS\/RTP\/SAVPF /m, '$1 UDP/TLS/RTP/SAVP ');
  assert.notEqual(savp, CHROME);
  const a = parse(answer(chromeOffer(savp)));
  assert.equal(a.media[0].type, 'audio');
  assert.equal(a.media[0].protocol, 'UDP/TLS/RTP/SAVP');
  assert.ok(a.media[0].port > 0);
  assert.equal(analyzeOffer(CHROME.replace(/^(m=audio \d+) UDP\/TLS\/RTP\/SAVPF /m, '$1 RTP/SAVP ')).ok, false, 'SRTP without DTLS is not');
});

test('ICE-TCP: each relay TCP address is a passive TCP host candidate, ranked below every UDP candidate (RFC 6544)', () => {
  const tcp: TransportAddress[] = [
    { address: '203.0.113.7', port: 443, family: 'IPv4' },
    { address: '2001:db8::7', port: 443, family: 'IPv6' },
  ];
  const text = buildAnswer({
    offer: chromeOffer(),
    iceUfrag: 'AQFtokentokentoken',
    icePwd: 'passwordpasswordpassword',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidates: RELAYS,
    backupFrom: 1,
    tcpCandidates: tcp,
    ssrc: 0x11223344,
    cname: 'parleycname',
    sessionId: '4611686018427387904',
    streamId: 'parley',
  });
  assert.match(text, /\r\na=candidate:3 1 tcp \d+ 203\.0\.113\.7 443 typ host tcptype passive\r\n/);
  const candidates = parse(text).media[0].candidates!;
  const udp = candidates.filter((c) => c.transport === 'udp');
  const tcps = candidates.filter((c) => c.transport === 'tcp');
  assert.equal(tcps.length, 2);
  assert.equal(new Set(candidates.map((c) => c.foundation)).size, 4, 'a foundation each');
  assert.ok(Math.max(...tcps.map((c) => c.priority)) < Math.min(...udp.map((c) => c.priority)), 'UDP first, also a backup location');
  assert.ok(tcps[0].priority > tcps[1].priority, 'the nearest relay leads');
  assert.ok(tcps.every((c) => c.tcptype === 'passive' && c.type === 'host'));
  assert.equal(tcpCandidatePriority(0), 90 * 2 ** 24 + (4 * 2 ** 13 + 8191) * 2 ** 8 + 255);
});
