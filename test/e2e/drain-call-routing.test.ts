// Hang-ups behind an Ingress, where scale-down and drains make replicas come and go: with
// --http-advertise a call id carries its owner's HTTP address, sealed under a key derived from
// the routing-token keys (src/transceiver/calls/call-id.ts), so GET / DELETE / POST …/hangup sent to ANOTHER replica
// (what an Ingress does) is forwarded to the owner and answered as if sent there. Ids nobody
// minted, or forged ones, still get 404, and a forwarded request is never forwarded again.
// The caller's API key is not forwarded: the owner gets a short-lived signature of that one
// request (src/transceiver/http/forward-auth.ts) — checked here with a stand-in that took over a dead
// owner's address, as another pod given the same IP would.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { freeTcpPort } from '../../src/client/free-port.ts';
import type { TransceiverProc } from './failover-helpers.ts';
import { minimalOffer, startTransceiver, stopAll } from './failover-helpers.ts';

let one: TransceiverProc;
let two: TransceiverProc;

before(async () => {
  const [p1, p2] = [await freeTcpPort(), await freeTcpPort()];
  const args = (p: number): string[] => [
    '--http',
    `127.0.0.1:${p}`,
    '--http-advertise',
    `127.0.0.1:${p}`,
    '--api-keys',
    'test-key-0123456789abcdef',
  ];
  [one, two] = await Promise.all([startTransceiver(args(p1)), startTransceiver(args(p2))]);
});

after(() => stopAll());

const auth = { authorization: 'Bearer test-key-0123456789abcdef' };

async function create(base: string): Promise<string> {
  const offer = minimalOffer();
  const res = await fetch(`${base}/v1/realtime/calls`, {
    method: 'POST',
    body: offer,
    headers: { 'content-type': 'application/sdp', ...auth },
  });
  assert.equal(res.status, 201);
  await res.text();
  return res.headers.get('location')!;
}

test('GET and DELETE of a call sent to another replica reach the replica that holds it', async () => {
  const location = await create(one.base);
  assert.match(location, /^\/v1\/realtime\/calls\/rtc_[A-Za-z0-9_-]{55}$/);
  const got = await fetch(two.base + location, { headers: auth });
  assert.equal(got.status, 200);
  assert.equal(((await got.json()) as { state: string }).state, 'created');
  const unauth = await fetch(two.base + location, { method: 'DELETE' });
  assert.equal(unauth.status, 401, 'auth is checked before forwarding');
  await unauth.text();
  const del = await fetch(two.base + location, { method: 'DELETE', headers: auth });
  assert.equal(del.status, 200);
  const closed = (await del.json()) as { state: string; closeReason: string };
  assert.equal(closed.state, 'closed');
  assert.equal(closed.closeReason, 'hangup');
  const onOwner = (await (await fetch(one.base + location, { headers: auth })).json()) as { closeReason: string };
  assert.equal(onOwner.closeReason, 'hangup', 'the owner ended it');
  const viaHangup = await create(two.base);
  const h = await fetch(`${one.base}${viaHangup}/hangup`, { method: 'POST', headers: auth });
  assert.equal(h.status, 200);
  assert.equal(((await h.json()) as { closeReason: string }).closeReason, 'hangup');
});

test('unknown, forged and already-forwarded ids get 404', async () => {
  const location = await create(one.base);
  const id = location.split('/').pop()!;
  const flipped = id.slice(0, 10) + (id[10] === 'A' ? 'B' : 'A') + id.slice(11);
  for (const bad of [`rtc_${'0'.repeat(24)}`, `rtc_${flipped.slice(4)}`.slice(0, 68)]) {
    const r = await fetch(`${two.base}/v1/realtime/calls/${bad}`, { headers: auth });
    assert.equal(r.status, 404, bad);
    await r.text();
  }
  const loop = await fetch(two.base + location, { headers: { ...auth, 'x-parley-forwarded': '1' } });
  assert.equal(loop.status, 404, 'a forwarded request is answered, never forwarded again');
  await loop.text();
  await fetch(one.base + location, { method: 'DELETE', headers: auth });
});

test("the owner gets a signature of the forwarded request, never the caller's API key", async () => {
  const port = await freeTcpPort();
  const three = await startTransceiver([
    '--http',
    `127.0.0.1:${port}`,
    '--http-advertise',
    `127.0.0.1:${port}`,
    '--api-keys',
    'test-key-0123456789abcdef',
  ]);
  const location = await create(three.base);
  three.child.kill('SIGKILL');
  await three.exited();
  // Something else now answers at the dead owner's address and records what it is sent.
  const seen: { method: string; url: string; headers: IncomingHttpHeaders }[] = [];
  const standIn = createServer((req, res) => {
    seen.push({ method: req.method!, url: req.url!, headers: req.headers });
    res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":{"code":"ERR_SIGNALING_NOT_FOUND"}}');
  });
  await new Promise<void>((resolve) => standIn.listen(port, '127.0.0.1', resolve));
  try {
    const r = await fetch(two.base + location, { method: 'DELETE', headers: auth });
    assert.equal(r.status, 404);
    await r.text();
    assert.equal(seen.length, 1, 'forwarded to the address in the id');
    assert.equal(seen[0].method, 'DELETE');
    assert.equal(seen[0].url, location);
    assert.equal(seen[0].headers.authorization, undefined, 'no API key leaves the replica');
    assert.match(String(seen[0].headers['x-parley-forwarded']), /^v1\.\d+\.\d+\.[A-Za-z0-9_-]{43}$/);
    // What the stand-in saw is good for that one request only: not for another call or method.
    const other = await create(one.base);
    const replayed = await fetch(one.base + other, {
      method: 'DELETE',
      headers: { 'x-parley-forwarded': String(seen[0].headers['x-parley-forwarded']) },
    });
    assert.equal(replayed.status, 401, 'a signature for another request target is no API key');
    await replayed.text();
    const wrongMethod = await fetch(one.base + location, {
      method: 'GET',
      headers: { 'x-parley-forwarded': String(seen[0].headers['x-parley-forwarded']) },
    });
    assert.equal(wrongMethod.status, 401);
    await wrongMethod.text();
    const forged = await fetch(one.base + other, { headers: { 'x-parley-forwarded': '1' } });
    assert.equal(forged.status, 401, 'the old marker without an API key is not enough');
    await forged.text();
    await fetch(one.base + other, { method: 'DELETE', headers: auth });
  } finally {
    await new Promise((r) => standIn.close(r));
  }
});
