// The native datapath in process (no relay, no worker): the addon's loop forwards known flows
// both ways with the relay header, hands everything else to JS as misses with the right source,
// stamps lastSeen (sync), stops forwarding a released flow, counts every drop in the native half
// of the stats array with route.ts's reasons, and survives hostile datagrams of every length on
// both sockets (all counted, none crash it, forwarding still works afterwards).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteInfo } from 'node:dgram';
import { RELAY_HEADER_LENGTH, encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { NativeDatapath, loadNativeAddon } from '../../src/relay/datapath-native.ts';
import { FlowTable, makeFlow } from '../../src/relay/flow-table.ts';
import { NATIVE_STATS_BASE, STATS_SLOTS, Slot, dropSlot, newStats } from '../../src/relay/stats.ts';
import { rng, rtp, v4 } from './helpers.ts';
import type { TestSocket } from './harness.ts';
import { openSocket } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const skip = loadNativeAddon() instanceof Error && process.env.CI !== 'true' ? 'the native relay addon is not built' : false;

test('native datapath: misses, both directions, sync, release, drop counters, hostile input', { skip, timeout: 60_000 }, async () => {
  const table = new FlowTable({ maxFlows: 100, idleMs: 60_000 });
  const stats = newStats(false);
  const misses: { msg: Buffer; rinfo: RemoteInfo; index: number }[] = [];
  // Transceivers live on 127.0.0.2 only: return traffic from elsewhere is disallowed_source.
  const dp = new NativeDatapath({
    table, publics: [v4('127.0.0.1', 0)], internal: v4('127.0.0.1', 0), reusePort: false, socketBufferBytes: 1 << 20, stats,
    transceiverCidrs: CidrSet.parse('127.0.0.2/32'),
    onClientMiss: (msg, rinfo, index) => misses.push({ msg, rinfo, index }),
    onSocketError: () => {},
  });
  const sockets: TestSocket[] = [];
  const open = async (h: string): Promise<TestSocket> => {
    const s = await openSocket(h);
    sockets.push(s);
    return s;
  };
  const n = (slot: number): number => stats[slot] + stats[NATIVE_STATS_BASE + slot];
  try {
    const { publics, internal } = await dp.bind();
    const pub = publics[0];
    assert.ok(pub.port > 0 && internal.port > 0);
    assert.equal(dp.tids.length, 2, 'native loop threads: one per public socket + internal');
    const tx = await open('127.0.0.2');
    const client = await open('127.0.0.1');

    // An unknown sender: a miss with its real address, to JS.
    const first = Buffer.from([0, 1, 0, 0, ...rng.bytes(16)]);
    client.send(first, pub);
    await waitFor(() => misses.length === 1, 2000, 'first miss');
    assert.deepEqual(misses[0].msg, first);
    assert.equal(misses[0].rinfo.address, '127.0.0.1');
    assert.equal(misses[0].rinfo.port, client.address.port);
    assert.equal(misses[0].index, 0);

    // JS creates the flow and forwards the first packet; the loop forwards the rest.
    const flow = makeFlow(client.address, 0, pub, tx.address, 'ufrag', Date.now() - 10_000);
    assert.equal(table.insert(flow), 'added');
    dp.forward(flow, first);
    const got1 = await tx.next(2000);
    assert.deepEqual(got1.msg.subarray(0, RELAY_HEADER_LENGTH), flow.header);
    assert.deepEqual(got1.msg.subarray(RELAY_HEADER_LENGTH), first);
    assert.equal(got1.from.port, internal.port);
    for (let i = 0; i < 100; i++) client.send(rtp(i), pub);
    for (let i = 0; i < 100; i++) {
      const g = await tx.next(2000);
      assert.deepEqual(g.msg.subarray(RELAY_HEADER_LENGTH), rtp(g.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12)));
    }
    assert.equal(misses.length, 1, 'no more misses for a known flow');
    await waitFor(() => n(Slot.pktsToTransceiver) === 101, 2000, 'counters published');
    assert.equal(n(Slot.bytesToTransceiver), first.length + 100 * 172);

    // Return path: header stripped, sent from the public port to the client.
    const reply = Buffer.concat([flow.header, rtp(7)]);
    tx.send(reply, internal);
    const back = await client.next(2000);
    assert.deepEqual(back.msg, rtp(7));
    assert.equal(back.from.port, pub.port);
    await waitFor(() => n(Slot.pktsToClient) === 1, 2000, 'pktsToClient');
    assert.equal(n(Slot.bytesToClient), 172);

    // sync brings lastSeen forward from the native stamps.
    const before = flow.lastSeen;
    dp.sync?.();
    assert.ok(flow.lastSeen > before, 'lastSeen synced');

    // Drops on the return path, each with route.ts's reason.
    const other = await open('127.0.0.3');
    const expectDrop = async (slot: number, act: () => void): Promise<void> => {
      const b = n(slot);
      act();
      await waitFor(() => n(slot) === b + 1, 2000, `drop slot ${slot}`);
    };
    await expectDrop(dropSlot.disallowed_source, () => other.send(reply, internal));
    await expectDrop(dropSlot.bad_header, () => tx.send(rtp(1), internal));
    await expectDrop(dropSlot.too_large, () => tx.send(Buffer.concat([flow.header, Buffer.alloc(1501)]), internal));
    await expectDrop(dropSlot.too_large, () => tx.send(Buffer.concat([flow.header, Buffer.alloc(4000)]), internal));
    await expectDrop(dropSlot.unknown_flow, () => tx.send(Buffer.concat([encodeRelayHeader(v4('127.0.0.9', 1234), pub), rtp(1)]), internal));
    await expectDrop(dropSlot.unknown_flow, () => tx.send(Buffer.concat([encodeRelayHeader(client.address, v4('127.0.0.1', 1)), rtp(1)]), internal));
    // a header naming the flow, but from another transceiver address than the flow's
    const tx2 = await open('127.0.0.2');
    await expectDrop(dropSlot.unknown_flow, () => tx2.send(reply, internal));
    // client side: oversize and non-STUN non-media first bytes are dropped without a miss
    await expectDrop(dropSlot.too_large, () => client.send(Buffer.alloc(1501, 0x80), pub));
    const stranger = await open('127.0.0.4');
    await expectDrop(dropSlot.not_stun, () => stranger.send(Buffer.from('\x07garbage'), pub));
    await expectDrop(dropSlot.not_stun, () => stranger.send(Buffer.alloc(0), pub));
    assert.equal(misses.length, 1);

    // Hostile input: random datagrams of random length to both sockets; a valid magic on half
    // of the return ones so the header checks past it are exercised too.
    const dropTotal = (): number => Object.values(dropSlot).reduce((s, i) => s + n(i), 0);
    const d0 = dropTotal();
    const m0 = misses.length;
    const c0 = n(Slot.pktsToClient);
    const N = 2000;
    for (let i = 0; i < N; i++) {
      const len = rng.bytes(2).readUInt16BE(0) % (i % 10 === 0 ? 3000 : 200);
      const b = Buffer.from(rng.bytes(len));
      if (i % 2 === 0 && len >= 4) {
        b[0] = 0x50;
        b[1] = 0x52;
        b[2] = 1;
        b[3] &= 3;
      }
      (i % 2 === 0 ? tx : stranger).send(b, i % 2 === 0 ? internal : pub);
      if (i % 200 === 0) await new Promise((r) => setTimeout(r, 5));
    }
    await waitFor(() => dropTotal() - d0 + misses.length - m0 + n(Slot.pktsToClient) - c0 >= N, 5000, 'every hostile datagram accounted for');
    assert.equal(dropTotal() - d0 + misses.length - m0 + n(Slot.pktsToClient) - c0, N);
    assert.equal(n(Slot.pktsToClient) - c0, 0, 'random headers name no flow');

    // Still forwarding after all that.
    client.send(rtp(500), pub);
    assert.deepEqual((await tx.next(2000, (m) => m.length === 212 && m.readUInt32BE(52) === 500)).msg.subarray(RELAY_HEADER_LENGTH), rtp(500));

    // Released: the loop no longer forwards it (a miss again), nor returns to it.
    table.remove(flow);
    dp.release?.(flow);
    const m1 = misses.length;
    client.send(rtp(600), pub);
    await waitFor(() => misses.length === m1 + 1, 2000, 'miss after release');
    assert.deepEqual(misses.at(-1)?.msg, rtp(600));
    await expectDrop(dropSlot.unknown_flow, () => tx.send(reply, internal));
  } finally {
    await dp.close();
    await dp.close();
    for (const s of sockets) await s.close();
  }
  // After close: no-ops, no crash.
  dp.forward(makeFlow(v4('127.0.0.1', 1), 0, v4('127.0.0.1', 2), v4('127.0.0.2', 3), 'u', 0), rtp(1));
  dp.sync?.();
});

