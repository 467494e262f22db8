// The client's offer is one the transceiver's offer reader accepts (core/sdp analyzeOffer), and
// the client reads the transceiver's answer builder's output; bad answers fail with
// ERR_CLIENT_BAD_ANSWER saying what is missing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOffer, parseAnswer } from '../../src/client/sdp.ts';
import { ClientError, ClientErrorCode } from '../../src/client/errors.ts';
import { analyzeOffer, buildAnswer } from '../../src/core/sdp/index.ts';

const FP = Array.from({ length: 32 }, (_, i) => i.toString(16).padStart(2, '0').toUpperCase()).join(':');

function offer(): string {
  return buildOffer({
    iceUfrag: 'abcd1234',
    icePwd: 'abcdefghijklmnopqrstuvwx',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidate: { address: '127.0.0.1', port: 40000, family: 'IPv4' },
    ssrc: 1234,
    cname: 'cname',
    sessionId: '42',
  });
}

test('the offer is audio sendrecv Opus/48000/2 PT 111, rtcp-mux, BUNDLE, setup:actpass, one host candidate', () => {
  const text = offer();
  const r = analyzeOffer(text);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  assert.equal(r.offer.audio.opusPayloadType, 111);
  assert.equal(r.offer.audio.direction, 'sendrecv');
  assert.equal(r.offer.setup, 'actpass');
  assert.deepEqual(r.offer.bundleMids, ['0']);
  assert.equal(r.offer.iceUfrag, 'abcd1234');
  assert.equal(r.offer.fingerprint.value, FP);
  assert.match(text, /a=rtcp-mux\r\n/);
  assert.match(text, /a=candidate:1 1 udp \d+ 127\.0\.0\.1 40000 typ host\r\n/);
  assert.ok(text.endsWith('\r\n'));
});

test('the transceiver answer is read: credentials, fingerprint, role, candidates by priority', () => {
  const r = analyzeOffer(offer());
  assert.ok(r.ok);
  const answer = buildAnswer({
    offer: r.offer,
    iceUfrag: 'TOKENtoken+/12',
    icePwd: 'pwdpwdpwdpwdpwdpwdpwdpwd',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidates: [
      { address: '203.0.113.7', port: 3478, family: 'IPv4' },
      { address: '2001:db8::7', port: 3478, family: 'IPv6' },
    ],
    ssrc: 99,
    cname: 'x',
    sessionId: '1',
    streamId: 's',
  });
  const a = parseAnswer(answer);
  assert.equal(a.iceUfrag, 'TOKENtoken+/12');
  assert.equal(a.icePwd, 'pwdpwdpwdpwdpwdpwdpwdpwd');
  assert.equal(a.iceLite, true);
  assert.equal(a.setup, 'active');
  assert.equal(a.opusPayloadType, 111);
  assert.deepEqual(
    a.candidates.map((c) => `${c.address}:${c.port}`),
    ['203.0.113.7:3478', '2001:db8::7:3478'],
  );
});

test('unusable answers are rejected with ERR_CLIENT_BAD_ANSWER', () => {
  const good = offer().replace('a=setup:actpass', 'a=setup:active');
  const cases: [string, RegExp][] = [
    ['', /v=0|audio/],
    [good.replace(/a=ice-pwd:.*\r\n/, ''), /ice-pwd/],
    [good.replace(/a=fingerprint:.*\r\n/, ''), /fingerprint/],
    [good.replace('a=setup:active', 'a=setup:actpass'), /setup/],
    [good.replace(/a=candidate:.*\r\n/, ''), /candidate/],
    [good.replace(/m=audio \d+/, 'm=audio 0'), /audio/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseAnswer(text),
      (e: unknown) => e instanceof ClientError && e.code === ClientErrorCode.BadAnswer && why.test(e.message),
    );
  }
});

test('ICE-TCP (RFC 6544): the offer carries one active TCP candidate; the answer gives its passive TCP candidates only to a TCP call', () => {
  const text = buildOffer({
    iceUfrag: 'abcd1234',
    icePwd: 'abcdefghijklmnopqrstuvwx',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidate: { address: '127.0.0.1', port: 9, family: 'IPv4' },
    transport: 'tcp',
    ssrc: 1234,
    cname: 'cname',
    sessionId: '42',
  });
  assert.match(text, /a=candidate:1 1 tcp \d+ 127\.0\.0\.1 9 typ host tcptype active\r\n/);
  const r = analyzeOffer(text);
  assert.ok(r.ok, r.ok ? '' : r.error.message);
  const params = {
    offer: r.offer,
    iceUfrag: 'TOKENtoken+/12',
    icePwd: 'pwdpwdpwdpwdpwdpwdpwdpwd',
    fingerprint: { algorithm: 'sha-256', value: FP },
    candidates: [{ address: '203.0.113.7', port: 3478, family: 'IPv4' as const }],
    ssrc: 99,
    cname: 'x',
    sessionId: '1',
    streamId: 's',
  };
  const answer = buildAnswer({
    ...params,
    tcpCandidates: [
      { address: '203.0.113.7', port: 443, family: 'IPv4' },
      { address: '198.51.100.8', port: 443, family: 'IPv4' },
    ],
  });
  assert.deepEqual(
    parseAnswer(answer, 'tcp').candidates.map((c) => `${c.address}:${c.port}`),
    ['203.0.113.7:443', '198.51.100.8:443'],
    'the passive ones, in the answer’s order of priority',
  );
  assert.deepEqual(
    parseAnswer(answer).candidates.map((c) => `${c.address}:${c.port}`),
    ['203.0.113.7:3478'],
  );
  // An active TCP candidate in an answer is not one we could connect to.
  assert.throws(
    () => parseAnswer(answer.replaceAll('tcptype passive', 'tcptype active'), 'tcp'),
    (e: unknown) => e instanceof ClientError && e.code === ClientErrorCode.BadAnswer,
  );
  assert.throws(
    () => parseAnswer(buildAnswer(params), 'tcp'),
    (e: unknown) =>
      e instanceof ClientError && e.code === ClientErrorCode.BadAnswer && /no passive TCP candidate.*--relays-tcp/.test(e.message),
  );
});
