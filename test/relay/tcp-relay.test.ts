// The relay's ICE-TCP side (src/relay/tcp/tcp-relay.ts) in process on real sockets and a
// ManualClock: a verified first frame binds the connection to the token's transceiver and frames
// flow both ways with a version-2 header; everything hostile is refused and counted — garbage
// first frames, a forged token, a valid token with a wrong password, a silent connection, half a
// frame, frames over the limit, too many connections from one address, a reader that never
// reads — while another call's connection keeps working.
import { afterEach, test } from 'node:test';
import assert from 'node:assert/strict';
import { ManualClock } from '../../src/common/clock.ts';
import { KeyedTokenBuckets } from '../../src/core/rate-limit.ts';
import { frameRfc4571 } from '../../src/core/framing/rfc4571.ts';
import { RELAY_HEADER_LENGTH, decodeRelayHeader, encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { RevokedTokens } from '../../src/relay/revoked-tokens.ts';
import { TcpRelay } from '../../src/relay/tcp/tcp-relay.ts';
import type { TcpCloseReason, TcpLimits } from '../../src/relay/tcp/tcp-relay.ts';
import type { DropReason } from '../../src/relay/stats.ts';
import { keyring, mintFor, rtp, stunCheck } from './helpers.ts';
import { connectTcp, openSocket } from './harness.ts';
import type { TcpTestClient, TestSocket } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

interface Counts {
  accepted: number;
  closed: Map<TcpCloseReason, number>;
  dropped: Map<DropReason, number>;
  toTransceiver: number;
  toClient: number;
}

async function start(clock: ManualClock, limits: Partial<TcpLimits> = {}): Promise<{ relay: TcpRelay; counts: Counts }> {
  const counts: Counts = { accepted: 0, closed: new Map(), dropped: new Map(), toTransceiver: 0, toClient: 0 };
  const bump = <K>(m: Map<K, number>, k: K): void => void m.set(k, (m.get(k) ?? 0) + 1);
  const relay = await TcpRelay.start({
    listen: [{ address: '127.0.0.1', port: 0, family: 'IPv4' }],
    internal: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    check: {
      keyring,
      newFlowLimiter: new KeyedTokenBuckets({ ratePerSecond: 1000, burst: 1000, maxKeys: 1000 }),
      revoked: new RevokedTokens(),
      transceiverAllowed: (ip) => ip.startsWith('127.'),
    },
    clock,
    limits,
    events: {
      accepted: () => void counts.accepted++,
      closed: (r) => bump(counts.closed, r),
      dropped: (r) => bump(counts.dropped, r),
      forwarded: (d) => void (d === 'to_client' ? counts.toClient++ : counts.toTransceiver++),
    },
  });
  return { relay, counts };
}

/** Every client a test opened, destroyed after it (the leak check counts open sockets). */
const clients: TcpTestClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) {
    c.sock.destroy();
    await c.closed;
  }
});

/** An RFC 4571 client of the relay's first TCP address. */
const connect = async (relay: TcpRelay): Promise<TcpTestClient> => {
  const c = await connectTcp(relay.listening[0]);
  clients.push(c);
  return c;
};

const wall = (clock: ManualClock): number => clock.wallNow();

