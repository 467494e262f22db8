// End to end over real sockets: a client's STUN check with a minted token reaches a test
// transceiver with the relay header naming the client; RTP follows; the transceiver's replies
// reach the client from the relay's public port; /metrics counts it all; SIGTERM exits 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeRelayHeader, encodeRelayHeader, RELAY_HEADER_LENGTH } from '../../src/contracts/relay-header.ts';
import { mintFor, rtp, stunCheck } from './helpers.ts';
import { openSocket, scrape, startRelayProcess } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

test('STUN check → transceiver with client address in header, RTP follows, replies return from the public port; NAT rebinding', async () => {
  const tx = await openSocket();
  const client = await openSocket();
  const relay = await startRelayProcess(['--workers', '1']);
  try {
    const pub = relay.publics[0];
    const { ufrag, pwd } = mintFor(tx.address);
    const check = stunCheck(ufrag, pwd);
    client.send(check, pub);
    const first = await tx.next(2000);
    assert.deepEqual(decodeRelayHeader(first.msg), { client: client.address, public: pub, transport: 'udp' });
    assert.deepEqual(first.msg.subarray(RELAY_HEADER_LENGTH), check);
    assert.equal(first.from.port, relay.internals[0].port);

    for (let i = 1; i <= 20; i++) client.send(rtp(i), pub);
    for (let i = 1; i <= 20; i++) {
      const got = await tx.next(2000);
      assert.deepEqual(got.msg.subarray(0, RELAY_HEADER_LENGTH), first.msg.subarray(0, RELAY_HEADER_LENGTH));
      assert.equal(got.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12), i);
    }

    const reply = rtp(999);
    tx.send(Buffer.concat([encodeRelayHeader(client.address, pub), reply]), {
      address: first.from.address,
      port: first.from.port,
      family: 'IPv4',
    });
    const back = await client.next(2000);
    assert.equal(back.from.address, pub.address);
    assert.equal(back.from.port, pub.port);
    assert.deepEqual(back.msg, reply);

    // NAT rebinding: the same token from a new address is a new verified flow; the header
    // tells the transceiver the new client address, and replies to it reach the new socket.
    const moved = await openSocket();
    try {
      moved.send(stunCheck(ufrag, pwd, 'cli1'), pub);
      const again = await tx.next(2000);
      assert.deepEqual(decodeRelayHeader(again.msg)?.client, moved.address);
      tx.send(Buffer.concat([encodeRelayHeader(moved.address, pub), reply]), {
        address: again.from.address,
        port: again.from.port,
        family: 'IPv4',
      });
      assert.deepEqual((await moved.next(2000)).msg, reply);
    } finally {
      await moved.close();
    }

    // A datapath may publish its counters a tick later (the native one does): wait, bounded.
    await waitFor(async () => (await scrape(relay.http)).get('parley_relay_packets_total{direction="to_client"}') === 2, 2000, 'counters');
    const m = await scrape(relay.http);
    assert.equal(m.get('parley_relay_packets_total{direction="to_transceiver"}'), 22);
    assert.equal(m.get('parley_relay_packets_total{direction="to_client"}'), 2);
    assert.equal(m.get('parley_relay_bytes_total{direction="to_client"}'), 2 * reply.length);
    assert.equal(m.get('parley_relay_flows_created_total'), 2);
    assert.equal(m.get('parley_relay_flows{worker="0"}'), 2);
    const ready = await fetch(`http://127.0.0.1:${relay.http.port}/readyz`);
    assert.equal(ready.status, 200);
  } finally {
    await client.close();
    await tx.close();
    assert.equal(await relay.stop(), 0);
  }
});

test('IPv4 and IPv6 public addresses: a client on [::1] is forwarded and answered from the IPv6 address it used', async () => {
  const tx = await openSocket();
  const client6 = await openSocket('::1');
  const relay = await startRelayProcess(['--workers', '1', '--listen', '127.0.0.1:0', '--listen', '[::1]:0']);
  try {
    assert.equal(relay.publics.length, 2);
    const pub6 = relay.publics[1];
    assert.equal(pub6.family, 'IPv6');
    const { ufrag, pwd } = mintFor(tx.address);
    client6.send(stunCheck(ufrag, pwd), pub6);
    const first = await tx.next(2000);
    assert.deepEqual(decodeRelayHeader(first.msg), { client: client6.address, public: pub6, transport: 'udp' });
    tx.send(Buffer.concat([encodeRelayHeader(client6.address, pub6), rtp(7)]), {
      address: first.from.address,
      port: first.from.port,
      family: 'IPv4',
    });
    const back = await client6.next(2000);
    assert.equal(back.from.address, '::1');
    assert.equal(back.from.port, pub6.port);
    assert.deepEqual(back.msg, rtp(7));
  } finally {
    await client6.close();
    await tx.close();
    assert.equal(await relay.stop(), 0);
  }
});

test('bad configuration exits 2 naming the setting and why', async () => {
  const { spawnSync } = await import('node:child_process');
  const bin = new URL('../../bin/parley.ts', import.meta.url).pathname;
  const run = (args: string[], env: Record<string, string>): { status: number | null; stderr: string } => {
    const r = spawnSync(process.execPath, [bin, 'relay', ...args], { env: { ...process.env, ...env }, encoding: 'utf8', timeout: 20_000 });
    return { status: r.status, stderr: r.stderr };
  };
  const keys = { PARLEY_KEYS: (await import('./helpers.ts')).KEYS_TEXT };
  let r = run(['--listen', 'localhost:3478'], keys);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--listen \/ PARLEY_LISTEN.*literal IP/);
  r = run([], { ...keys, PARLEY_WORKERS: 'many' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /PARLEY_WORKERS.*not an integer/);
  r = run(['--transceiver-cidrs', '10.0.0.0/33'], keys);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--transceiver-cidrs.*prefix length must be 0..32/);
  r = run(['--listen', '0.0.0.0:3478'], keys);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /wildcard/);
  r = run([], { PARLEY_KEYS: '' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /PARLEY_KEYS/);
  // A public port already taken: start-up fails with exit status 1 and says why.
  const taken = await openSocket();
  try {
    r = run(['--listen', `127.0.0.1:${taken.address.port}`, '--http', '127.0.0.1:0', '--internal', '127.0.0.1:0', '--pin', 'off'], keys);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /relay failed to start.*EADDRINUSE/);
  } finally {
    await taken.close();
  }
});
