// The native datapath in process (no relay, no worker): the addon's loop forwards known flows
// both ways with the relay header, hands everything else to JS as misses with the right source,
// stamps flows with the worker's coarse clock (a shared cell, any time domain), and its table —
// the only one on this datapath — answers the control side's calls: insert, get, touch, sweep
// (idle expiry and the flows due for a store refresh). Every drop is counted in the native half
// of the stats array with route.ts's reasons, and hostile datagrams of every length on both
// sockets are all counted, none crash it, and forwarding still works afterwards.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RemoteInfo } from 'node:dgram';
import { Worker } from 'node:worker_threads';
import { CidrSet } from '../../src/core/cidr.ts';
import { RELAY_HEADER_LENGTH, encodeRelayHeader } from '../../src/contracts/relay-header.ts';
import { NATIVE_MISS_QUEUE_CAP } from '../../src/contracts/relay-native.ts';
import { NativeDatapath, loadNativeAddon } from '../../src/relay/datapath-native.ts';
import type { DatapathOptions } from '../../src/relay/datapath.ts';
import type { FlowView } from '../../src/relay/flow-index.ts';
import { NATIVE_STATS_BASE, Slot, dropSlot, newStats } from '../../src/relay/stats.ts';
import { keyring, mintFor, rng, rtp, stunCheck, v4 } from './helpers.ts';
import { nativeFirstCheck } from '../../src/relay/first-check.ts';
import { FIRST_FLOW_WINDOW_MS } from '../../src/relay/route.ts';
import { StunClass, StunMethod, encodeStun, usernameAttribute } from '../../src/core/stun/index.ts';
import type { TestSocket } from './harness.ts';
import { openSocket } from './harness.ts';
import { waitFor } from '../support/wait-for.ts';

const skip = loadNativeAddon() instanceof Error && process.env.CI !== 'true' ? 'the native relay addon is not built' : false;
const IDLE_MS = 60_000;

function options(o: Partial<DatapathOptions> = {}): DatapathOptions {
  const now = new Float64Array(1);
  now[0] = 5_000_000; // the worker's coarse clock: any domain, the addon only compares with it
  return {
    publics: [v4('127.0.0.1', 0)],
    internal: v4('127.0.0.1', 0),
    reusePort: false,
    socketBufferBytes: 1 << 20,
    maxFlows: 100,
    idleMs: IDLE_MS,
    stats: newStats(false),
    now,
    transceiverCidrs: CidrSet.parse('127.0.0.2/32'),
    ...o,
  };
}