test('a verified first frame binds the connection to its transceiver; frames go both ways with a version-2 header', async () => {
  const clock = new ManualClock(0, Date.now());
  const tx = await openSocket();
  const { relay, counts } = await start(clock);
  try {
    const { ufrag, pwd } = mintFor(tx.address, wall(clock));
    const c = await connect(relay);
    c.sock.write(frameRfc4571(stunCheck(ufrag, pwd)));
    const check = await tx.next(2000);
    const h = decodeRelayHeader(check.msg)!;
    assert.equal(h.transport, 'tcp');
    assert.equal(h.client.port, c.sock.localPort);
    assert.equal(h.public.port, relay.listening[0].port);
    assert.deepEqual(
      { address: check.from.address, port: check.from.port },
      { address: relay.internal.address, port: relay.internal.port },
    );
    // Two frames in one write, and one split over two writes.
    const split = frameRfc4571(rtp(3));
    c.sock.write(Buffer.concat([frameRfc4571(rtp(1)), frameRfc4571(rtp(2)), split.subarray(0, 5)]));
    c.sock.write(split.subarray(5));
    for (const seq of [1, 2, 3]) {
      const m = await tx.next(2000, (x) => x[RELAY_HEADER_LENGTH] === 0x80 && x.readUInt16BE(RELAY_HEADER_LENGTH + 2) === seq);
      assert.equal(m.msg.length, RELAY_HEADER_LENGTH + rtp(seq).length);
    }
    // The transceiver answers with the header it got: framed back onto the connection.
    tx.send(Buffer.concat([check.msg.subarray(0, RELAY_HEADER_LENGTH), rtp(9)]), check.from);
    await waitFor(() => c.frames.length === 1, 2000, 'the reply framed back');
    assert.deepEqual(c.frames[0], rtp(9));
    // A version-1 (UDP) header, another client, or another transceiver's socket: not onto this connection.
    tx.send(Buffer.concat([encodeRelayHeader(h.client, h.public), rtp(10)]), check.from);
    tx.send(Buffer.concat([encodeRelayHeader({ ...h.client, port: h.client.port + 1 }, h.public, 'tcp'), rtp(11)]), check.from);
    const other = await openSocket();
    other.send(Buffer.concat([check.msg.subarray(0, RELAY_HEADER_LENGTH), rtp(12)]), check.from);
    await waitFor(() => (counts.dropped.get('bad_header') ?? 0) === 1 && (counts.dropped.get('unknown_flow') ?? 0) === 2, 2000, 'drops');
    assert.equal(c.frames.length, 1);
    await other.close();
    assert.equal(relay.connections, 1);
    c.sock.destroy();
    await waitFor(() => relay.connections === 0, 2000, 'the close seen');
    assert.equal(counts.closed.get('client_closed'), 1);
  } finally {
    await relay.stop();
    await tx.close();
  }
});

test('hostile first frames: garbage, a forged token, a valid token with a wrong password — each refused, counted, closed', async () => {
  const clock = new ManualClock(0, Date.now());
  const tx = await openSocket();
  const { relay, counts } = await start(clock);
  try {
    const { ufrag, pwd } = mintFor(tx.address, wall(clock));
    // One character of the token changed: its tag no longer verifies.
    const mid = ufrag.length >> 1;
    const forged = ufrag.slice(0, mid) + (ufrag[mid] === 'A' ? 'B' : 'A') + ufrag.slice(mid + 1);
    for (const first of [Buffer.from('GET / HTTP/1.1\r\n\r\n'), stunCheck(forged, pwd), stunCheck(ufrag, 'not-the-password-at-all')]) {
      const c = await connect(relay);
      c.sock.write(frameRfc4571(first));
      await c.closed;
    }
    assert.equal(counts.closed.get('first_frame_refused'), 3);
    assert.equal(counts.dropped.get('not_stun'), 1);
    assert.equal(counts.dropped.get('bad_integrity'), 1);
    assert.equal([...counts.dropped].filter(([r]) => r.startsWith('token_')).length, 1, 'the forged token: its own token reason');
    // Raw HTTP without framing reads as a 0x4745 (18 245-byte) frame: over the limit.
    const raw = await connect(relay);
    raw.sock.write('GET / HTTP/1.1\r\n\r\n');
    await raw.closed;
    assert.equal(counts.closed.get('bad_frame'), 1);
    assert.equal(tx.received.length, 0, 'nothing reached the transceiver');
    assert.equal(relay.connections, 0);
  } finally {
    await relay.stop();
    await tx.close();
  }
});

