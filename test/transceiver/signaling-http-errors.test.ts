// The signaling API over real HTTP on 127.0.0.1 port 0, against a stub CallService: each
// 4xx/503 with its JSON body, bearer keys, CORS preflight, 201 + Location, GET / DELETE /
// hangup, and the ops endpoints sharing the port. The real call registry is tested in
// calls-*.test.ts and the process end to end in transceiver-udp-relay.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { startSignaling } from '../../src/transceiver/http/signaling.ts';
import type { SignalingServer } from '../../src/transceiver/http/signaling.ts';
import type { Admission, CallInfo, CallService, CloseReason } from '../../src/transceiver/calls/call-types.ts';

const KEY = 'sk-test-0123456789abcdef';

class StubCalls implements CallService {
  admissionState: Admission = 'open';
  readonly calls = new Map<string, CallInfo>();
  lastHandler: string | undefined;
  admission(): Admission {
    return this.admissionState;
  }
  async createCall(offer: string, options: { handler?: string }) {
    this.lastHandler = options.handler;
    if (!offer.startsWith('v=0'))
      return { ok: false as const, refusal: 'bad_sdp' as const, message: 'not a valid SDP offer: the first line must be "v=0"' };
    if (!offer.includes('m=audio'))
      return { ok: false as const, refusal: 'sdp_not_acceptable' as const, message: 'the offer has no audio m-line' };
    const id = `rtc_${this.calls.size + 1}`;
    this.calls.set(id, { id, state: 'created', closeReason: undefined } as CallInfo);
    return { ok: true as const, id, answer: 'v=0\r\nanswer\r\n' };
  }
  getCall(id: string) {
    return this.calls.get(id);
  }
  endCall(id: string, reason: CloseReason) {
    const c = this.calls.get(id);
    if (!c) return false;
    this.calls.set(id, { ...c, state: 'closed', closeReason: c.closeReason ?? reason });
    return true;
  }
}

const stub = new StubCalls();
const open = new StubCalls();
let server: SignalingServer;
let openServer: SignalingServer;
let base: string;
let openBase: string;

before(async () => {
  server = await startSignaling({
    host: '127.0.0.1',
    port: 0,
    calls: stub,
    apiKeys: [KEY, 'sk-second-key-0000000'],
    metrics: new MetricsRegistry(),
    maxBodyBytes: 1024,
  });
  openServer = await startSignaling({ host: '127.0.0.1', port: 0, calls: open, metrics: new MetricsRegistry() });
  base = `http://127.0.0.1:${server.address.port}`;
  openBase = `http://127.0.0.1:${openServer.address.port}`;
});
after(async () => {
  await server.close();
  await openServer.close();
  await server.close(); // idempotent
});

const auth = { authorization: `Bearer ${KEY}` };
const OFFER = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';

async function post(path: string, body: string, headers: Record<string, string> = {}) {
  return fetch(base + path, { method: 'POST', body, headers: { 'content-type': 'application/sdp', ...auth, ...headers } });
}

/** OpenAI's error shape: {"error":{"message","type","code"}}, type by status, our ERR_… code. */
async function errorOf(res: Response): Promise<{ code: string; message: string; type: string }> {
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = (await res.json()) as { error: { code: string; message: string; type: string } };
  assert.deepEqual(Object.keys(body.error), ['message', 'type', 'code']);
  assert.ok(body.error.message.length > 10, 'the message explains');
  const type = res.status === 401 ? 'authentication_error' : res.status >= 500 ? 'server_error' : 'invalid_request_error';
  assert.equal(body.error.type, type);
  return body.error;
}

test('POST offer → 201 application/sdp with Location; GET → state JSON; DELETE ends it', async () => {
  const res = await post('/v1/realtime/calls?handler=tone', OFFER);
  assert.equal(res.status, 201);
  assert.equal(res.headers.get('content-type'), 'application/sdp');
  const location = res.headers.get('location')!;
  assert.match(location, /^\/v1\/realtime\/calls\/rtc_\d+$/);
  assert.equal(await res.text(), 'v=0\r\nanswer\r\n');
  assert.equal(stub.lastHandler, 'tone');
  const got = await fetch(base + location, { headers: auth });
  assert.equal(got.status, 200);
  assert.equal(((await got.json()) as CallInfo).state, 'created');
  const del = await fetch(base + location, { method: 'DELETE', headers: auth });
  assert.equal(del.status, 200);
  assert.deepEqual([((await del.json()) as CallInfo).state], ['closed']);
  const again = await fetch(base + location, { method: 'DELETE', headers: auth });
  assert.equal(again.status, 200, 'DELETE is idempotent');
  await again.body?.cancel();
});