test(
  'native datapath: misses, both directions, the table as flow index, sweep, drop counters, hostile input',
  { skip, timeout: 60_000 },
  async () => {
    const o = options();
    const { stats, now } = o;
    const misses: { msg: Buffer; rinfo: RemoteInfo; index: number }[] = [];
    // Transceivers live on 127.0.0.2 only: return traffic from elsewhere is disallowed_source.
    const dp = new NativeDatapath(o);
    const sockets: TestSocket[] = [];
    const open = async (h: string): Promise<TestSocket> => {
      const s = await openSocket(h);
      sockets.push(s);
      return s;
    };
    const n = (slot: number): number => stats[slot] + stats[NATIVE_STATS_BASE + slot];
    let index;
    try {
      const bound = await dp.bind({ onClientMiss: (msg, rinfo, i) => misses.push({ msg, rinfo, index: i }), onSocketError: () => {} });
      index = bound.index;
      const { publics, internal } = bound;
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

      // JS inserts the flow and forwards the first packet; the loop forwards the rest.
      const t0 = now[0];
      const ins = index.insert(
        { client: client.address, publicIndex: 0, public: pub, dest: tx.address, ufrag: 'ufrag-1', confirmed: false },
        t0,
      );
      assert.ok(ins.kind === 'added');
      const flow: FlowView = ins.flow;
      assert.equal(index.size, 1);
      dp.forward(flow, first);
      const got1 = await tx.next(2000);
      assert.deepEqual(got1.msg.subarray(0, RELAY_HEADER_LENGTH), encodeRelayHeader(client.address, pub));
      assert.deepEqual(got1.msg.subarray(RELAY_HEADER_LENGTH), first);
      assert.equal(got1.from.port, internal.port);
      now[0] = t0 + 1000;
      for (let i = 0; i < 100; i++) client.send(rtp(i), pub);
      for (let i = 0; i < 100; i++) {
        const g = await tx.next(2000);
        assert.deepEqual(g.msg.subarray(RELAY_HEADER_LENGTH), rtp(g.msg.readUInt32BE(RELAY_HEADER_LENGTH + 12)));
      }
      assert.equal(misses.length, 1, 'no more misses for a known flow');
      await waitFor(() => n(Slot.pktsToTransceiver) === 101, 2000, 'counters published');
      assert.equal(n(Slot.bytesToTransceiver), first.length + 100 * 172);

      // STUN from the known flow: a Binding success (the client's answer to a request back) is
      // forwarded by the loop like media; a Binding request still goes to JS (route.ts looks at
      // its USERNAME: address reuse).
      const answer = Buffer.from([1, 1, 0, 0, ...rng.bytes(16)]);
      client.send(answer, pub);
      const gotAnswer = await tx.next(2000);
      assert.deepEqual(gotAnswer.msg.subarray(RELAY_HEADER_LENGTH), answer);
      assert.equal(misses.length, 1, 'a Binding success from a known flow is no miss');
      const request = Buffer.from([0, 1, 0, 0, ...rng.bytes(16)]);
      client.send(request, pub);
      await waitFor(() => misses.length === 2, 2000, 'the Binding request from the known flow, to JS');
      assert.deepEqual(misses[1].msg, request);
      await waitFor(() => n(Slot.pktsToTransceiver) === 102, 2000, 'counters published');
      assert.equal(n(Slot.bytesToTransceiver), first.length + 100 * 172 + answer.length);

      // The table answers for the flow: its token, destination and the loop's last-seen stamp.
      const seen = index.get(client.address.address, client.address.port, 0);
      assert.deepEqual(seen, { ...flow, lastSeen: t0 + 1000 });
      assert.equal(index.get(client.address.address, client.address.port + 1, 0), undefined);

      // Return path: header stripped, sent from the public port to the client.
      const reply = Buffer.concat([encodeRelayHeader(client.address, pub), rtp(7)]);
      tx.send(reply, internal);
      const back = await client.next(2000);
      assert.deepEqual(back.msg, rtp(7));
      assert.equal(back.from.port, pub.port);
      await waitFor(() => n(Slot.pktsToClient) === 1, 2000, 'pktsToClient');
      assert.equal(n(Slot.bytesToClient), 172);

      // Sweep: a flow seen since its store write is due for a refresh once refreshMs have passed
      // since that write, and is marked written; nothing is idle yet.
      const due: FlowView[] = [];
      assert.equal(
        index.sweep(t0 + 29_999, 30_000, (f) => due.push(f)),
        0,
      );
      assert.equal(due.length, 0, 'written less than refreshMs ago');
      assert.equal(
        index.sweep(t0 + 30_000, 30_000, (f) => due.push(f)),
        0,
      );
      // The transceiver's reply (above) went through the loop's return path: the flow is confirmed.
      assert.deepEqual(due, [{ ...flow, lastSeen: t0 + 1000, confirmed: true }]);
      assert.equal(
        index.sweep(t0 + 60_000, 30_000, (f) => due.push(f)),
        0,
      );
      assert.equal(due.length, 1, 'not seen since that write: not due again');
      index.touch(flow, t0 + 2000);
      assert.equal(index.get(client.address.address, client.address.port, 0)?.lastSeen, t0 + 2000, 'touch stamps the flow');

      // Drops on the return path, each with route.ts's reason.
      const other = await open('127.0.0.3');
      const expectDrop = async (slot: number, act: () => void): Promise<void> => {
        const b = n(slot);
        act();
        await waitFor(() => n(slot) === b + 1, 2000, `drop slot ${slot}`);
      };
      await expectDrop(dropSlot.disallowed_source, () => other.send(reply, internal));
      await expectDrop(dropSlot.bad_header, () => tx.send(rtp(1), internal));
      await expectDrop(dropSlot.too_large, () =>
        tx.send(Buffer.concat([reply.subarray(0, RELAY_HEADER_LENGTH), Buffer.alloc(1501)]), internal),
      );
      await expectDrop(dropSlot.too_large, () =>
        tx.send(Buffer.concat([reply.subarray(0, RELAY_HEADER_LENGTH), Buffer.alloc(4000)]), internal),
      );
      await expectDrop(dropSlot.unknown_flow, () =>
        tx.send(Buffer.concat([encodeRelayHeader(v4('127.0.0.9', 1234), pub), rtp(1)]), internal),
      );
      await expectDrop(dropSlot.unknown_flow, () =>
        tx.send(Buffer.concat([encodeRelayHeader(client.address, v4('127.0.0.1', 1)), rtp(1)]), internal),
      );
      // a header naming the flow, but from another transceiver address than the flow's
      const tx2 = await open('127.0.0.2');
      await expectDrop(dropSlot.unknown_flow, () => tx2.send(reply, internal));
      // client side: oversize and non-STUN non-media first bytes are dropped without a miss
      await expectDrop(dropSlot.too_large, () => client.send(Buffer.alloc(1501, 0x80), pub));
      const stranger = await open('127.0.0.4');
      await expectDrop(dropSlot.not_stun, () => stranger.send(Buffer.from('\x07garbage'), pub));
      await expectDrop(dropSlot.not_stun, () => stranger.send(Buffer.alloc(0), pub));
      assert.equal(misses.length, 2, 'the first packet and the Binding request from the known flow');

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
      await waitFor(
        () => dropTotal() - d0 + misses.length - m0 + n(Slot.pktsToClient) - c0 >= N,
        5000,
        'every hostile datagram accounted for',
      );
      assert.equal(dropTotal() - d0 + misses.length - m0 + n(Slot.pktsToClient) - c0, N);
      assert.equal(n(Slot.pktsToClient) - c0, 0, 'random headers name no flow');

      // Still forwarding after all that.
      client.send(rtp(500), pub);
      assert.deepEqual(
        (await tx.next(2000, (m) => m.length === 212 && m.readUInt32BE(52) === 500)).msg.subarray(RELAY_HEADER_LENGTH),
        rtp(500),
      );

      // Idle for the idle timeout (on the worker's clock): swept out; the loop no longer forwards
      // it (a miss again), nor returns to it.
      const last = index.get(client.address.address, client.address.port, 0)?.lastSeen ?? 0;
      assert.equal(
        index.sweep(last + IDLE_MS - 1, 30_000, () => {}),
        0,
      );
      assert.equal(
        index.sweep(last + IDLE_MS, 30_000, () => {}),
        1,
      );
      assert.equal(index.size, 0);
      const m1 = misses.length;
      client.send(rtp(600), pub);
      await waitFor(() => misses.length === m1 + 1, 2000, 'miss after expiry');
      assert.deepEqual(misses.at(-1)?.msg, rtp(600));
      await expectDrop(dropSlot.unknown_flow, () => tx.send(reply, internal));
    } finally {
      await dp.close();
      await dp.close();
      for (const s of sockets) await s.close();
    }
    // After close: no-ops, no crash.
    dp.forward(
      {
        clientAddress: '127.0.0.1',
        clientPort: 1,
        clientFamily: 'IPv4',
        publicIndex: 0,
        destAddress: '127.0.0.2',
        destPort: 3,
        ufrag: 'u',
        lastSeen: 0,
        confirmed: false,
      },
      rtp(1),
    );
    assert.equal(index?.size, 0);
    assert.equal(index?.get('127.0.0.1', 1, 0), undefined);
    assert.equal(
      index?.sweep(0, 0, () => {}),
      0,
    );
  },
);

