// The native media socket (native/src/media_socket.c through media-socket-native.ts) against real
// UDP sockets on 127.0.0.1: datagrams from several senders arrive whole, with their sender, in
// batches (one callback for many); sends queued in one pass leave with one flush, byte for byte,
// to the right destinations; oversize datagrams are dropped and counted while the socket keeps
// working; close is idempotent, flushes what is queued and is clean while senders keep sending;
// until media comes the JS thread reads the socket itself (no wake-up of the reader thread per
// STUN or DTLS datagram), media hands reading to the reader and a second without media hands it
// back, in order; a taken port rejects with Node's EADDRINUSE wording; a buffer beyond net.core.rmem_max is
// granted with CAP_NET_ADMIN (SO_RCVBUFFORCE) and capped with a warning without it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';
import { promisify } from 'node:util';
import type { Socket } from 'node:dgram';
import type { TransportAddress } from '../../src/core/address.ts';
import { MAX_MEDIA_DATAGRAM } from '../../src/transceiver/media/media-socket.ts';
import type { MediaPeer, MediaSocketOptions } from '../../src/transceiver/media/media-socket.ts';
import { NativeMediaSocket, loadMediaSocketAddon } from '../../src/transceiver/media/media-socket-native.ts';
import { waitFor } from '../support/wait-for.ts';

const skip = loadMediaSocketAddon() instanceof Error && process.env.CI !== 'true' ? 'the native media socket addon is not built' : false;
const LOCAL: TransportAddress = { address: '127.0.0.1', port: 0, family: 'IPv4' };
const execFileP = promisify(execFile);

interface Harness {
  readonly got: { msg: Buffer; from: MediaPeer }[];
  readonly counts: { tooLarge: number; sendErrors: number; batches: number };
}

async function open(
  o: Partial<MediaSocketOptions> & { batchUs?: number; urgentOffset?: number } = {},
): Promise<{ s: NativeMediaSocket } & Harness> {
  const got: Harness['got'] = [];
  const counts = { tooLarge: 0, sendErrors: 0, batches: 0 };
  const s = await NativeMediaSocket.bind({
    bind: LOCAL,
    bufferBytes: 1 << 20,
    batchUs: o.batchUs ?? 2000,
    urgentOffset: o.urgentOffset,
    // A copy: the socket's datagram is a view valid during the callback only.
    onDatagram: o.onDatagram ?? ((msg, from) => got.push({ msg: Buffer.from(msg), from })),
    onTooLarge: (n) => (counts.tooLarge += n),
    onSendError: (n) => (counts.sendErrors += n),
  });
  return { s, got, counts };
}

async function udp(): Promise<Socket & { inbox: Buffer[] }> {
  const sock = createSocket('udp4') as Socket & { inbox: Buffer[] };
  sock.inbox = [];
  sock.on('message', (m) => sock.inbox.push(m));
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  return sock;
}

const closeUdp = (s: Socket): Promise<void> => new Promise((r) => s.close(() => r()));

test('receives whole datagrams from several senders, in batches, with their sender', { skip, timeout: 20_000 }, async () => {
  const { s, got } = await open();
  const a = await udp();
  const b = await udp();
  try {
    const sent: string[] = [];
    for (let i = 0; i < 40; i++) {
      const from = i % 2 === 0 ? a : b;
      const body = Buffer.alloc(100 + i, i);
      sent.push(`${from.address().port}:${body.toString('hex')}`);
      from.send(body, s.address.port, '127.0.0.1');
    }
    await waitFor(() => got.length === 40, 5000, '40 datagrams');
    for (const g of got) assert.equal(g.from.socket.address, '127.0.0.1');
    assert.deepEqual(got.map((g) => `${g.from.socket.port}:${g.msg.toString('hex')}`).sort(), sent.sort());
    // Every datagram of a sender shares one peer object (the endpoint caches per peer).
    const peers = new Set(got.map((g) => g.from));
    assert.equal(peers.size, 2);
    // Sent in one burst, they arrive within one batch window: far fewer deliveries than datagrams.
    assert.ok(s.batches < 40, `40 datagrams came in ${s.batches} deliveries`);
  } finally {
    await s.close();
    await closeUdp(a);
    await closeUdp(b);
  }
});

