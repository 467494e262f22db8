// OpenAI Realtime events end to end: Chromium (served by `parley dev`, through the real relay)
// makes a call the way OpenAI's browser clients do — microphone, `oai-events` before the offer,
// the offer POSTed as multipart/form-data with an `sdp` and a `session` part — and on `oai-events`
// gets session.created (carrying the multipart session), sends session.update and gets
// session.updated (merged), sends a malformed event and gets an `error` event while the call
// stays up (a later event still answers). In CI (CI=true) a missing Chromium fails the test.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromiumSkip, openDemo } from './browser.ts';
import type { BrowserSession } from './browser.ts';
import { startDev } from './helpers.ts';
import type { DevStack } from './helpers.ts';

const skip = await chromiumSkip();

let dev: DevStack;
let session: BrowserSession | undefined;

before(async () => {
  if (skip) return;
  dev = await startDev();
  session = await openDemo(dev.ready.page);
});

after(async () => {
  await session?.close();
  await dev?.stop();
});

type Seen = { type: string; session?: Record<string, unknown>; error?: Record<string, unknown> };

const PAGE = `async ({ url }) => {
  const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
  const mic = await navigator.mediaDevices.getUserMedia({ audio: true });
  pc.addTrack(mic.getAudioTracks()[0], mic);
  const events = pc.createDataChannel('oai-events');
  const seen = [];
  const waiters = [];
  events.onmessage = (e) => { seen.push(JSON.parse(e.data)); waiters.splice(0).forEach((w) => w()); };
  const next = (n) => new Promise((ok) => { const check = () => (seen.length >= n ? ok() : waiters.push(check)); check(); setTimeout(ok, 10000); });
  await pc.setLocalDescription(await pc.createOffer());
  const form = new FormData();
  form.set('sdp', pc.localDescription.sdp);
  form.set('session', JSON.stringify({ type: 'realtime', model: 'gpt-realtime', instructions: 'from the form' }));
  const res = await fetch(url + '?handler=echo', { method: 'POST', body: form });
  if (res.status !== 201) return { error: 'POST ' + res.status + ' ' + await res.text() };
  await pc.setRemoteDescription({ type: 'answer', sdp: await res.text() });
  await next(1);
  events.send(JSON.stringify({ type: 'session.update', event_id: 'c1', session: { instructions: 'updated', audio: { output: { voice: 'marin' } } } }));
  await next(2);
  events.send('{not json');
  await next(3);
  events.send(JSON.stringify({ type: 'session.update', session: { tools: [] } }));
  await next(4);
  const state = pc.connectionState;
  pc.close();
  return { seen, state };
}`;

test(
  'Chromium through the relay: session.created, session.update → session.updated, malformed → error, call stays up',
  { skip, timeout: 90_000 },
  async (t) => {
    const r = (await session!.page.evaluate(`(${PAGE})(${JSON.stringify({ url: dev.ready.signaling })})`)) as {
      seen: Seen[];
      state: string;
      error?: string;
    };
    t.diagnostic(JSON.stringify(r).slice(0, 2000));
    assert.equal(r.error, undefined, `${r.error}\n${dev.log()}`);
    assert.deepEqual(
      r.seen.map((e) => e.type),
      ['session.created', 'session.updated', 'error', 'session.updated'],
    );
    const [created, updated, error, again] = r.seen;
    assert.equal(created.session?.object, 'realtime.session');
    assert.equal(created.session?.model, 'gpt-realtime');
    assert.equal(created.session?.instructions, 'from the form');
    assert.equal(updated.session?.instructions, 'updated');
    assert.equal(updated.session?.model, 'gpt-realtime');
    assert.equal((updated.session?.audio as { output: { voice: string } }).output.voice, 'marin');
    assert.equal(error.error?.type, 'invalid_request_error');
    assert.equal(error.error?.code, 'invalid_event');
    assert.deepEqual(again.session?.tools, []);
    assert.equal(again.session?.instructions, 'updated');
    assert.equal(r.state, 'connected');
  },
);