test(
  "native datapath: a Binding request naming the flow's own call is forwarded by the loop; any other goes to JS (issue #18)",
  { skip, timeout: 30_000 },
  async () => {
    const o = options();
    const { now } = o;
    const misses: Buffer[] = [];
    const dp = new NativeDatapath(o);
    const sockets: TestSocket[] = [];
    try {
      const { publics, index } = await dp.bind({ onClientMiss: (msg) => misses.push(msg), onSocketError: () => {} });
      const pub = publics[0];
      const tx = await openSocket('127.0.0.2');
      const client = await openSocket('127.0.0.1');
      sockets.push(tx, client);
      const t0 = now[0];
      const ins = index.insert(
        { client: client.address, publicIndex: 0, public: pub, dest: tx.address, ufrag: 'tok1', confirmed: false },
        t0,
      );
      assert.ok(ins.kind === 'added');
      const check = (username: string): Buffer =>
        encodeStun(
          { method: StunMethod.Binding, class: StunClass.Request, transactionId: rng.bytes(12), attributes: [usernameAttribute(username)] },
          { integrityKey: 'pwd', fingerprint: true },
        );

      // The flow's own call (route.ts: forward on the flow and stamp last-seen): no hop to JS.
      now[0] = t0 + 500;
      const own = check('tok1:client');
      client.send(own, pub);
      const got = await tx.next(2000);
      assert.deepEqual(got.msg.subarray(RELAY_HEADER_LENGTH), own);
      assert.equal(index.get(client.address.address, client.address.port, 0)?.lastSeen, t0 + 500, 'the loop stamped last-seen');

      // Another call's token, a token the flow's is only a prefix of, no colon, an empty server
      // part, a USERNAME after MESSAGE-INTEGRITY (RFC 8489 §14.5: ignored), bad framing:
      // route.ts decides, so each goes to JS.
      const integrityOnly = encodeStun(
        { method: StunMethod.Binding, class: StunClass.Request, transactionId: rng.bytes(12), attributes: [] },
        { integrityKey: 'pwd', fingerprint: false },
      );
      const lateUsername = Buffer.concat([integrityOnly, Buffer.from([0, 6, 0, 12]), Buffer.from('tok1:client1')]);
      lateUsername.writeUInt16BE(lateUsername.length - 20, 2);
      const badFraming = Buffer.concat([own, Buffer.from([0, 0, 0, 0])]);
      const toJs = [check('tok2:client'), check('tok1x:client'), check('tok1'), check(':tok1'), lateUsername, badFraming];
      for (const m of toJs) client.send(m, pub);
      await waitFor(() => misses.length === toJs.length, 2000, 'every other Binding request, to JS');
      assert.deepEqual(misses, toJs);
    } finally {
      await dp.close();
      for (const s of sockets) await s.close();
    }
  },
);