test('a datagram that is not media ends the batch window at once; media waits it out', { skip, timeout: 20_000 }, async () => {
  // urgentOffset 2: the byte after a 2-byte "header" is demultiplexed as RFC 7983 does (< 128: STUN,
  // DTLS…; 128–191: RTP/RTCP). A 100 ms window and 15 ms gaps: only the urgency splits batches.
  const delivered: { tag: string; batch: number }[] = [];
  const s = await NativeMediaSocket.bind({
    bind: LOCAL,
    bufferBytes: 1 << 20,
    batchUs: 100_000,
    urgentOffset: 2,
    onDatagram: (msg) => delivered.push({ tag: msg.subarray(3).toString(), batch: s.batches }),
    onTooLarge: () => {},
    onSendError: () => {},
  });
  const a = await udp();
  const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
  const send = (tag: string, kind: number): void =>
    void a.send(Buffer.concat([Buffer.from([0, 0, kind]), Buffer.from(tag)]), s.address.port, '127.0.0.1');
  const batchOf = (tag: string): number => delivered.find((d) => d.tag === tag)!.batch;
  try {
    send('m1', 0x80);
    await pause(15);
    send('m2', 0x90);
    await waitFor(() => delivered.length === 2, 5000, 'm1, m2');
    assert.equal(batchOf('m1'), batchOf('m2'), 'media within the window share a batch');

    send('m3', 0x80);
    await pause(15);
    send('u1', 0x16); // DTLS
    await pause(15);
    send('m4', 0x80);
    await waitFor(() => delivered.length === 5, 5000, 'm3, u1, m4');
    assert.equal(batchOf('m3'), batchOf('u1'), 'the urgent datagram joins the open batch…');
    assert.ok(batchOf('m4') > batchOf('u1'), '…and ends it: later media goes in the next batch');

    send('u2', 0x00); // STUN, first of its batch
    await pause(15);
    send('m5', 0x80);
    await waitFor(() => delivered.length === 7, 5000, 'u2, m5');
    assert.ok(batchOf('m5') > batchOf('u2'), 'an urgent first datagram does not wait at all');

    // Too short to have a byte at the offset: media-like, it waits.
    a.send(Buffer.from([0, 0]), s.address.port, '127.0.0.1');
    await pause(15);
    send('m6', 0x80);
    await waitFor(() => delivered.length === 9, 5000, 'short, m6');
    assert.equal(delivered[7].batch, batchOf('m6'));
  } finally {
    await s.close();
    await closeUdp(a);
  }
});

/** The reader thread's voluntary context switches so far: each time it slept and was woken. */
function readerWakeUps(s: NativeMediaSocket): number {
  const status = readFileSync(`/proc/self/task/${s.tid}/status`, 'utf8');
  return Number(/^voluntary_ctxt_switches:\s*(\d+)$/m.exec(status)![1]);
}