test('POST …/{id}/hangup ends the call with reason hangup', async () => {
  const res = await post('/v1/realtime/calls', OFFER);
  const location = res.headers.get('location')!;
  await res.body?.cancel();
  const hang = await post(`${location}/hangup`, '', { 'content-type': 'application/json' });
  assert.equal(hang.status, 200);
  const info = (await hang.json()) as CallInfo;
  assert.equal(info.state, 'closed');
  assert.equal(info.closeReason, 'hangup');
});

test('400 unparsable SDP, 406 no audio: the body says what is wrong', async () => {
  const bad = await post('/v1/realtime/calls', 'hello');
  assert.equal(bad.status, 400);
  assert.equal((await errorOf(bad)).code, 'ERR_SIGNALING_BAD_SDP');
  const noAudio = await post('/v1/realtime/calls', 'v=0\r\nm=video 9 UDP/TLS/RTP/SAVPF 96\r\n');
  assert.equal(noAudio.status, 406);
  assert.match((await errorOf(noAudio)).message, /audio/);
});

test('415 wrong content type (JSON, urlencoded form, none)', async () => {
  for (const type of ['application/json', 'application/x-www-form-urlencoded', '']) {
    const res = await fetch(base + '/v1/realtime/calls', {
      method: 'POST',
      body: OFFER,
      headers: { ...auth, ...(type ? { 'content-type': type } : {}) },
    });
    assert.equal(res.status, 415, type);
    const e = await errorOf(res);
    assert.equal(e.code, 'ERR_SIGNALING_UNSUPPORTED_MEDIA_TYPE');
    assert.match(e.message, /application\/sdp/);
  }
  const withParams = await post('/v1/realtime/calls', OFFER, { 'content-type': 'Application/SDP; charset=utf-8' });
  assert.equal(withParams.status, 201);
  await withParams.body?.cancel();
});

test('413 when the declared body is over the limit, and when a chunked body grows past it', async () => {
  const big = 'v=0\r\n' + 'a=x\r\n'.repeat(400);
  const res = await post('/v1/realtime/calls', big);
  assert.equal(res.status, 413);
  assert.equal((await errorOf(res)).code, 'ERR_SIGNALING_BODY_TOO_LARGE');
  const status = await new Promise<number>((resolve, reject) => {
    const req = request(
      base + '/v1/realtime/calls',
      { method: 'POST', headers: { 'content-type': 'application/sdp', ...auth, 'transfer-encoding': 'chunked' } },
      (r) => {
        r.resume();
        resolve(r.statusCode ?? 0);
      },
    );
    req.on('error', reject);
    for (let i = 0; i < 8; i++) req.write('a=0123456789012345678901234567890123456789\r\n'.repeat(4));
    req.end();
  });
  assert.equal(status, 413);
});

