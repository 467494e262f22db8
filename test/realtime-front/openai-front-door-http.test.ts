// The OpenAI-compatible front door over real HTTP on 127.0.0.1 (http/signaling.ts with a stub
// CallService): POST /v1/realtime/client_secrets, calls created with an ek_ secret or an API key,
// application/sdp or multipart/form-data (with and without per-part content types), the session
// and query reaching the handler's request, every refusal with its status and OpenAI-shaped body,
// the per-IP rate of client_secrets, and the `openai` npm SDK (pinned) against Parley.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { MetricsRegistry } from '../../src/common/metrics.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { CLIENT_SECRETS_PER_IP, startSignaling } from '../../src/transceiver/http/signaling.ts';
import type { SignalingServer } from '../../src/transceiver/http/signaling.ts';
import { ClientSecrets } from '../../src/transceiver/realtime-front/client-secrets.ts';
import type { Admission, CallInfo, CallService, CreateCallOptions, CreateCallResult } from '../../src/transceiver/calls/call-types.ts';

const KEY = 'sk-front-0123456789abcdef';
const OFFER = 'v=0\r\nm=audio 9 UDP/TLS/RTP/SAVPF 111\r\n';
const keyring = Keyring.generate(seededRng('front-ring'));

class StubCalls implements CallService {
  last: { offer: string; options: CreateCallOptions } | undefined;
  admission(): Admission {
    return 'open';
  }
  async createCall(offer: string, options: CreateCallOptions): Promise<CreateCallResult> {
    this.last = { offer, options };
    return { ok: true as const, id: 'rtc_1', answer: 'v=0\r\nanswer\r\n' };
  }
  getCall(): CallInfo | undefined {
    return undefined;
  }
  endCall(): boolean {
    return false;
  }
}

const calls = new StubCalls();
let wall = 1_800_000_000_000;
let server: SignalingServer;
let base: string;

before(async () => {
  server = await startSignaling({
    host: '127.0.0.1',
    port: 0,
    calls,
    apiKeys: [KEY],
    metrics: new MetricsRegistry(),
    maxBodyBytes: 32 * 1024,
    wallClock: () => wall,
    clientSecrets: new ClientSecrets({ keyring, rng: seededRng('front') }),
  });
  base = `http://127.0.0.1:${server.address.port}`;
});
after(() => server.close());

const key = { authorization: `Bearer ${KEY}` };

/** The OpenAI error body; asserts its exact shape, status → type, and our code. */
async function refused(res: Response, status: number, code: string): Promise<string> {
  assert.equal(res.status, status, `expected ${status} ${code}`);
  assert.equal(res.headers.get('content-type'), 'application/json');
  const body = (await res.json()) as { error: Record<string, string> };
  assert.deepEqual(Object.keys(body.error), ['message', 'type', 'code']);
  const type = status === 401 ? 'authentication_error' : status === 429 ? 'rate_limit_error' : 'invalid_request_error';
  assert.equal(body.error.type, type);
  assert.equal(body.error.code, code);
  return body.error.message;
}

