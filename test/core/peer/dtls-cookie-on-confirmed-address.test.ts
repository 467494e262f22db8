// Issue #18: the lite peer as DTLS server skips the cookie round trip (RFC 6347 §4.2.1) for a
// ClientHello from the selected address once that address answered the lite agent's request back
// (ICE proved it receives there), and keeps it for every other ClientHello — from an address not
// confirmed (issue #19: the reflection defence), or from another address than the selected one.
// The lite AudioPeer is driven by hand with real checks, answers and a real DtlsEndpoint client,
// and what it sends is read off the wire; then a whole pair on the netem connects in one round
// trip less than with the cookie.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../../src/core/address.ts';
import { classifyPacket } from '../../../src/core/demux.ts';
import { DtlsEndpoint } from '../../../src/core/dtls/index.ts';
import { HandshakeType } from '../../../src/core/dtls/handshake.ts';
import { bindingSuccess } from '../../../src/core/ice/binding-response.ts';
import type { AudioPeer } from '../../../src/core/peer/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import {
  certClient,
  certLite,
  check,
  CLIENT,
  client,
  drainTransmits,
  handshakeTypes,
  litePeer as wirePeer,
  STUN_BINDING_REQUEST,
} from './lite-wire.ts';
import { LITE, pair } from './peer-pair.ts';

const OTHER: TransportAddress = { address: '198.51.100.21', port: 50001, family: 'IPv4' };
const litePeer = (seed: string): AudioPeer<TransportAddress> => wirePeer(seed, 'server');

function dtlsClient(seed: string): { dtls: DtlsEndpoint; flight: () => Buffer[] } {
  const dtls = new DtlsEndpoint({ role: 'client', certificate: certClient, remoteFingerprint: certLite.fingerprint, rng: seededRng(seed) });
  const flight = (): Buffer[] => {
    const out: Buffer[] = [];
    for (let d = dtls.pollTransmit(); d; d = dtls.pollTransmit()) out.push(d);
    return out;
  };
  dtls.start(0);
  return { dtls, flight };
}

/** A check from CLIENT; with `confirm`, the lite agent's request back is answered from CLIENT too. */
function selectClient(p: AudioPeer<TransportAddress>, confirm: boolean): void {
  p.handle(check(), CLIENT, 1);
  const requests = drainTransmits(p).filter((t) => classifyPacket(t.data) === 'stun' && t.data.readUInt16BE(0) === STUN_BINDING_REQUEST);
  assert.equal(requests.length, 1, 'one request back to the new address');
  if (!confirm) return;
  p.handle(bindingSuccess(requests[0].data.subarray(8, 20), LITE, client.pwd), CLIENT, 2);
  assert.equal(p.dump().ice?.stats.response_to_our_check, 1);
  drainTransmits(p);
}

test('a ClientHello from the confirmed selected address gets the server flight at once, no HelloVerifyRequest', () => {
  const p = litePeer('confirmed');
  selectClient(p, true);
  const c = dtlsClient('confirmed-client');
  for (const d of c.flight()) p.handle(d, CLIENT, 3);
  const out = drainTransmits(p);
  const types = out.flatMap((t) => handshakeTypes(t.data));
  assert.ok(out.every((t) => t.path === CLIENT));
  assert.ok(!types.includes(HandshakeType.helloVerifyRequest), `no HelloVerifyRequest: ${types}`);
  assert.deepEqual(types.slice(0, 2), [HandshakeType.serverHello, HandshakeType.certificate], `the server flight: ${types}`);
  // The client takes it and answers with its own flight: the handshake goes on without a cookie.
  for (const t of out) c.dtls.handle(t.data, 4);
  assert.ok(c.flight().length > 0, 'the client answered the server flight');
  assert.equal(p.stats().drops.unconfirmed_address, 0);
});

test('a ClientHello from an unconfirmed selected address gets only a HelloVerifyRequest (issue #19)', () => {
  const p = litePeer('unconfirmed');
  selectClient(p, false);
  const c = dtlsClient('unconfirmed-client');
  const hello = c.flight();
  let sent = 0;
  for (const d of hello) {
    sent += d.length;
    p.handle(d, CLIENT, 3);
  }
  const out = drainTransmits(p);
  const dtls = out.filter((t) => classifyPacket(t.data) === 'dtls');
  assert.deepEqual(
    dtls.flatMap((t) => handshakeTypes(t.data)),
    [HandshakeType.helloVerifyRequest],
  );
  const back = dtls.reduce((n, t) => n + t.data.length, 0);
  assert.ok(back <= sent, `${back} B of DTLS back for a ${sent} B ClientHello`);
});

test('a ClientHello from another address than the confirmed selected one gets a HelloVerifyRequest, not the flight', () => {
  const p = litePeer('other');
  selectClient(p, true);
  const c = dtlsClient('other-client');
  for (const d of c.flight()) p.handle(d, OTHER, 3);
  const types = drainTransmits(p).flatMap((t) => handshakeTypes(t.data));
  assert.deepEqual(types, [HandshakeType.helloVerifyRequest]);
});

test('a lite DTLS server pair answers the first ClientHello with its flight: two DTLS drains, no cookie round trip', () => {
  const p = pair({ liteRole: 'server' });
  const t0 = p.clock.now();
  p.run(() => p.ctl.state === 'connected' && p.lite.state === 'connected', 2_000);
  const dtls = p.liteDrains.filter((d) => d.kinds.includes('dtls')).map((d) => ({ at: d.at - t0, bytes: d.dtlsBytes }));
  // 10 ms each way. t0 check; +10 request back; +20 its answer; +30 confirmed: our answer and a
  // nudge; +40 the client (ours, which starts DTLS once its nomination is answered) nominates;
  // +50 our answer; +60 its ClientHello leaves; +70 our whole flight (with a cookie: a
  // HelloVerifyRequest, and the flight only at +90); +80 the client's flight; +90 our Finished.
  assert.equal(dtls.length, 2, `the lite side's DTLS drains: ${JSON.stringify(dtls)}`);
  assert.equal(dtls[0].at, 70);
  assert.ok(dtls[0].bytes > 400, `the first is the server flight (${dtls[0].bytes} B), not a HelloVerifyRequest`);
  assert.equal(dtls[1].at, 90, 'the Finished one round trip later');
  assert.equal(p.lite.stats().drops.unconfirmed_address, 0);
});
