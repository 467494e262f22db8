// Sideband control (src/transceiver/http/sideband.ts): `GET /v1/realtime?call_id=rtc_…` upgraded to
// a WebSocket with an API key gives a server the call's event stream both ways. Two transceiver
// processes with routable call ids (--http-advertise) and the realtime handler against the test
// model; the call is made on one and the sideband opened on the OTHER, which relays it to the
// owner. Through it: session.update is merged and answered with session.updated, the model gets
// it (formats forced); response.create reaches the model and its response events come back
// (never audio deltas); a malformed event gets an `error` event. Refused with OpenAI-shaped
// bodies: no key 401, an unknown call 404, a third sideband on one call 429. Ending the call
// closes the sideband (1000).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import WebSocket from 'ws';
import { freeTcpPort } from '../../src/client/free-port.ts';
import { startRealtimeModel } from '../support/realtime-model.ts';
import type { RealtimeModel } from '../support/realtime-model.ts';
import { waitFor } from '../support/wait-for.ts';
import type { TransceiverProc } from './failover-helpers.ts';
import { minimalOffer, startTransceiver, stopAll } from './failover-helpers.ts';

const KEY = 'sideband-test-key-0123456789';
const auth = { authorization: `Bearer ${KEY}` };
let model: RealtimeModel;
let one: TransceiverProc;
let two: TransceiverProc;

before(async () => {
  model = await startRealtimeModel({ replyHz: 660, replyMs: 200 });
  const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
  const args = (p: number): string[] => [
    '--http',
    `127.0.0.1:${p}`,
    '--http-advertise',
    `127.0.0.1:${p}`,
    '--api-keys',
    KEY,
    '--realtime-url',
    model.url,
    '--setup-timeout-seconds',
    '60',
  ];
  [one, two] = await Promise.all([startTransceiver(args(p1)), startTransceiver(args(p2))]);
});

after(async () => {
  await stopAll();
  await model?.close();
});

async function createCall(base: string): Promise<string> {
  const offer = minimalOffer();
  const res = await fetch(`${base}/v1/realtime/calls`, {
    method: 'POST',
    body: offer,
    headers: { 'content-type': 'application/sdp', ...auth },
  });
  assert.equal(res.status, 201, await res.clone().text());
  await res.text();
  return res.headers.get('location')!.split('/').pop()!;
}

interface Sideband {
  readonly ws: WebSocket;
  readonly events: { type: string; [k: string]: unknown }[];
  next<T = { type: string }>(type: string, timeoutMs?: number): Promise<T>;
  closed: Promise<number>;
}

function open(base: string, callId: string, headers: Record<string, string> = auth): Promise<Sideband> {
  const ws = new WebSocket(`${base.replace('http', 'ws')}/v1/realtime?call_id=${callId}`, { headers });
  const events: Sideband['events'] = [];
  ws.on('message', (d) => events.push(JSON.parse(String(d)) as Sideband['events'][number]));
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    ws.once('open', () =>
      resolve({
        ws,
        events,
        closed,
        next: async <T>(type: string, timeoutMs = 10_000) =>
          (await waitFor(() => events.find((e) => e.type === type), timeoutMs, `a ${type} on the sideband`)) as T,
      }),
    );
    ws.once('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode, body })));
    });
    ws.once('error', (err) => reject(err));
  });
}

async function refusal(
  base: string,
  callId: string,
  headers?: Record<string, string>,
): Promise<{ status: number; code: string; type: string }> {
  const err = (await open(base, callId, headers).then(
    (s) => {
      s.ws.close();
      assert.fail('the sideband was accepted');
    },
    (e: unknown) => e,
  )) as { status: number; body: string };
  const body = JSON.parse(err.body) as { error: { code: string; type: string } };
  return { status: err.status, code: body.error.code, type: body.error.type };
}

test(
  'a sideband opened on another replica: session.update, response.create and the response events, errors; the call ending closes it',
  { timeout: 60_000 },
  async () => {
    const conn = model.connections + 1;
    const callId = await createCall(one.base);
    const sb = await open(two.base, callId);

    sb.ws.send(JSON.stringify({ type: 'session.update', session: { instructions: 'from the sideband' } }));
    const updated = await sb.next<{ session: { instructions: string } }>('session.updated');
    assert.equal(updated.session.instructions, 'from the sideband');
    await waitFor(
      () =>
        model.events.find(
          (e) =>
            e.connection === conn &&
            e.event.type === 'session.update' &&
            (e.event.session as { instructions?: string }).instructions === 'from the sideband',
        ),
      10_000,
      "the sideband's session.update at the model",
    );

    sb.ws.send(JSON.stringify({ type: 'response.create' }));
    await sb.next('response.created');
    const done = await sb.next<{ transcript: string }>('response.output_audio_transcript.done');
    assert.equal(done.transcript, 'a 660 Hz tone');
    await sb.next('response.done');
    assert.ok(model.events.some((e) => e.connection === conn && e.event.type === 'response.create'));
    assert.ok(!sb.events.some((e) => e.type === 'response.output_audio.delta'), 'audio deltas are not events');

    sb.ws.send('{not json');
    const error = await sb.next<{ error: { type: string; code: string } }>('error');
    assert.equal(error.error.type, 'invalid_request_error');
    assert.equal(error.error.code, 'invalid_event');

    const del = await fetch(`${one.base}/v1/realtime/calls/${callId}`, { method: 'DELETE', headers: auth });
    assert.equal(del.status, 200);
    await del.text();
    assert.equal(await sb.closed, 1000);
  },
);

test(
  'sideband refusals: no key 401, unknown call 404, a third sideband on one call 429 (OpenAI-shaped bodies)',
  { timeout: 60_000 },
  async () => {
    const callId = await createCall(one.base);
    assert.deepEqual(await refusal(one.base, callId, {}), {
      status: 401,
      code: 'ERR_SIGNALING_UNAUTHORIZED',
      type: 'authentication_error',
    });
    assert.deepEqual(await refusal(two.base, callId, { authorization: 'Bearer wrong-key-0123456789abcdef' }), {
      status: 401,
      code: 'ERR_SIGNALING_UNAUTHORIZED',
      type: 'authentication_error',
    });
    assert.equal((await refusal(one.base, 'rtc_nosuchcall')).status, 404);
    assert.equal((await refusal(one.base, 'not-a-call-id')).status, 400);
    const a = await open(one.base, callId);
    const b = await open(two.base, callId);
    const third = await refusal(one.base, callId);
    assert.deepEqual(third, { status: 429, code: 'ERR_SIGNALING_SIDEBAND_LIMIT', type: 'rate_limit_error' });
    // Through the other replica the owner's refusal comes back as the same.
    assert.equal((await refusal(two.base, callId)).status, 429);
    a.ws.close();
    await a.closed;
    b.ws.close();
    await b.closed;
    const del = await fetch(`${one.base}/v1/realtime/calls/${callId}`, { method: 'DELETE', headers: auth });
    await del.text();
  },
);