test('native datapath: a taken port is an EADDRINUSE error, and nothing is left open', { skip }, async () => {
  const s = await openSocket('127.0.0.1');
  try {
    const dp = new NativeDatapath({
      table: new FlowTable({ maxFlows: 10, idleMs: 60_000 }), publics: [s.address], internal: v4('127.0.0.1', 0), reusePort: false,
      socketBufferBytes: 0, stats: newStats(false), transceiverCidrs: CidrSet.parse('127.0.0.0/8'), onClientMiss: () => {}, onSocketError: () => {},
    });
    await assert.rejects(dp.bind(), /EADDRINUSE/);
    await dp.close();
  } finally {
    await s.close();
  }
});

test('native flow table: 20 000 random installs, replacements and removals agree with a Map (seeded)', { skip }, () => {
  const addon = loadNativeAddon();
  if (addon instanceof Error) throw addon;
  const stats = newStats(false);
  const r = addon.open({
    publics: [v4('127.0.0.1', 0), { address: '::1', port: 0, family: 'IPv6' }], internal: v4('127.0.0.1', 0), reusePort: false,
    socketBufferBytes: 0, maxFlows: 600, cidrs: [[Buffer.from([127, 0, 0, 0]), 8]], stats: new Float64Array(stats.buffer, NATIVE_STATS_BASE * 8, STATS_SLOTS),
    slots: new Int32Array(addon.COUNTERS).fill(-1), onMiss: () => {},
  });
  try {
    const pubs = r.publics;
    // 800 possible clients (v4 and v6, colliding ports and addresses) for at most 600 flows.
    const clients = Array.from({ length: 800 }, (_, i) => {
      const pi = i % 2;
      const c = pi === 0 ? v4(`127.0.${i % 3}.${i % 7}`, 1000 + (i % 50)) : { address: `::${(i % 5) + 1}`, port: 1000 + (i % 40), family: 'IPv6' as const };
      return { header: encodeRelayHeader(c, pubs[pi]), pi, key: `${pi}|${c.address}|${c.port}` };
    });
    const model = new Map<string, number>();
    let id = 1;
    for (let step = 0; step < 20_000; step++) {
      const c = clients[rng.bytes(2).readUInt16BE(0) % clients.length];
      const op = rng.bytes(1)[0] % 3;
      if (op < 2) {
        const prev = addon.install(r.handle, c.header, c.pi, '127.0.0.2', 9, id);
        if (model.has(c.key)) assert.equal(prev, model.get(c.key), `replace ${c.key}`);
        else if (model.size >= 616) assert.equal(prev, -1);
        else assert.equal(prev, 0, `add ${c.key}`);
        if (prev !== -1) model.set(c.key, id);
        id++;
      } else {
        const want = model.get(c.key);
        assert.equal(addon.remove(r.handle, c.header, c.pi, want ?? 1), want !== undefined);
        model.delete(c.key);
      }
      if (step % 1000 === 0 || step === 19_999) {
        assert.equal(addon.flows(r.handle), model.size);
        for (const x of clients) assert.equal(addon.lookup(r.handle, x.header, x.pi), model.get(x.key) ?? 0, x.key);
      }
    }
    // a removal with a stale id leaves the newer flow in place
    const c = clients[0];
    addon.install(r.handle, c.header, c.pi, '127.0.0.2', 9, 4_000_000);
    assert.equal(addon.remove(r.handle, c.header, c.pi, 3), false);
    assert.equal(addon.lookup(r.handle, c.header, c.pi), 4_000_000);
    // seen() fills the caller's buffer (nothing allocated under the table lock): no packets, no pairs
    assert.equal(addon.seen(r.handle, new Float64Array(4)), 0);
    assert.throws(() => addon.seen(r.handle, new Uint8Array(8) as unknown as Float64Array), /seen: bad arguments/);
  } finally {
    addon.close(r.handle);
  }
  assert.throws(() => addon.flows(r.handle), /closed/);
});
