// startTransceiver in this process on 127.0.0.1 port 0, with a hand-made "relay" socket:
// the answer's token opens to the media address and its password is derivePassword's; the
// session limit gives 503 and frees up on hang-up; an unknown ?handler= is 400; the media
// endpoint drops (and counts; warns, naming the setting) datagrams from outside --relay-cidrs, without a relay header, or
// for no session; a forged-source STUN check gets nothing back; a call's ICE results and DTLS
// drops are counted in /metrics.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import type { Socket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { connectivityCheck } from '../../src/core/ice/binding-request.ts';
import { bindingSuccess } from '../../src/core/ice/binding-response.ts';
import { decodeRelayHeader, encodeRelayHeader, isTcpRelayHeader } from '../../src/contracts/relay-header.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, derivePassword, open } from '../../src/core/token/index.ts';
import { generateCertificate } from '../../src/core/dtls/index.ts';
import { createEchoHandler } from '../../src/transceiver/handlers/echo.ts';
import { HandlerRegistry } from '../../src/transceiver/handlers/registry.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';
import { readAnswer } from './helpers/answer.ts';
import { TEST_MEDIA_IO } from './helpers/media-io.ts';
import { waitFor } from '../support/wait-for.ts';
import { createLogger } from '../../src/common/log.ts';

function echoOnly(): HandlerRegistry {
  const handlers = new HandlerRegistry();
  handlers.register('echo', createEchoHandler);
  return handlers;
}

const CHROME = readFileSync(new URL('../core/sdp/data/chromium-156-audio-datachannel.offer.sdp', import.meta.url), 'utf8');
const keyring = Keyring.generate(seededRng('in-process-keys'));
const certificate = generateCertificate(seededRng('in-process-cert'));
const RELAY = { address: '203.0.113.7', port: 3478, family: 'IPv4' as const };
let trx: Transceiver;
let base: string;
let relaySock: Socket;
const received: Buffer[] = [];
/** Routing tokens of the calls that ended (what --redis revokes at the relays). */
const ended: string[] = [];
/** The transceiver's warnings. */
const warnings: Record<string, unknown>[] = [];

before(async () => {
  trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [RELAY],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring,
    maxSessions: 1,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers: echoOnly(),
    certificate,
    rng: seededRng('in-process'),
    mediaIo: TEST_MEDIA_IO,
    tokenEnded: (ufrag) => ended.push(ufrag),
    log: createLogger({ component: 'transceiver', level: 'warn', sink: (l) => warnings.push(JSON.parse(l)) }),
  });
  base = `http://127.0.0.1:${trx.httpAddress.port}`;
  relaySock = createSocket('udp4');
  relaySock.on('message', (m) => received.push(m));
  await new Promise<void>((r) => relaySock.bind(0, '127.0.0.1', r));
});

after(async () => {
  await trx.close();
  await trx.close();
  await new Promise<void>((r) => relaySock.close(() => r()));
});