test(
  'until media comes the JS thread reads (the reader thread sleeps); media moves reading to the reader, 1 s without media moves it back; order is kept',
  { skip, timeout: 20_000 },
  async () => {
    const delivered: string[] = [];
    const { s } = await open({ urgentOffset: 2, onDatagram: (msg) => delivered.push(msg.subarray(3).toString()) });
    const a = await udp();
    const pause = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
    const sent: string[] = [];
    const send = (tag: string, kind: number): void => {
      sent.push(tag);
      a.send(Buffer.concat([Buffer.from([0, 0, kind]), Buffer.from(tag)]), s.address.port, '127.0.0.1');
    };
    /** 20 DTLS-like datagrams 5 ms apart, each delivered before the next is sent; the reader's wake-ups meanwhile. */
    const urgentRoundTrips = async (prefix: string): Promise<number> => {
      const before = readerWakeUps(s);
      for (let i = 0; i < 20; i++) {
        send(`${prefix}${i}`, 0x16);
        await waitFor(() => delivered.length === sent.length, 5000, `${prefix}${i}`);
        await pause(5);
      }
      return readerWakeUps(s) - before;
    };
    try {
      await pause(200); // the reader thread has started and parked
      const idle = await urgentRoundTrips('a');
      assert.ok(idle <= 2, `no media yet: the JS thread reads, the reader slept through 20 datagrams (${idle} wake-ups)`);

      send('m1', 0x80); // media: the reader takes over, with m1's batch
      const reading = await urgentRoundTrips('b');
      assert.ok(reading >= 10, `after media the reader thread reads: ${reading} wake-ups for 20 datagrams`);

      await pause(1400); // 1 s without media: the JS thread reads again
      const back = await urgentRoundTrips('c');
      assert.ok(back <= 2, `1 s without media: the reader sleeps again (${back} wake-ups)`);

      // A burst across a switch: media then DTLS then media, sent at once, arrive whole and in order.
      for (let i = 0; i < 30; i++) send(`d${i}`, i % 3 === 0 ? 0x80 : 0x16);
      await waitFor(() => delivered.length === sent.length, 5000, 'the burst');
      assert.deepEqual(delivered, sent);
    } finally {
      await s.close();
      await closeUdp(a);
    }
  },
);

test(
  'a handler that throws while the JS thread reads is an uncaught exception (as with node:dgram), not swallowed',
  { skip, timeout: 20_000 },
  async () => {
    const script = `
    import { createSocket } from 'node:dgram';
    import { NativeMediaSocket } from ${JSON.stringify(new URL('../../src/transceiver/media/media-socket-native.ts', import.meta.url).pathname)};
    process.on('uncaughtException', (e) => { console.log('uncaught ' + e.message); process.exit(0); });
    const s = await NativeMediaSocket.bind({ bind: { address: '127.0.0.1', port: 0, family: 'IPv4' }, bufferBytes: 1 << 20, batchUs: 2000,
      urgentOffset: 0, onDatagram() { throw new Error('from the handler'); }, onTooLarge() {}, onSendError() {} });
    const u = createSocket('udp4');
    u.send(Buffer.from([0x16, 0xfe, 0xfd]), s.address.port, '127.0.0.1');
    setTimeout(() => { console.log('nothing'); process.exit(1); }, 3000);`;
    const { stdout } = await execFileP(process.execPath, ['--input-type=module', '-e', script], { timeout: 15_000 });
    assert.equal(stdout.trim(), 'uncaught from the handler');
  },
);

test(
  'a reply to the MediaPeer a datagram came from reaches that sender (address and port), for several senders',
  { skip, timeout: 20_000 },
  async () => {
    // The socket keeps each new IPv4 sender's send destination from the bytes it came with; the
    // senders differ in address (127.0.0.1, 127.0.0.2: both loopback) and in port.
    const holder: { s?: NativeMediaSocket } = {};
    const opened = await open({
      urgentOffset: 0,
      onDatagram: (msg, from) => holder.s!.send(Buffer.from('re:'), Buffer.from(msg), from.socket),
    });
    const s = (holder.s = opened.s);
    const senders: (Socket & { inbox: Buffer[] })[] = [];
    for (const address of ['127.0.0.1', '127.0.0.2', '127.0.0.1', '127.0.0.2']) {
      const sock = createSocket('udp4') as Socket & { inbox: Buffer[] };
      sock.inbox = [];
      sock.on('message', (m) => sock.inbox.push(m));
      await new Promise<void>((r) => sock.bind(0, address, r));
      senders.push(sock);
    }
    try {
      for (let round = 0; round < 2; round++) senders.forEach((u, i) => u.send(Buffer.from([0x16, round, i]), s.address.port, '127.0.0.1'));
      await waitFor(() => senders.every((u) => u.inbox.length === 2), 5000, 'a reply to each datagram');
      senders.forEach((u, i) => {
        for (let round = 0; round < 2; round++) assert.deepEqual(u.inbox[round], Buffer.from([...Buffer.from('re:'), 0x16, round, i]));
      });
      assert.equal(opened.counts.sendErrors, 0);
    } finally {
      await s.close();
      for (const u of senders) await closeUdp(u);
    }
  },
);

