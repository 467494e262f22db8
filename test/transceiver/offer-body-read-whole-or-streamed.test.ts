// The offer's body reaches the registry byte for byte whether it came in the same write as the
// headers, in pieces after them, or chunked; a body past the limit is refused 413 with
// `Connection: close` whole or in pieces; the answer is the 201 with Location, sent from the
// registry's `accepted` (http/signaling.ts). Raw TCP on 127.0.0.1 port 0, so each test decides
// how the request is split into writes.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { startSignaling } from '../../src/transceiver/http/signaling.ts';
import type { SignalingServer } from '../../src/transceiver/http/signaling.ts';
import type { CallInfo, CallService, CreateCallOptions, CreateCallResult } from '../../src/transceiver/calls/call-types.ts';

const LIMIT = 2048;
const OFFER = 'v=0\r\no=- 1 2 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n' + 'a=x-pad:0123456789\r\n'.repeat(40);

class RecordingCalls implements CallService {
  readonly offers: string[] = [];
  admission(): 'open' {
    return 'open';
  }
  async createCall(offer: string, options: CreateCallOptions): Promise<CreateCallResult> {
    this.offers.push(offer);
    const id = `rtc_${this.offers.length}`;
    const answer = `v=0\r\nanswer ${this.offers.length}\r\n`;
    options.accepted?.(id, answer);
    return { ok: true, id, answer };
  }
  getCall(): CallInfo | undefined {
    return undefined;
  }
  endCall(): boolean {
    return false;
  }
}

const calls = new RecordingCalls();
let server: SignalingServer;

before(async () => {
  server = await startSignaling({ host: '127.0.0.1', port: 0, calls, metrics: new MetricsRegistry(), maxBodyBytes: LIMIT });
});
after(() => server.close());

/** Sends `parts` as separate writes, `gapMs` apart, and returns the whole response once the server closes or answers. */
async function exchange(parts: readonly string[], gapMs: number): Promise<string> {
  const socket = connect(server.address.port, '127.0.0.1');
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  let response = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => (response += d));
  const done = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  for (const [i, part] of parts.entries()) {
    if (i > 0) await sleep(gapMs);
    if (socket.destroyed) break;
    socket.write(part);
  }
  // Connection: close on every request below, so the server ends the connection after its answer.
  await done;
  return response;
}

function head(length: number | 'chunked'): string {
  const framing = length === 'chunked' ? 'transfer-encoding: chunked' : `content-length: ${length}`;
  return `POST /v1/realtime/calls HTTP/1.1\r\nhost: x\r\ncontent-type: application/sdp\r\nconnection: close\r\n${framing}\r\n\r\n`;
}

const chunk = (s: string): string => `${Buffer.byteLength(s).toString(16)}\r\n${s}\r\n`;

test('an offer in the same write as its headers and one that follows them later reach the registry the same, and both get their 201', async () => {
  const whole = await exchange([head(OFFER.length) + OFFER], 0);
  const later = await exchange([head(OFFER.length), OFFER.slice(0, 100), OFFER.slice(100)], 30);
  const chunked = await exchange([head('chunked') + chunk(OFFER.slice(0, 300)) + chunk(OFFER.slice(300)) + '0\r\n\r\n'], 0);
  assert.deepEqual(calls.offers.slice(-3), [OFFER, OFFER, OFFER]);
  for (const [i, res] of [whole, later, chunked].entries()) {
    assert.match(res, /^HTTP\/1\.1 201 Created\r\n/, res.slice(0, 80));
    assert.match(res, /\r\ncontent-type: application\/sdp\r\n/i);
    assert.match(res, new RegExp(`\\r\\nlocation: /v1/realtime/calls/rtc_${calls.offers.length - 2 + i}\\r\\n`, 'i'));
    assert.ok(res.endsWith(`\r\n\r\nv=0\r\nanswer ${calls.offers.length - 2 + i}\r\n`), res);
  }
});

test('an empty body in the same write as its headers reaches the registry as the empty text', async () => {
  const res = await exchange([head(0)], 0);
  assert.match(res, /^HTTP\/1\.1 201 /);
  assert.equal(calls.offers.at(-1), '');
});

test('a chunked body past the limit is refused 413 with Connection: close, whether it came whole or in pieces', async () => {
  const before = calls.offers.length;
  const big = 'a=0123456789012345678901234567890123456789\r\n'.repeat(60);
  assert.ok(big.length > LIMIT);
  const whole = await exchange([head('chunked') + chunk(big) + '0\r\n\r\n'], 0);
  const pieces = await exchange([head('chunked'), chunk(big.slice(0, 1000)), chunk(big.slice(1000)), '0\r\n\r\n'], 30);
  for (const res of [whole, pieces]) {
    assert.match(res, /^HTTP\/1\.1 413 /, res.slice(0, 80));
    assert.match(res, /\r\nconnection: close\r\n/i);
    assert.match(res, /ERR_SIGNALING_BODY_TOO_LARGE/);
  }
  assert.equal(calls.offers.length, before, 'nothing reached the registry');
});