test('native datapath: a taken port is an EADDRINUSE error, and nothing is left open', { skip }, async () => {
  const s = await openSocket('127.0.0.1');
  try {
    const dp = new NativeDatapath(
      options({ publics: [s.address], socketBufferBytes: 0, maxFlows: 10, transceiverCidrs: CidrSet.parse('127.0.0.0/8') }),
    );
    await assert.rejects(dp.bind({ onClientMiss: () => {}, onSocketError: () => {} }), /EADDRINUSE/);
    await dp.close();
  } finally {
    await s.close();
  }
});

test(
  'native flow table: 20 000 random inserts, replacements and sweeps agree with a Map; the cap is exact (seeded)',
  { skip, timeout: 60_000 },
  async () => {
    const MAX = 600;
    const dp = new NativeDatapath(
      options({
        publics: [v4('127.0.0.1', 0), { address: '::1', port: 0, family: 'IPv6' }],
        socketBufferBytes: 0,
        maxFlows: MAX,
        idleMs: 1000,
      }),
    );
    const { publics: pubs, index } = await dp.bind({ onClientMiss: () => {}, onSocketError: () => {} });
    try {
      // 800 possible clients (v4 and v6, colliding ports and addresses) for at most 600 flows.
      const clients = Array.from({ length: 800 }, (_, i) => {
        const pi = i % 2;
        const c =
          pi === 0
            ? v4(`127.0.${i % 3}.${i % 7}`, 1000 + (i % 50))
            : { address: `::${(i % 5) + 1}`, port: 1000 + (i % 40), family: 'IPv6' as const };
        return { c, pi, key: `${pi}|${c.address}|${c.port}` };
      });
      const model = new Map<string, { ufrag: string; at: number }>();
      let t = 1_000_000;
      for (let step = 0; step < 20_000; step++) {
        const x = clients[rng.bytes(2).readUInt16BE(0) % clients.length];
        const op = rng.bytes(1)[0] % 8;
        if (op < 7) {
          const ufrag = `u${step}`;
          const r = index.insert(
            { client: x.c, publicIndex: x.pi, public: pubs[x.pi], dest: v4('127.0.0.2', 9), ufrag, confirmed: false },
            t,
          );
          const want = model.has(x.key) ? 'replaced' : model.size >= MAX ? 'full' : 'added';
          assert.equal(r.kind, want, `${x.key} at ${model.size}`);
          if (r.kind !== 'full') model.set(x.key, { ufrag, at: t });
        } else {
          t += 100;
          let gone = 0;
          for (const [k, v] of model) {
            if (t - v.at < 1000) continue;
            model.delete(k);
            gone++;
          }
          assert.equal(
            index.sweep(t, Infinity, () => assert.fail('never due with refreshMs = Infinity')),
            gone,
          );
        }
        if (step % 1000 === 0 || step === 19_999) {
          assert.equal(index.size, model.size);
          for (const y of clients) {
            const f = index.get(y.c.address, y.c.port, y.pi);
            const m = model.get(y.key);
            assert.deepEqual(f && { ufrag: f.ufrag, at: f.lastSeen }, m, y.key);
          }
        }
      }
    } finally {
      await dp.close();
    }
  },
);