test('a silent connection and half a frame are closed at the first-frame deadline (no sleeping: a manual clock)', async () => {
  const clock = new ManualClock(0, Date.now());
  const { relay, counts } = await start(clock, { firstFrameMs: 5000 });
  try {
    const silent = await connect(relay);
    const half = await connect(relay);
    half.sock.write(Buffer.from([0x00, 0x40, 0x00, 0x01])); // 64 bytes announced, 2 sent
    await waitFor(() => relay.connections === 2, 2000, 'both accepted');
    await clock.advanceAsync(4999);
    assert.equal(relay.connections, 2);
    await clock.advanceAsync(2);
    await Promise.all([silent.closed, half.closed]);
    assert.equal(counts.closed.get('first_frame_timeout'), 2);
  } finally {
    await relay.stop();
  }
});

test('connections per source IP and in total are capped; a bound connection idle past the timeout is closed', async () => {
  const clock = new ManualClock(0, Date.now());
  const tx = await openSocket();
  const { relay, counts } = await start(clock, { maxPerIp: 3, maxConnections: 5, idleMs: 60_000 });
  try {
    const held = await Promise.all([0, 1, 2].map(() => connect(relay)));
    await waitFor(() => relay.connections === 3, 2000, 'three held');
    const fourth = await connect(relay);
    await fourth.closed;
    assert.equal(counts.closed.get('too_many_from_ip'), 1);
    // A bound call is not cut while it talks; it is once silent past the idle timeout.
    const { ufrag, pwd } = mintFor(tx.address, wall(clock));
    held[0].sock.write(frameRfc4571(stunCheck(ufrag, pwd)));
    await tx.next(2000);
    for (let i = 0; i < 5; i++) {
      await clock.advanceAsync(20_000);
      held[0].sock.write(frameRfc4571(rtp(i)));
      await tx.next(2000, (m) => m[RELAY_HEADER_LENGTH] === 0x80);
    }
    assert.equal(held[0].sock.destroyed, false, 'a talking call stays');
    await clock.advanceAsync(62_000);
    await held[0].closed;
    assert.equal(counts.closed.get('idle'), 1);
    assert.equal(counts.closed.get('first_frame_timeout'), 2, 'the two that never spoke went at their deadline');
  } finally {
    await relay.stop();
    await tx.close();
  }
});

test('a client that never reads: packets to it are dropped past the queue limit, memory stays bounded, another call is unaffected', async () => {
  const clock = new ManualClock(0, Date.now());
  const tx = await openSocket();
  const { relay, counts } = await start(clock, { maxQueuedBytes: 64 * 1024 });
  try {
    const bind = async (): Promise<{ c: TcpTestClient; header: Buffer; from: TestSocket['address'] }> => {
      const { ufrag, pwd } = mintFor(tx.address, wall(clock));
      const c = await connect(relay);
      c.sock.write(frameRfc4571(stunCheck(ufrag, pwd)));
      const m = await tx.next(2000, (x) => decodeRelayHeader(x)?.client.port === c.sock.localPort);
      return { c, header: Buffer.from(m.msg.subarray(0, RELAY_HEADER_LENGTH)), from: m.from };
    };
    const stuck = await bind();
    stuck.c.sock.pause(); // never reads
    const fine = await bind();
    // Until the kernel's buffers are full and the relay's own queue reaches its limit (bounded in time).
    const packet = Buffer.concat([stuck.header, Buffer.alloc(1200, 0x80)]);
    let maxQueued = 0;
    await waitFor(
      async () => {
        for (let i = 0; i < 200; i++) tx.send(packet, stuck.from);
        await new Promise((r) => setImmediate(r));
        maxQueued = Math.max(maxQueued, relay.queuedBytes);
        return (counts.dropped.get('tcp_slow_reader') ?? 0) > 100;
      },
      20_000,
      'drops toward the stuck reader',
    );
    assert.ok(maxQueued <= 64 * 1024 + 1202, `the relay held at most ${maxQueued} bytes for the stuck client`);
    tx.send(Buffer.concat([fine.header, rtp(5)]), fine.from);
    await waitFor(() => fine.c.frames.some((f) => f.equals(rtp(5))), 2000, 'the other call still gets its packets');
  } finally {
    await relay.stop();
    await tx.close();
  }
});
