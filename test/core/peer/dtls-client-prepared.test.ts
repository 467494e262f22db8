// Issue #18: the lite peer as DTLS client builds its ClientHello while it waits for the first check
// (AudioPeer.prepare, the transceiver's idle work after the answer), and still sends it only once
// the selected address answered the lite agent's request back (issue #19: nothing toward an
// address before it proved it receives). The lite AudioPeer is driven by hand with real checks
// and answers, and what it sends is read off the wire; its ClientHello is answered by a real
// DtlsEndpoint server.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { TransportAddress } from '../../../src/core/address.ts';
import { classifyPacket } from '../../../src/core/demux.ts';
import { DtlsEndpoint } from '../../../src/core/dtls/index.ts';
import { HandshakeType } from '../../../src/core/dtls/handshake.ts';
import { bindingSuccess } from '../../../src/core/ice/binding-response.ts';
import type { PeerTransmit } from '../../../src/core/peer/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import {
  certClient,
  certLite,
  check,
  CLIENT,
  client,
  drainTransmits,
  handshakeTypes,
  litePeer,
  STUN_BINDING_REQUEST,
} from './lite-wire.ts';
import { LITE } from './peer-pair.ts';

const dtlsOf = (out: PeerTransmit<TransportAddress>[]): PeerTransmit<TransportAddress>[] =>
  out.filter((t) => classifyPacket(t.data) === 'dtls');

for (const prepared of [true, false]) {
  test(`${prepared ? 'a prepared' : 'an unprepared'} DTLS client sends its ClientHello only when the selected address answers the request back`, () => {
    const p = litePeer(`hello-${prepared}`, 'client');
    if (prepared) {
      p.prepare(0);
      assert.deepEqual(drainTransmits(p), [], 'prepare() sends nothing');
      assert.equal(p.state, 'new');
    }
    p.handle(check(), CLIENT, 1);
    const first = drainTransmits(p);
    assert.deepEqual(dtlsOf(first), [], 'no DTLS toward an address that has not answered');
    const requests = first.filter((t) => classifyPacket(t.data) === 'stun' && t.data.readUInt16BE(0) === STUN_BINDING_REQUEST);
    assert.equal(requests.length, 1, 'one request back');
    // DTLS from the client before DTLS started is dropped, prepared or not.
    p.handle(Buffer.from([22, 254, 253, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0]), CLIENT, 1.5);
    assert.equal(p.stats().drops.not_ready, 1);
    p.handle(bindingSuccess(requests[0].data.subarray(8, 20), LITE, client.pwd), CLIENT, 2);
    const hello = dtlsOf(drainTransmits(p));
    assert.equal(hello.length, 1, 'the ClientHello leaves with the confirmation');
    assert.equal(hello[0].path, CLIENT);
    assert.deepEqual(handshakeTypes(hello[0].data), [HandshakeType.clientHello]);
    // A real server takes it and answers with its flight; the peer answers that with its own.
    const server = new DtlsEndpoint({
      role: 'server',
      certificate: certClient,
      remoteFingerprint: certLite.fingerprint,
      rng: seededRng(`s-${prepared}`),
    });
    server.start(2);
    server.handle(hello[0].data, 3);
    const serverFlight: Buffer[] = [];
    for (let d = server.pollTransmit(); d; d = server.pollTransmit()) serverFlight.push(d);
    assert.ok(serverFlight.length > 0);
    for (const d of serverFlight) p.handle(d, CLIENT, 4);
    const clientFlight = dtlsOf(drainTransmits(p));
    assert.ok(clientFlight.length > 0, 'the peer sent its Certificate … Finished flight');
    for (const t of clientFlight) server.handle(t.data, 5);
    assert.equal(server.state, 'connected');
    assert.equal(p.stats().drops.unconfirmed_address, 0);
  });
}

test('prepare() is a no-op for the lite peer as DTLS server', () => {
  const p = litePeer('server-lite', 'server');
  p.prepare(0);
  assert.equal(p.dump().dtls, undefined);
  assert.deepEqual(drainTransmits(p), []);
});
