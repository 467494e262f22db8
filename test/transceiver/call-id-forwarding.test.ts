// Issue #19 (smaller items): call ids used to be routing tokens under another prefix, so a server
// ICE ufrag (which every caller gets in its answer) worked as a call id, and a GET for it made the
// transceiver send a signed request to the address sealed in the token. Now a call id is sealed
// under its own key derivation and type byte (src/transceiver/calls/call-id.ts), and a replica
// forwards a request only to an owner inside --replica-cidrs. A real transceiver; stand-in HTTP
// servers on loopback addresses record what is forwarded to them.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { freeTcpPort } from '../../src/client/free-port.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring, mint, open } from '../../src/core/token/index.ts';
import { CallIds } from '../../src/transceiver/calls/call-id.ts';
import type { TransceiverProc } from '../e2e/failover-helpers.ts';
import { KEYS, startTransceiver, stopAll } from '../e2e/failover-helpers.ts';

const API_KEY = 'test-key-0123456789abcdef';
const auth = { authorization: `Bearer ${API_KEY}` };
let tx: TransceiverProc;
const standIns: { server: Server; seen: string[]; address: string; port: number }[] = [];

async function standIn(address: string): Promise<(typeof standIns)[number]> {
  const port = await freeTcpPort();
  const seen: string[] = [];
  const server = createServer((req, res) => {
    seen.push(`${req.method} ${req.url}`);
    res.writeHead(200, { 'content-type': 'application/json' }).end('{"state":"from the stand-in"}');
  });
  await new Promise<void>((resolve) => server.listen(port, address, resolve));
  const s = { server, seen, address, port };
  standIns.push(s);
  return s;
}

before(async () => {
  const port = await freeTcpPort();
  tx = await startTransceiver([
    '--http',
    `127.0.0.1:${port}`,
    '--http-advertise',
    `127.0.0.1:${port}`,
    '--replica-cidrs',
    '127.0.0.1/32',
    '--api-keys',
    API_KEY,
  ]);
});
after(async () => {
  for (const s of standIns) await new Promise<void>((r) => s.server.close(() => r()));
  await stopAll();
});

const keyring = Keyring.parse(KEYS);
const idFor = (address: string, port: number): string =>
  new CallIds({ keyring, owner: { address, port, family: 'IPv4' }, rng: seededRng(`id-${address}`), lifetimeMs: 86_400_000 }).next(
    Date.now(),
  );

test('a call id of another replica inside --replica-cidrs is forwarded; one naming an owner outside them is not', async () => {
  const replica = await standIn('127.0.0.1');
  const outside = await standIn('127.0.0.2');
  const ok = await fetch(`${tx.base}/v1/realtime/calls/${idFor(replica.address, replica.port)}`, { headers: auth });
  assert.equal(ok.status, 200);
  assert.equal(((await ok.json()) as { state: string }).state, 'from the stand-in');
  assert.equal(replica.seen.length, 1, 'forwarded to the replica the id names');
  const refused = await fetch(`${tx.base}/v1/realtime/calls/${idFor(outside.address, outside.port)}`, { headers: auth });
  assert.equal(refused.status, 404);
  await refused.text();
  assert.deepEqual(outside.seen, [], 'nothing was sent to an address outside --replica-cidrs');
  console.log(`forwarded to a replica: ${replica.seen.length}; to an owner outside --replica-cidrs: ${outside.seen.length}`);
});

test('a routing token (a server ICE ufrag) is no call id: 404, and nothing goes to the address it names', async () => {
  const target = await standIn('127.0.0.1');
  const token = mint({ address: target.address, port: target.port, family: 'IPv4' }, keyring, Date.now(), seededRng('token-as-id')).ufrag;
  // The path form call ids used (and the raw ufrag): neither opens as an id.
  for (const id of [`rtc_${token.replaceAll('+', '-').replaceAll('/', '_')}`, `rtc_${token}`]) {
    const r = await fetch(`${tx.base}/v1/realtime/calls/${encodeURIComponent(id)}`, { headers: auth });
    assert.equal(r.status, 404, id);
    await r.text();
  }
  assert.deepEqual(target.seen, [], 'no request went to the token’s address');
  // And the other way round: a call id is not a routing token the keyring opens.
  const id = idFor('127.0.0.1', target.port);
  assert.equal(open(id.slice(4).replaceAll('-', '+').replaceAll('_', '/'), keyring, Date.now()).ok, false);
});