function secrets(body: unknown, headers: Record<string, string> = key): Promise<Response> {
  return fetch(`${base}/v1/realtime/client_secrets`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function mintSecret(body: unknown = {}): Promise<{ value: string; expires_at: number; session: Record<string, unknown> }> {
  const res = await secrets(body);
  assert.equal(res.status, 200);
  return (await res.json()) as { value: string; expires_at: number; session: Record<string, unknown> };
}

function multipart(
  parts: { name: string; body: string; type?: string; filename?: string }[],
  boundary = 'parleyBoundary7',
): { body: string; type: string } {
  const text = parts
    .map((p) => {
      const disposition = `Content-Disposition: form-data; name="${p.name}"${p.filename ? `; filename="${p.filename}"` : ''}`;
      return `--${boundary}\r\n${disposition}\r\n${p.type ? `Content-Type: ${p.type}\r\n` : ''}\r\n${p.body}\r\n`;
    })
    .join('');
  return { body: `${text}--${boundary}--\r\n`, type: `multipart/form-data; boundary=${boundary}` };
}

function postCall(body: string, type: string, auth: Record<string, string>, query = ''): Promise<Response> {
  return fetch(`${base}/v1/realtime/calls${query}`, { method: 'POST', headers: { 'content-type': type, ...auth }, body });
}

test('client_secrets: default 600 s, OpenAI shape, the session echoed as a realtime.session', async () => {
  const s = await mintSecret({ session: { type: 'realtime', model: 'gpt-realtime', instructions: 'hi' } });
  assert.match(s.value, /^ek_/);
  assert.equal(s.expires_at, Math.floor(wall / 1000) + 600);
  assert.equal(s.session.object, 'realtime.session');
  assert.equal(s.session.model, 'gpt-realtime');
  assert.equal(s.session.instructions, 'hi');
  assert.match(String(s.session.id), /^sess_/);
  const short = await mintSecret({ expires_after: { anchor: 'created_at', seconds: 10 } });
  assert.equal(short.expires_at, Math.floor(wall / 1000) + 10);
  const empty = await fetch(`${base}/v1/realtime/client_secrets`, { method: 'POST', headers: key });
  assert.equal(empty.status, 200, 'an empty body takes the defaults');
  await empty.body?.cancel();
});

test('client_secrets refusals: no key, ek_ as key, bad expiry, bad session, not JSON, wrong type, oversize', async () => {
  await refused(await secrets({}, {}), 401, 'ERR_SIGNALING_UNAUTHORIZED');
  const ek = (await mintSecret()).value;
  await refused(await secrets({}, { authorization: `Bearer ${ek}` }), 401, 'ERR_SIGNALING_UNAUTHORIZED');
  for (const seconds of [9, 7201, 1.5, '60', null])
    assert.match(await refused(await secrets({ expires_after: { seconds } }), 400, 'ERR_SIGNALING_BAD_REQUEST'), /10\.\.7200/);
  await refused(await secrets({ expires_after: { anchor: 'now', seconds: 60 } }), 400, 'ERR_SIGNALING_BAD_REQUEST');
  await refused(await secrets({ session: 'x' }), 400, 'ERR_SIGNALING_BAD_REQUEST');
  await refused(await secrets({ session: { a: JSON.parse('['.repeat(40) + ']'.repeat(40)) } }), 400, 'ERR_SIGNALING_BAD_REQUEST');
  await refused(await secrets({ session: { instructions: 'x'.repeat(17_000) } }), 400, 'ERR_SIGNALING_BAD_REQUEST');
  await refused(await secrets('{"session":'), 400, 'ERR_SIGNALING_BAD_REQUEST');
  await refused(await secrets('[]'), 400, 'ERR_SIGNALING_BAD_REQUEST');
  await refused(await secrets('{}', { ...key, 'content-type': 'text/plain' }), 415, 'ERR_SIGNALING_UNSUPPORTED_MEDIA_TYPE');
  await refused(await secrets({ session: { pad: 'x'.repeat(40_000) } }), 413, 'ERR_SIGNALING_BODY_TOO_LARGE');
  const get = await fetch(`${base}/v1/realtime/client_secrets`, { headers: key });
  await refused(get, 405, 'ERR_SIGNALING_METHOD_NOT_ALLOWED');
});

test('a call with an ek_ secret (no API key): the secret’s session and the query reach the handler’s request', async () => {
  const s = await mintSecret({ session: { model: 'm', instructions: 'from secret' } });
  const res = await postCall(OFFER, 'application/sdp', { authorization: `Bearer ${s.value}` }, '?handler=echo&agent=support&lang=de');
  assert.equal(res.status, 201);
  assert.equal(await res.text(), 'v=0\r\nanswer\r\n');
  assert.equal(calls.last?.offer, OFFER);
  assert.equal(calls.last?.options.handler, 'echo');
  assert.deepEqual(calls.last?.options.request, {
    query: { agent: 'support', lang: 'de' },
    session: { model: 'm', instructions: 'from secret' },
  });
});

test('ek_ refusals: expired, forged, from another keyring, truncated — 401 with an OpenAI body', async () => {
  const s = await mintSecret({ expires_after: { seconds: 10 } });
  wall += 10_000;
  try {
    assert.match(
      await refused(
        await postCall(OFFER, 'application/sdp', { authorization: `Bearer ${s.value}` }),
        401,
        'ERR_SIGNALING_INVALID_CLIENT_SECRET',
      ),
      /expired/,
    );
  } finally {
    wall -= 10_000;
  }
  const bytes = Buffer.from(s.value.slice(3), 'base64url');
  bytes[20] ^= 4;
  const other = new ClientSecrets({ keyring: Keyring.generate(seededRng('other-ring')), rng: seededRng(2) }).mint({}, 600, wall)!.value;
  for (const bad of [`ek_${bytes.toString('base64url')}`, other, s.value.slice(0, 40), 'ek_!!!'])
    await refused(await postCall(OFFER, 'application/sdp', { authorization: `Bearer ${bad}` }), 401, 'ERR_SIGNALING_INVALID_CLIENT_SECRET');
  await refused(await postCall(OFFER, 'application/sdp', {}), 401, 'ERR_SIGNALING_UNAUTHORIZED');
});

test('multipart offers: with and without per-part content types and filenames; the part’s session over the secret’s', async () => {
  const s = await mintSecret({ session: { model: 'm', instructions: 'from secret' } });
  const variants = [
    multipart([
      { name: 'sdp', body: OFFER },
      { name: 'session', body: '{"instructions":"from part"}' },
    ]),
    multipart([
      { name: 'sdp', body: OFFER, type: 'application/sdp' },
      { name: 'session', body: '{"instructions":"from part"}', type: 'application/json' },
    ]),
    multipart([
      { name: 'session', body: '{"instructions":"from part"}', type: 'application/json', filename: 'session.json' },
      { name: 'sdp', body: OFFER, type: 'application/sdp', filename: 'offer.sdp' },
    ]),
  ];
  for (const m of variants) {
    calls.last = undefined;
    const res = await postCall(m.body, m.type, { authorization: `Bearer ${s.value}` });
    assert.equal(res.status, 201, await res.clone().text());
    await res.body?.cancel();
    assert.equal(calls.last!.offer, OFFER, 'CRLFs inside the sdp part are kept');
    assert.deepEqual(calls.last!.options.request?.session, { model: 'm', instructions: 'from part' });
  }
  const noSession = multipart([{ name: 'sdp', body: OFFER }]);
  const res = await postCall(noSession.body, noSession.type, key);
  assert.equal(res.status, 201);
  await res.body?.cancel();
  assert.deepEqual(calls.last!.options.request?.session, {});
});

test('multipart refusals: no sdp part, unknown or repeated parts, too many, bad session JSON, no boundary, garbage, oversize', async () => {
  const cases: [{ body: string; type: string }, RegExp][] = [
    [multipart([{ name: 'session', body: '{}' }]), /no "sdp" part/],
    [
      multipart([
        { name: 'sdp', body: OFFER },
        { name: 'tools', body: '{}' },
      ]),
      /unknown part/,
    ],
    [
      multipart([
        { name: 'sdp', body: OFFER },
        { name: 'sdp', body: OFFER },
      ]),
      /twice/,
    ],
    [multipart(Array.from({ length: 5 }, () => ({ name: 'x', body: '1' }))), /unknown part|at most/],
    [
      multipart([
        { name: 'sdp', body: OFFER },
        { name: 'session', body: '{"a":' },
      ]),
      /session/,
    ],
    [
      multipart([
        { name: 'sdp', body: OFFER },
        { name: 'session', body: '[1]' },
      ]),
      /JSON object/,
    ],
    [{ body: 'whatever', type: 'multipart/form-data' }, /boundary/],
    [{ body: 'not multipart at all', type: 'multipart/form-data; boundary=abc' }, /does not parse/],
    [
      { body: '--b\nContent-Disposition: form-data; name="sdp"\n\nv=0\n--b--\n', type: 'multipart/form-data; boundary=b' },
      /does not parse/,
    ],
  ];
  for (const [m, message] of cases)
    assert.match(await refused(await postCall(m.body, m.type, key), 400, 'ERR_SIGNALING_BAD_MULTIPART'), message);
  const big = multipart([{ name: 'sdp', body: OFFER + 'a=x\r\n'.repeat(8000) }]);
  await refused(await postCall(big.body, big.type, key), 413, 'ERR_SIGNALING_BODY_TOO_LARGE');
  const query = '?' + Array.from({ length: 33 }, (_, i) => `k${i}=v`).join('&');
  await refused(await postCall(OFFER, 'application/sdp', key, query), 400, 'ERR_SIGNALING_BAD_REQUEST');
});

test('the openai npm SDK: clientSecrets.create with the API key, then realtime.calls.create (multipart) with the ek_ secret', async () => {
  const server = new OpenAI({ apiKey: KEY, baseURL: `${base}/v1`, maxRetries: 0 });
  const secret = await server.realtime.clientSecrets.create({
    expires_after: { anchor: 'created_at', seconds: 120 },
    session: { type: 'realtime', model: 'gpt-realtime', instructions: 'sdk' },
  });
  assert.match(secret.value, /^ek_/);
  assert.equal(secret.session.type, 'realtime');
  const browser = new OpenAI({ apiKey: secret.value, baseURL: `${base}/v1`, maxRetries: 0 });
  calls.last = undefined;
  const answer = await browser.realtime.calls.create({ sdp: OFFER, session: { type: 'realtime', output_modalities: ['audio'] } });
  assert.equal(await answer.text(), 'v=0\r\nanswer\r\n');
  assert.equal(calls.last!.offer, OFFER);
  assert.deepEqual(calls.last!.options.request?.session, {
    type: 'realtime',
    model: 'gpt-realtime',
    instructions: 'sdk',
    output_modalities: ['audio'],
  });
  const denied = new OpenAI({ apiKey: 'sk-wrong', baseURL: `${base}/v1`, maxRetries: 0 });
  await assert.rejects(denied.realtime.clientSecrets.create({}), (err: unknown) => {
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(err.code, 'ERR_SIGNALING_UNAUTHORIZED');
    assert.equal(err.type, 'authentication_error');
    return true;
  });
});

test('client_secrets is rate limited per caller IP: 429 + Retry-After past the burst', async () => {
  let limited: Response | undefined;
  for (let i = 0; i < CLIENT_SECRETS_PER_IP.burst + 5 && limited === undefined; i++) {
    const res = await secrets({});
    if (res.status === 429) limited = res;
    else await res.body?.cancel();
  }
  assert.ok(limited, 'a 429 came within burst + 5 requests');
  assert.equal(limited.headers.get('retry-after'), '1');
  await refused(limited, 429, 'ERR_SIGNALING_RATE_LIMITED');
});

test('client_secrets is limited per caller IP before the key is checked: key guesses get 429 too (issue #19)', async () => {
  // The test above emptied this address's bucket: the server's (manual) wall clock moves on until it is full again.
  wall += (CLIENT_SECRETS_PER_IP.burst / CLIENT_SECRETS_PER_IP.ratePerSecond) * 1000 + 1000;
  let unauthorized = 0;
  let limited: Response | undefined;
  for (let i = 0; i < CLIENT_SECRETS_PER_IP.burst + 5 && limited === undefined; i++) {
    const res = await secrets({}, { authorization: `Bearer guess-${i}` });
    if (res.status === 429) limited = res;
    else {
      assert.equal(res.status, 401);
      unauthorized++;
      await res.body?.cancel();
    }
  }
  assert.ok(limited, 'a 429 came within burst + 5 guesses');
  assert.ok(unauthorized >= 1 && unauthorized <= CLIENT_SECRETS_PER_IP.burst, `${unauthorized} guesses were checked before the limit`);
  console.log(`client_secrets key guesses from one address: ${unauthorized} answered 401, then 429`);
  await refused(limited, 429, 'ERR_SIGNALING_RATE_LIMITED');
});