test('sends queued in one pass leave together, header + payload, to each destination', { skip, timeout: 20_000 }, async () => {
  const { s, counts } = await open();
  const a = await udp();
  const b = await udp();
  try {
    const to = (x: Socket): TransportAddress => ({ address: '127.0.0.1', port: x.address().port, family: 'IPv4' });
    const header = Buffer.from('0123456789012345678901234567890123456789');
    for (let i = 0; i < 300; i++) s.send(header, Buffer.alloc(i + 1, i), to(i % 3 === 0 ? a : b)); // > one flush (256)
    s.flush();
    await waitFor(() => a.inbox.length + b.inbox.length === 300, 5000, '300 datagrams');
    assert.equal(a.inbox.length, 100);
    for (const m of [...a.inbox, ...b.inbox]) {
      assert.deepEqual(m.subarray(0, 40), header);
      const n = m.length - 40;
      assert.ok(m.subarray(40).every((x) => x === ((n - 1) & 0xff)));
    }
    // Without a flush, a microtask sends what this turn queued.
    s.send(header, Buffer.from('later'), to(a));
    await waitFor(() => a.inbox.length === 101, 5000, 'the microtask flush');
    assert.equal(a.inbox[100].subarray(40).toString(), 'later');
    assert.equal(counts.sendErrors, 0);
  } finally {
    await s.close();
    await closeUdp(a);
    await closeUdp(b);
  }
});

test('oversize datagrams are dropped and counted; the socket keeps working', { skip, timeout: 20_000 }, async () => {
  const { s, got, counts } = await open({ batchUs: 0 });
  const a = await udp();
  try {
    a.send(Buffer.alloc(MAX_MEDIA_DATAGRAM + 1), s.address.port, '127.0.0.1');
    a.send(Buffer.alloc(60_000), s.address.port, '127.0.0.1');
    a.send(Buffer.alloc(MAX_MEDIA_DATAGRAM, 7), s.address.port, '127.0.0.1');
    a.send(Buffer.alloc(0), s.address.port, '127.0.0.1');
    await waitFor(() => counts.tooLarge === 2 && got.length === 2, 5000, 'two drops and two datagrams');
    assert.equal(got[0].msg.length, MAX_MEDIA_DATAGRAM);
    assert.ok(got[0].msg.every((x) => x === 7));
    assert.equal(got[1].msg.length, 0);
  } finally {
    await s.close();
    await closeUdp(a);
  }
});

// The flood's datagrams are zeros: with urgentOffset 0 they are not media, so the JS thread reads.
for (const [who, urgentOffset] of [
  ['the reader thread reads', undefined],
  ['the JS thread reads', 0],
] as const)
  test(
    `close while senders keep sending (${who}): clean, idempotent, queued sends leave first, later sends are ignored`,
    { skip, timeout: 20_000 },
    async () => {
      const { s, got } = await open({ batchUs: 500, urgentOffset });
      const a = await udp();
      const end = Date.now() + 3000;
      let stop = false;
      const flood = (async () => {
        while (!stop && Date.now() < end) {
          for (let i = 0; i < 50; i++) a.send(Buffer.alloc(200), s.address.port, '127.0.0.1');
          await new Promise((r) => setImmediate(r));
        }
      })();
      try {
        await waitFor(() => got.length > 100, 3000, 'traffic');
        const to: TransportAddress = { address: '127.0.0.1', port: a.address().port, family: 'IPv4' };
        s.send(Buffer.alloc(40), Buffer.from('last'), to);
        await Promise.all([s.close(), s.close()]);
        const after = got.length;
        s.send(Buffer.alloc(40), Buffer.from('after close'), to);
        s.flush();
        await new Promise((r) => setTimeout(r, 100));
        assert.equal(got.length, after, 'nothing is delivered after close');
        await waitFor(() => a.inbox.some((m) => m.subarray(40).toString() === 'last'), 2000, 'the send queued before close');
        assert.ok(!a.inbox.some((m) => m.subarray(40).toString() === 'after close'));
      } finally {
        stop = true;
        await flood;
        await s.close();
        await closeUdp(a);
      }
    },
  );