test('401 without, with a wrong, or with a malformed bearer key; both configured keys work', async () => {
  for (const headers of [{}, { authorization: 'Bearer wrong-key-0000000000' }, { authorization: KEY }, { authorization: `Basic ${KEY}` }]) {
    const res = await fetch(base + '/v1/realtime/calls', {
      method: 'POST',
      body: OFFER,
      headers: { 'content-type': 'application/sdp', ...headers },
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="parley"');
    assert.equal((await errorOf(res)).code, 'ERR_SIGNALING_UNAUTHORIZED');
  }
  const second = await post('/v1/realtime/calls', OFFER, { authorization: 'bearer sk-second-key-0000000' });
  assert.equal(second.status, 201);
  await second.body?.cancel();
  const get = await fetch(base + '/v1/realtime/calls/rtc_1');
  assert.equal(get.status, 401, 'GET needs the key too');
  await get.body?.cancel();
});

test('without configured keys the API is open', async () => {
  const res = await fetch(openBase + '/v1/realtime/calls', { method: 'POST', body: OFFER, headers: { 'content-type': 'application/sdp' } });
  assert.equal(res.status, 201);
  await res.body?.cancel();
});

test('404 unknown call and unknown path; 405 wrong method with Allow', async () => {
  const unknown = await fetch(base + '/v1/realtime/calls/rtc_nope', { headers: auth });
  assert.equal(unknown.status, 404);
  assert.equal((await errorOf(unknown)).code, 'ERR_SIGNALING_NOT_FOUND');
  const hang = await post('/v1/realtime/calls/rtc_nope/hangup', '');
  assert.equal(hang.status, 404);
  await hang.body?.cancel();
  const path = await fetch(base + '/v2/else', { headers: auth });
  assert.equal(path.status, 404);
  await path.body?.cancel();
  const get = await fetch(base + '/v1/realtime/calls', { headers: auth });
  assert.equal(get.status, 405);
  assert.equal(get.headers.get('allow'), 'POST, OPTIONS');
  assert.equal((await errorOf(get)).code, 'ERR_SIGNALING_METHOD_NOT_ALLOWED');
  const patch = await fetch(base + '/v1/realtime/calls/rtc_1', { method: 'PATCH', headers: auth, body: 'x' });
  assert.equal(patch.status, 405, 'WHIP trickle (PATCH) is not supported by an ICE-lite server');
  assert.equal(patch.headers.get('allow'), 'GET, DELETE, OPTIONS');
  await patch.body?.cancel();
});

test('503 + Retry-After at the session limit and while draining', async () => {
  stub.admissionState = 'full';
  const full = await post('/v1/realtime/calls', OFFER);
  assert.equal(full.status, 503);
  assert.equal(full.headers.get('retry-after'), '2');
  assert.equal((await errorOf(full)).code, 'ERR_SIGNALING_AT_CAPACITY');
  stub.admissionState = 'draining';
  const draining = await post('/v1/realtime/calls', OFFER);
  assert.equal(draining.status, 503);
  assert.ok(Number(draining.headers.get('retry-after')) > 0);
  assert.equal((await errorOf(draining)).code, 'ERR_SIGNALING_DRAINING');
  stub.admissionState = 'open';
});

test('CORS: preflight answers without a key; responses expose Location', async () => {
  const pre = await fetch(base + '/v1/realtime/calls', {
    method: 'OPTIONS',
    headers: {
      origin: 'https://app.example',
      'access-control-request-method': 'POST',
      'access-control-request-headers': 'authorization,content-type',
    },
  });
  assert.equal(pre.status, 204);
  assert.equal(pre.headers.get('access-control-allow-origin'), '*');
  assert.match(pre.headers.get('access-control-allow-methods')!, /POST/);
  const allowed = pre.headers.get('access-control-allow-headers')!.split(', ');
  for (const h of [
    'Authorization',
    'Content-Type',
    'OpenAI-Beta',
    'X-OpenAI-Agents-SDK',
    'X-Stainless-Package-Version',
    'X-Stainless-Timeout',
  ])
    assert.ok(allowed.includes(h), h);
  const preCall = await fetch(base + '/v1/realtime/calls/rtc_1', { method: 'OPTIONS' });
  assert.match(preCall.headers.get('access-control-allow-methods')!, /DELETE/);
  const res = await post('/v1/realtime/calls', OFFER, { origin: 'https://app.example' });
  assert.equal(res.headers.get('access-control-allow-origin'), '*');
  assert.equal(res.headers.get('access-control-expose-headers'), 'Location');
  await res.body?.cancel();
  const denied = await fetch(base + '/v1/realtime/calls', { method: 'POST', body: OFFER, headers: { 'content-type': 'application/sdp' } });
  assert.equal(denied.headers.get('access-control-allow-origin'), '*', 'errors are readable cross-origin too');
  await denied.body?.cancel();
});

test('/metrics, /healthz and /readyz are not on the public signaling port (issue #19: they are on --ops)', async () => {
  for (const path of ['/metrics', '/healthz', '/readyz']) {
    const r = await fetch(base + path);
    assert.equal(r.status, 404, path);
    await r.body?.cancel();
  }
});

test('a request-target the URL parser rejects gets a 404 answer, and the server keeps serving', async () => {
  const { connect } = await import('node:net');
  const reply = await new Promise<string>((resolve, reject) => {
    const sock = connect(server.address.port, '127.0.0.1', () => sock.end('GET http://[ HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n'));
    let data = '';
    sock.on('data', (d) => (data += d.toString()));
    sock.on('end', () => resolve(data));
    sock.on('error', reject);
  });
  assert.match(reply, /^HTTP\/1\.1 (400|404)/);
  const ok = await fetch(base + '/v1/realtime/calls', { method: 'OPTIONS' });
  assert.equal(ok.status, 204);
  await ok.body?.cancel();
});