test(
  'native datapath: first packets the JS side cannot take in time are counted as miss_queue_full',
  { skip, timeout: 60_000 },
  async () => {
    const o = options({ socketBufferBytes: 8 << 20 });
    const dp = new NativeDatapath(o);
    let misses = 0;
    const { publics } = await dp.bind({ onClientMiss: () => misses++, onSocketError: () => {} });
    const full = (): number => o.stats[NATIVE_STATS_BASE + dropSlot.miss_queue_full];
    try {
      // Another thread sends STUN-shaped first packets while this one (the JS side of the datapath)
      // is blocked, so the addon's queue for it fills: what does not fit is counted, not queued.
      const SENT = NATIVE_MISS_QUEUE_CAP + 500;
      const done = new Int32Array(new SharedArrayBuffer(4));
      const sender = new Worker(
        `const dgram = require('node:dgram');
      const { workerData: { port, n, done } } = require('node:worker_threads');
      const s = dgram.createSocket('udp4');
      const msg = Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
      let left = n;
      // One at a time, so the kernel's send buffer never drops any on this side.
      const next = () => { if (left-- > 0) s.send(msg, port, '127.0.0.1', next); else { s.close(); Atomics.store(done, 0, 1); Atomics.notify(done, 0); } };
      next();`,
        { eval: true, workerData: { port: publics[0].port, n: SENT, done } },
      );
      try {
        // Blocked (bounded) until the other thread has sent them all.
        assert.equal(Atomics.wait(done, 0, 0, 30_000), 'ok', 'the sender finished');
        // Still blocked until the loop thread has read them all from the socket (on a loaded
        // machine it lags the sender): once the queue is full, every further one is counted.
        const nap = new Int32Array(new SharedArrayBuffer(4));
        for (let until = Date.now() + 10_000; full() < SENT - NATIVE_MISS_QUEUE_CAP && Date.now() < until;) Atomics.wait(nap, 0, 0, 5);
        // Now the queued ones reach the JS side; the loop may still be reading the last few.
        await waitFor(() => misses + full() === SENT, 5000, 'every first packet queued or counted');
        assert.equal(misses, NATIVE_MISS_QUEUE_CAP, 'the queue took what it holds');
        assert.equal(full(), SENT - NATIVE_MISS_QUEUE_CAP);
        assert.equal(o.stats[NATIVE_STATS_BASE + dropSlot.rate_limited], 0, 'a full queue is not a rate limit');
      } finally {
        await sender.terminate();
      }
    } finally {
      await dp.close();
    }
  },
);