function post(body: string, query = ''): Promise<Response> {
  return fetch(`${base}/v1/realtime/calls${query}`, { method: 'POST', body, headers: { 'content-type': 'application/sdp' } });
}

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${trx.opsAddress.port}/metrics`)).text();
  const line = text.split('\n').find((l) => l.split(' ')[0] === name);
  return line ? Number(line.split(' ').pop()) : NaN;
}

function sendFrom(sock: Socket, data: Buffer): Promise<void> {
  return new Promise((r) => sock.send(data, trx.mediaAddress.port, '127.0.0.1', () => r()));
}

test('the answer: ufrag opens to the media address, ice-pwd = derivePassword, our fingerprint, relay candidate only', async () => {
  const res = await post(CHROME);
  assert.equal(res.status, 201);
  const a = readAnswer(await res.text());
  const opened = open(a.ufrag, keyring, Date.now());
  assert.ok(opened.ok, 'the token opens with the shared keyring');
  assert.deepEqual(opened.destination, trx.mediaAddress);
  assert.equal(a.pwd, derivePassword(a.ufrag, keyring));
  assert.equal(a.fingerprint, certificate.fingerprint);
  assert.equal(a.setup, 'active');
  assert.deepEqual(a.candidates, [RELAY]);
  const location = res.headers.get('location')!;

  // Session limit 1: the next offer is refused until this call ends.
  const full = await post(CHROME);
  assert.equal(full.status, 503);
  assert.equal(full.headers.get('retry-after'), '2');
  assert.equal(((await full.json()) as { error: { code: string } }).error.code, 'ERR_SIGNALING_AT_CAPACITY');
  const hang = await fetch(`${base}${location}/hangup`, { method: 'POST' });
  assert.equal(hang.status, 200);
  await hang.body?.cancel();
  assert.deepEqual(ended, [a.ufrag], "the ended call's token is handed over for revocation");
  const again = await post(CHROME);
  assert.equal(again.status, 201);
  const loc2 = again.headers.get('location')!;
  await again.body?.cancel();
  (await fetch(base + loc2, { method: 'DELETE' })).body?.cancel();
});

test('an unknown ?handler= is 400 ERR_SIGNALING_UNKNOWN_HANDLER; a bad offer is 400, an offer without opus 406', async () => {
  const res = await post(CHROME, '?handler=nope');
  assert.equal(res.status, 400);
  assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'ERR_SIGNALING_UNKNOWN_HANDLER');
  const bad = await post('v=0\r\nnonsense');
  assert.equal(bad.status, 400);
  assert.match(((await bad.json()) as { error: { message: string } }).error.message, /line 2/);
  const noOpus = await post(CHROME.replace('a=rtpmap:111 opus/48000/2', 'a=rtpmap:111 speex/16000'));
  assert.equal(noOpus.status, 406);
  assert.equal(((await noOpus.json()) as { error: { code: string } }).error.code, 'ERR_SIGNALING_SDP_NOT_ACCEPTABLE');
  // The registry counts each refusal by its reason, the HTTP layer answers it with a code.
  assert.equal(await metric('parley_transceiver_calls_rejected_total{reason="unknown_handler"}'), 1);
  assert.equal(await metric('parley_transceiver_calls_rejected_total{reason="bad_sdp"}'), 1);
  assert.equal(await metric('parley_transceiver_calls_rejected_total{reason="sdp_not_acceptable"}'), 1);
});

test('media endpoint drops: outside relay CIDRs, no relay header, no session; each counted', async () => {
  const res = await post(CHROME);
  const a = readAnswer(await res.text());
  const location = res.headers.get('location')!;
  const client = { address: '198.51.100.20', port: 50000, family: 'IPv4' as const };
  const check = connectivityCheck({
    transactionId: Buffer.alloc(12, 7),
    localUfrag: '1ODc',
    remoteUfrag: a.ufrag,
    remotePwd: a.pwd,
    priority: 1,
    role: { controlling: true, tieBreaker: 1n },
    useCandidate: true,
  });
  const wrapped = Buffer.concat([encodeRelayHeader(client, RELAY), check]);

  // From 127.0.0.2: not in --relay-cidrs 127.0.0.1/32.
  const outsider = createSocket('udp4');
  await new Promise<void>((r) => outsider.bind(0, '127.0.0.2', r));
  await sendFrom(outsider, wrapped);
  await new Promise<void>((r) => outsider.close(() => r()));
  await sendFrom(relaySock, check); // no header
  await sendFrom(relaySock, Buffer.concat([encodeRelayHeader(client, RELAY), Buffer.from([0x17, 0xfe, 0xfd, 0, 0])])); // DTLS, unknown client
  // Packets in flight: wait until the transceiver has counted all three.
  await waitUntil(async () => (await metric('parley_transceiver_drops_total{reason="no_session"}')) === 1);
  assert.equal(received.length, 0, 'nothing answered');
  assert.equal(await metric('parley_transceiver_drops_total{reason="source_not_allowed"}'), 1);
  // Issue #20: and a warning naming the setting and the source.
  const w = warnings.find((l) => l.reason === 'source_not_allowed');
  assert.equal(w?.setting, '--relay-cidrs / PARLEY_RELAY_CIDRS');
  assert.equal(w?.value, '127.0.0.2');
  assert.match(String(w?.msg), /--relay-cidrs.*127\.0\.0\.1\/32/);
  assert.equal(await metric('parley_transceiver_drops_total{reason="bad_header"}'), 1);
  assert.equal(await metric('parley_transceiver_drops_total{reason="no_session"}'), 1);

  // The same check from the relay: answered through the relay, header naming the client.
  await sendFrom(relaySock, wrapped);
  await waitUntil(() => received.length > 0);
  const reply = received[0];
  assert.equal(reply.subarray(0, 2).toString('latin1'), 'PR', 'relay header magic');
  assert.equal(reply[40] >> 6, 0, 'a STUN response follows the header');
  const got = (await (await fetch(base + location)).json()) as { state: string; client: string; relay: string };
  assert.equal(got.state, 'connecting', 'nominated: DTLS started');
  assert.equal(got.client, '198.51.100.20:50000');
  assert.equal(got.relay, '203.0.113.7:3478');
  assert.equal(await metric('parley_transceiver_ice_checks_total{result="answered"}'), 1);
  // The agent's Binding request back (class request, 0x0001) follows the client's next check
  // (the first paid for its answer only: issue #19); its answer, signed with the client's
  // password from the offer, confirms the client address, and only then does the DTLS client start.
  await sendFrom(relaySock, wrapped);
  await waitUntil(() => received.some((r) => r.readUInt16BE(40) === 0x0001));
  const request = received.find((r) => r.readUInt16BE(40) === 0x0001)!;
  const clientPwd = /a=ice-pwd:(\S+)/.exec(CHROME)![1];
  await sendFrom(relaySock, Buffer.concat([encodeRelayHeader(client, RELAY), bindingSuccess(request.subarray(48, 60), RELAY, clientPwd)]));
  await waitUntil(() => received.some((r) => r[40] === 22));
  const before = received.length;

  // The call's ICE and DTLS counters reach /metrics: a check with the wrong password is
  // answered 401, and a protected DTLS record before any keys is dropped (RFC 6347 §4.1).
  const forged = connectivityCheck({
    transactionId: Buffer.alloc(12, 8),
    localUfrag: '1ODc',
    remoteUfrag: a.ufrag,
    remotePwd: 'not-the-password-at-all',
    priority: 1,
    role: { controlling: true, tieBreaker: 1n },
  });
  await sendFrom(relaySock, Buffer.concat([encodeRelayHeader(client, RELAY), forged]));
  const epoch1 = Buffer.from([0x17, 0xfe, 0xfd, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
  await sendFrom(relaySock, Buffer.concat([encodeRelayHeader(client, RELAY), epoch1]));
  await waitUntil(() => received.length > before);
  await waitUntil(async () => (await metric('parley_transceiver_dtls_drops_total{reason="no_keys_for_epoch"}')) === 1);
  assert.equal(await metric('parley_transceiver_ice_checks_total{result="stun_error_401"}'), 1);
  assert.equal(await metric('parley_transceiver_ice_checks_total{result="drop_fingerprint"}'), 0, 'every result is exported, also at 0');
  assert.equal(await metric('parley_transceiver_dtls_drops_total{reason="no_keys_for_epoch"}'), 1);
  (await fetch(base + location, { method: 'DELETE' })).body?.cancel();
});

async function waitUntil(check: () => boolean | Promise<boolean>): Promise<void> {
  await waitFor(check, { timeoutMs: 3000, intervalMs: 10, what: 'the condition' });
}

test('a TCP client (relay header version 2) is answered with version-2 headers: the check, the request back, then DTLS', async () => {
  const res = await post(CHROME);
  const a = readAnswer(await res.text());
  const location = res.headers.get('location')!;
  const client = { address: '198.51.100.30', port: 40000, family: 'IPv4' as const };
  const tcpHeader = encodeRelayHeader(client, RELAY, 'tcp');
  const check = connectivityCheck({
    transactionId: Buffer.alloc(12, 9),
    localUfrag: '1ODc',
    remoteUfrag: a.ufrag,
    remotePwd: a.pwd,
    priority: 1,
    role: { controlling: true, tieBreaker: 1n },
    useCandidate: true,
  });
  const from = received.length;
  await sendFrom(relaySock, Buffer.concat([tcpHeader, check]));
  const mine = (): Buffer[] => received.slice(from);
  // The request back goes first (the check paid for it, not for it and the answer together).
  await waitUntil(() => mine().some((r) => r.readUInt16BE(40) === 0x0001));
  const request = mine().find((r) => r.readUInt16BE(40) === 0x0001)!;
  const clientPwd = /a=ice-pwd:(\S+)/.exec(CHROME)![1];
  await sendFrom(relaySock, Buffer.concat([tcpHeader, bindingSuccess(request.subarray(48, 60), RELAY, clientPwd)]));
  // Its answer confirms the address: the held answer to the check goes, then the ClientHello.
  await waitUntil(() => mine().some((r) => r.readUInt16BE(40) === 0x0101) && mine().some((r) => r[40] === 22));
  for (const r of mine()) {
    assert.equal(isTcpRelayHeader(r), true, 'every reply to a TCP client carries the TCP bit');
    assert.deepEqual(decodeRelayHeader(r)?.client, client);
  }
  assert.equal(isTcpRelayHeader(mine().find((r) => r[40] === 22)!), true, 'the ClientHello goes back over TCP too');
  // The same address over UDP is another client: not this call's.
  const udpDtls = Buffer.concat([encodeRelayHeader(client, RELAY), Buffer.from([0x16, 0xfe, 0xfd, 0, 0])]);
  const noSession = await metric('parley_transceiver_drops_total{reason="no_session"}');
  await sendFrom(relaySock, udpDtls);
  await waitUntil(async () => (await metric('parley_transceiver_drops_total{reason="no_session"}')) === noSession + 1);
  (await fetch(base + location, { method: 'DELETE' })).body?.cancel();
});
