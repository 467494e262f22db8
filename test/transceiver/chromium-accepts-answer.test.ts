// Chromium must accept our answer (RFC 8829 JSEP as libwebrtc implements it): a live Chromium
// (Debian's, via playwright-core) makes the offer OpenAI Realtime clients make (microphone track
// + data channel), the transceiver answers it over HTTP, and setRemoteDescription succeeds with
// the audio transceiver sendrecv and the data channel's m-section taken on the same port (RFC 8841,
// BUNDLE). Skipped with the reason when Chromium is not installed (the full call is
// test/e2e/browser-chromium.test.ts).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { access } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { chromium } from 'playwright-core';
import type { Browser } from 'playwright-core';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import type { Transceiver } from '../../src/transceiver/transceiver.ts';

const CHROMIUM = process.env.PARLEY_CHROMIUM ?? '/usr/bin/chromium';
const found = await access(CHROMIUM).then(
  () => true,
  () => false,
);
const skip = found ? false : `Chromium not found at ${CHROMIUM}`;

// Page scripts are strings: this project compiles without the DOM library.
const OFFER_SCRIPT = `(async () => {
  const pc = new RTCPeerConnection();
  globalThis.pc = pc;
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.addTrack(mic.getAudioTracks()[0], mic);
  pc.createDataChannel('oai-events');
  await pc.setLocalDescription(await pc.createOffer());
  return pc.localDescription.sdp;
})()`;
const ANSWER_SCRIPT = `async (sdp) => {
  const pc = globalThis.pc;
  try {
    await pc.setRemoteDescription({ type: 'answer', sdp });
  } catch (err) {
    return { error: String(err) };
  }
  return {
    signaling: pc.signalingState,
    directions: pc.getTransceivers().map((t) => t.currentDirection),
    remoteMlines: pc.remoteDescription.sdp.split('\\r\\n').filter((l) => l.startsWith('m=')),
  };
}`;

let browser: Browser | undefined;
let page: Server | undefined;
let trx: Transceiver | undefined;

before(async () => {
  if (skip) return;
  trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: [
      { address: '127.0.0.1', port: 3478, family: 'IPv4' },
      { address: '::1', port: 3478, family: 'IPv6' },
    ],
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring: Keyring.generate(seededRng('chromium')),
    maxSessions: 10,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers: defaultHandlers(),
  });
  // A page on http://127.0.0.1 is a secure context, so getUserMedia works with the fake device.
  page = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>offer</title>'));
  await new Promise<void>((r) => page!.listen(0, '127.0.0.1', r));
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--use-fake-device-for-media-stream', '--use-fake-ui-for-media-stream', '--no-sandbox'],
  });
});

after(async () => {
  await browser?.close();
  await new Promise<void>((r) => (page ? page.close(() => r()) : r()));
  await trx?.close();
});

test('Chromium sets our answer to its audio + data-channel offer as the remote description', { skip }, async () => {
  const tab = await browser!.newPage();
  await tab.goto(`http://127.0.0.1:${(page!.address() as AddressInfo).port}/`);
  const offer = (await tab.evaluate(OFFER_SCRIPT)) as string;
  const res = await fetch(`http://127.0.0.1:${trx!.httpAddress.port}/v1/realtime/calls`, {
    method: 'POST',
    body: offer,
    headers: { 'content-type': 'application/sdp' },
  });
  assert.equal(res.status, 201);
  const answer = await res.text();
  const result = await tab.evaluate(`(${ANSWER_SCRIPT})(${JSON.stringify(answer)})`);
  assert.deepEqual(result, {
    signaling: 'stable',
    directions: ['sendrecv'],
    remoteMlines: ['m=audio 3478 UDP/TLS/RTP/SAVPF 111 110', 'm=application 3478 UDP/DTLS/SCTP webrtc-datachannel'],
  });
  await tab.close();
});
