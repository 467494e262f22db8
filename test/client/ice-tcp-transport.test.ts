// The client's ICE-TCP transport (src/client/tcp-driver.ts) against a real TCP server on
// 127.0.0.1: only a STUN packet opens a connection (the relay's first-frame rule), packets travel
// as RFC 4571 frames both ways and arrive whole even when split across reads, a connection that
// carried frames and is closed by the far end is reported as lost (so the call re-nominates at
// once), a refused one is not (no reconnect loop), and close() leaves nothing open.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import type { TransportAddress } from '../../src/core/address.ts';
import { Rfc4571Deframer, frameRfc4571 } from '../../src/core/framing/rfc4571.ts';
import { tcpTransport } from '../../src/client/tcp-driver.ts';
import { freeTcpPort } from '../../src/client/free-port.ts';
import { waitFor } from '../support/wait-for.ts';

const STUN = Buffer.from([0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, ...new Array<number>(12).fill(7)]);
const RTP = Buffer.from([0x80, 111, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3]);

async function server(): Promise<{ address: TransportAddress; frames: Buffer[]; conns: net.Socket[]; close(): Promise<void> }> {
  const frames: Buffer[] = [];
  const conns: net.Socket[] = [];
  const srv = net.createServer((s) => {
    conns.push(s);
    const d = new Rfc4571Deframer(1500);
    s.on('data', (c: Buffer) => {
      const r = d.push(c);
      if ('frames' in r) frames.push(...r.frames);
    });
    s.on('error', () => {});
  });
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as net.AddressInfo).port;
  return {
    address: { address: '127.0.0.1', port, family: 'IPv4' },
    frames,
    conns,
    close: () => {
      for (const c of conns) c.destroy();
      return new Promise((r) => srv.close(() => r()));
    },
  };
}

test('only a STUN check opens a connection; frames go both ways whole; a closed connection that carried frames is lost', async () => {
  const srv = await server();
  const got: { data: Buffer; from: TransportAddress }[] = [];
  let lost = 0;
  const t = await tcpTransport('127.0.0.1', { receive: (data, from) => got.push({ data, from }), lost: () => lost++ });
  try {
    assert.equal(t.name, 'tcp');
    assert.equal(t.address.port, 9, 'an active candidate is advertised with port 9 (RFC 6544 §4.5)');
    t.send(RTP, srv.address);
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(srv.conns.length, 0, 'media to a candidate without a connection opens none');
    t.send(STUN, srv.address);
    t.send(RTP, srv.address);
    await waitFor(() => srv.frames.length === 2, 5000, 'both frames at the server');
    assert.deepEqual(srv.frames, [STUN, RTP]);
    // The reply split across two writes still arrives as one packet.
    const reply = frameRfc4571(RTP);
    srv.conns[0].write(reply.subarray(0, 5));
    await new Promise((r) => setTimeout(r, 50));
    srv.conns[0].write(reply.subarray(5));
    await waitFor(() => got.length === 1, 5000, 'the reply');
    assert.deepEqual(got[0].data, RTP);
    assert.deepEqual(got[0].from, srv.address);
    srv.conns[0].destroy();
    await waitFor(() => lost === 1, 5000, 'the loss reported');
    t.send(STUN, srv.address);
    await waitFor(() => srv.conns.length === 2, 5000, 'the next check reconnects');
  } finally {
    t.close();
    await srv.close();
  }
});

test('a refused connection is not reported as lost (no reconnect loop), and close() is idempotent', async () => {
  const port = await freeTcpPort();
  let lost = 0;
  const t = await tcpTransport('127.0.0.1', { receive: () => {}, lost: () => lost++ });
  t.send(STUN, { address: '127.0.0.1', port, family: 'IPv4' });
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(lost, 0);
  t.close();
  t.close();
});