test('bind failure rejects with the address and EADDRINUSE', { skip, timeout: 20_000 }, async () => {
  const a = await udp();
  try {
    await assert.rejects(
      NativeMediaSocket.bind({
        bind: { ...LOCAL, port: a.address().port },
        bufferBytes: 1 << 20,
        batchUs: 0,
        onDatagram: () => {},
        onTooLarge: () => {},
        onSendError: () => {},
      }),
      (err: Error & { code?: string }) =>
        err.code === 'EADDRINUSE' && err.message.includes(`bind EADDRINUSE 127.0.0.1:${a.address().port}`),
    );
    await assert.rejects(
      NativeMediaSocket.bind({
        bind: { address: '192.0.2.1', port: 0, family: 'IPv4' },
        bufferBytes: 1 << 20,
        batchUs: 0,
        onDatagram: () => {},
        onTooLarge: () => {},
        onSendError: () => {},
      }),
      (err: Error & { code?: string }) => err.code === 'EADDRNOTAVAIL',
    );
  } finally {
    await closeUdp(a);
  }
});

/** Binds a native media socket in a child process (optionally without CAP_NET_ADMIN) asking for `bytes` of buffer; its warnings. */
async function bindInChild(bytes: number, dropNetAdmin: boolean): Promise<string[]> {
  const script = `
    import { NativeMediaSocket } from ${JSON.stringify(new URL('../../src/transceiver/media/media-socket-native.ts', import.meta.url).pathname)};
    const warnings = [];
    const log = { level: 'debug', warn: (m) => warnings.push(m), info() {}, error() {}, debug() {}, child: () => log };
    const s = await NativeMediaSocket.bind({ bind: { address: '127.0.0.1', port: 0, family: 'IPv4' }, bufferBytes: ${bytes}, batchUs: 0, log, onDatagram() {}, onTooLarge() {}, onSendError() {} });
    await s.close();
    console.log(JSON.stringify(warnings));`;
  const argv = [process.execPath, '--input-type=module', '-e', script];
  const { stdout } = await execFileP(
    dropNetAdmin ? 'setpriv' : argv[0],
    dropNetAdmin ? ['--bounding-set=-net_admin', '--inh-caps=-net_admin', ...argv] : argv.slice(1),
    { timeout: 15_000 },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as string[];
}

/** CAP_NET_ADMIN (bit 12) in this process's effective set: SO_RCVBUFFORCE works. */
function hasNetAdmin(): boolean {
  const line = /^CapEff:\s*([0-9a-f]+)$/m.exec(readFileSync('/proc/self/status', 'utf8'));
  return line !== null && (BigInt(`0x${line[1]}`) & (1n << 12n)) !== 0n;
}

test(
  'a buffer beyond net.core.rmem_max: granted with CAP_NET_ADMIN, capped and warned about without it',
  { skip, timeout: 40_000 },
  async (t) => {
    const rmemMax = Number(readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
    const wmemMax = Number(readFileSync('/proc/sys/net/core/wmem_max', 'utf8'));
    const ask = 2 * Math.max(rmemMax, wmemMax);
    const privileged = hasNetAdmin();
    t.diagnostic(`rmem_max ${rmemMax}, wmem_max ${wmemMax}, asking ${ask}, CAP_NET_ADMIN ${privileged}`);
    if (privileged) {
      assert.deepEqual(await bindInChild(ask, false), [], 'SO_RCVBUFFORCE / SO_SNDBUFFORCE give the whole buffer: no warning');
    } else if (process.env.CI === 'true') {
      assert.fail('CI runs as root: CAP_NET_ADMIN was expected');
    }
    const capped = await bindInChild(ask, privileged);
    assert.ok(
      capped.some((w) => w.includes('rmem_max')),
      `without CAP_NET_ADMIN the buffer is capped and warned about (${JSON.stringify(capped)})`,
    );
  },
);