/** Turns the loop's own first checks on, with the test keyring and these limits. */
function checksInLoop(
  dp: NativeDatapath,
  addon: Exclude<ReturnType<typeof loadNativeAddon>, Error>,
  limits: { ratePerSecond: number; burst: number; checksPerSecond: number },
): void {
  const verifier = nativeFirstCheck(addon, keyring);
  assert.ok(verifier.native);
  dp.firstChecksInLoop({ ...verifier.native, firstFlowWindowMs: FIRST_FLOW_WINDOW_MS, ...limits });
}

test(
  "native datapath: the loop makes a first check's flow itself (the header JS would build, JS told in order) and defers the rest",
  { skip, timeout: 30_000 },
  async () => {
    const addon = loadNativeAddon();
    if (addon instanceof Error) throw addon;
    const o = options({ transceiverCidrs: CidrSet.parse('127.0.0.2/32') });
    o.now[0] = Date.now(); // tokens carry Unix times
    const dp = new NativeDatapath(o);
    const events: string[] = [];
    const made: { rinfo: RemoteInfo; issuedAt: number }[] = [];
    const sockets: TestSocket[] = [];
    try {
      const bound = await dp.bind({
        onClientMiss: (_m, rinfo) => events.push(`miss ${rinfo.port}`),
        onFirstFlowMade: (_m, rinfo, _i, issuedAt) => {
          events.push(`made ${rinfo.port}`);
          made.push({ rinfo, issuedAt });
        },
        onSocketError: () => {},
      });
      const pub = bound.publics[0];
      checksInLoop(dp, addon, { ratePerSecond: 1, burst: 10, checksPerSecond: 100 });
      const tx = await openSocket('127.0.0.2');
      sockets.push(tx);
      const client = async (): Promise<TestSocket> => {
        const s = await openSocket('127.0.0.1');
        sockets.push(s);
        return s;
      };

      const issuedAt = Math.floor(o.now[0] / 1000) * 1000;
      const call = mintFor(tx.address, o.now[0]);
      const c1 = await client();
      const check = stunCheck(call.ufrag, call.pwd);
      c1.send(check, pub);
      const got = await tx.next(2000);
      assert.deepEqual(got.msg.subarray(0, RELAY_HEADER_LENGTH), encodeRelayHeader(c1.address, pub));
      assert.deepEqual(got.msg.subarray(RELAY_HEADER_LENGTH), check);
      await waitFor(() => made.length === 1, 2000, 'JS told of the flow');
      assert.equal(made[0].rinfo.port, c1.address.port);
      assert.equal(made[0].issuedAt, issuedAt);
      const flow = bound.index.get('127.0.0.1', c1.address.port, 0);
      assert.ok(flow);
      assert.equal(flow.ufrag, call.ufrag);
      assert.equal(flow.confirmed, false);
      assert.equal(`${flow.destAddress}:${flow.destPort}`, `127.0.0.2:${tx.address.port}`);
      await waitFor(() => o.stats[NATIVE_STATS_BASE + Slot.firstChecksInLoop] === 1, 2000, 'the counter published');

      // The same token from a second source, a forged tag and a revoked token: JS decides each; a new call's is made.
      const c2 = await client();
      c2.send(stunCheck(call.ufrag, call.pwd), pub);
      const c3 = await client();
      c3.send(stunCheck(`${call.ufrag.slice(0, -1)}${call.ufrag.endsWith('A') ? 'B' : 'A'}`, call.pwd), pub);
      await waitFor(() => events.length === 3, 2000, 'two misses');
      const revoked = mintFor(tx.address, o.now[0]);
      dp.revokeToken(revoked.ufrag);
      dp.revokeToken('not-a-token'); // ignored: it could never open
      const c4 = await client();
      c4.send(stunCheck(revoked.ufrag, revoked.pwd), pub);
      await waitFor(() => events.length === 4, 2000, 'the check of a revoked token');
      const other = mintFor(tx.address, o.now[0]);
      const c5 = await client();
      c5.send(stunCheck(other.ufrag, other.pwd), pub);
      await waitFor(() => events.length === 5, 2000, 'a new call, another token revoked');
      assert.deepEqual(events, [
        `made ${c1.address.port}`,
        `miss ${c2.address.port}`,
        `miss ${c3.address.port}`,
        `miss ${c4.address.port}`,
        `made ${c5.address.port}`,
      ]);
      // A flow JS installs holds its token too: no second flow of it in the loop.
      const third = mintFor(tx.address, o.now[0]);
      bound.index.insert(
        { client: v4('127.0.0.1', 9), publicIndex: 0, public: pub, dest: tx.address, ufrag: third.ufrag, confirmed: false },
        o.now[0],
      );
      const c6 = await client();
      c6.send(stunCheck(third.ufrag, third.pwd), pub);
      await waitFor(() => events.length === 6, 2000, 'the check of a token JS holds');
      assert.equal(events[5], `miss ${c6.address.port}`);
      assert.equal(o.stats[NATIVE_STATS_BASE + Slot.firstChecksInLoop], 2);
    } finally {
      await dp.close();
      await Promise.all(sockets.map((s) => s.close()));
    }
  },
);

test(
  'native datapath: the loop verifies at most its crypto budget of first checks, whatever their sources; JS decides the rest',
  { skip, timeout: 30_000 },
  async () => {
    const addon = loadNativeAddon();
    if (addon instanceof Error) throw addon;
    const o = options({ transceiverCidrs: CidrSet.parse('127.0.0.2/32') });
    o.now[0] = Date.now(); // tokens carry Unix times; the loop's clock stays here, so the budget does not refill
    const dp = new NativeDatapath(o);
    const events: string[] = [];
    const sockets: TestSocket[] = [];
    try {
      const bound = await dp.bind({
        onClientMiss: (_m, rinfo) => events.push(`miss ${rinfo.port}`),
        onFirstFlowMade: (_m, rinfo) => events.push(`made ${rinfo.port}`),
        onSocketError: () => {},
      });
      const pub = bound.publics[0];
      // Each source may open 100 flows at once: only the loop's own budget (3) stops it.
      checksInLoop(dp, addon, { ratePerSecond: 100, burst: 100, checksPerSecond: 3 });
      const tx = await openSocket('127.0.0.2');
      sockets.push(tx);
      const ports: number[] = [];
      for (let i = 0; i < 6; i++) {
        const call = mintFor(tx.address, o.now[0]);
        const c = await openSocket('127.0.0.1');
        sockets.push(c);
        ports.push(c.address.port);
        c.send(stunCheck(call.ufrag, call.pwd), pub);
        await waitFor(() => events.length === i + 1, 2000, `check ${i + 1} decided`);
      }
      assert.deepEqual(events, [...ports.slice(0, 3).map((p) => `made ${p}`), ...ports.slice(3).map((p) => `miss ${p}`)]);
      await waitFor(() => o.stats[NATIVE_STATS_BASE + Slot.firstChecksInLoop] === 3, 2000, 'the counter published');
    } finally {
      await dp.close();
      await Promise.all(sockets.map((s) => s.close()));
    }
  },
);
