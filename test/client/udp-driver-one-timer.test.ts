// UdpCallDriver over real UDP sockets on 127.0.0.1: ten ClientCalls, each on its own socket,
// against ten in-memory echo servers sharing one socket, all connect and get their audio back,
// while the driver never holds more than ONE pending timer (STYLE.md rule 3) — the property
// that lets `parley load` run hundreds of calls from one process. Everything is closed after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createSocket } from 'node:dgram';
import { seededRng } from '../../src/core/rng.ts';
import { formatAddress } from '../../src/core/address.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { encodeTone } from '../../src/client/audio.ts';
import { UdpCallDriver } from '../../src/client/udp-driver.ts';
import { LoopbackServer } from './loopback-server.ts';

const CALLS = 10;

test('ten calls over real sockets share one driver timer and all hear their echo', { timeout: 30_000 }, async () => {
  // The servers' shell: one socket; each client address maps to its server after the first packet.
  const serverSocket = createSocket('udp4');
  await new Promise<void>((r) => serverSocket.bind({ address: '127.0.0.1', port: 0 }, () => r()));
  const serverAddress: TransportAddress = { address: '127.0.0.1', port: serverSocket.address().port, family: 'IPv4' };
  const servers: LoopbackServer[] = [];
  const byClient = new Map<string, LoopbackServer>();
  const pendingByUfrag = new Map<string, LoopbackServer>();
  const flush = (s: LoopbackServer): void => {
    for (let t = s.pollTransmit(); t; t = s.pollTransmit()) serverSocket.send(t.data, t.to.port, t.to.address);
  };
  serverSocket.on('message', (msg, rinfo) => {
    const from: TransportAddress = { address: rinfo.address, port: rinfo.port, family: 'IPv4' };
    let s = byClient.get(formatAddress(from));
    if (!s) {
      // First packet of a client: its STUN USERNAME names the server ("serverUfrag:clientUfrag").
      const text = msg.toString('latin1');
      s = [...pendingByUfrag.entries()].find(([u]) => text.includes(u))?.[1];
      if (!s) return;
      byClient.set(formatAddress(from), s);
    }
    s.handle(msg, from, performance.now());
    flush(s);
  });
  const serverTick = setInterval(() => {
    for (const s of servers) {
      const t = s.pollTimeout();
      if (t !== undefined && t <= performance.now()) s.handleTimeout(performance.now());
      flush(s);
    }
  }, 10);

  // Count the driver's pending timers: the patch is installed after the servers' interval.
  const realSet = globalThis.setTimeout;
  const realClear = globalThis.clearTimeout;
  const pending = new Set<unknown>();
  let maxPending = 0;
  globalThis.setTimeout = ((fn: () => void, ms?: number) => {
    const h = realSet(() => {
      pending.delete(h);
      fn();
    }, ms);
    pending.add(h);
    maxPending = Math.max(maxPending, pending.size);
    return h;
  }) as typeof setTimeout;
  globalThis.clearTimeout = ((h: NodeJS.Timeout) => {
    pending.delete(h);
    realClear(h);
  }) as typeof clearTimeout;

  const driver = new UdpCallDriver();
  const agents = createCoreAgents(seededRng('driver-test'));
  const frames = encodeTone(440, 0.5);
  const done: Promise<void>[] = [];
  const calls: ClientCall[] = [];
  try {
    for (let i = 0; i < CALLS; i++) {
      const binding = await driver.bind('127.0.0.1');
      const call = new ClientCall({ rng: seededRng(`c${i}`), agents, localAddress: binding.address, frames, frameCount: 25 });
      const server = new LoopbackServer(`s${i}`);
      const answer = server.answer(call.offer).replace(/192\.0\.2\.10 3478/g, `127.0.0.1 ${serverAddress.port}`);
      servers.push(server);
      pendingByUfrag.set(/a=ice-ufrag:(\S+)/.exec(answer)![1], server);
      calls.push(call);
      done.push(new Promise((resolve, reject) => {
        binding.attach(call, (ev) => {
          if (ev.type === 'sending-done') realSet(() => resolve(), 200); // let the last echoes arrive
          if (ev.type === 'failed') reject(ev.error);
        });
      }));
      call.acceptAnswer(answer, driver.now());
      binding.poke();
    }
    await Promise.all(done);
  } finally {
    globalThis.setTimeout = realSet;
    globalThis.clearTimeout = realClear;
    for (const c of calls) c.close(driver.now());
    driver.close();
    clearInterval(serverTick);
    serverSocket.close();
  }
  assert.equal(maxPending, 1, 'the driver never holds more than one timer');
  for (const c of calls) {
    const s = c.stats();
    // Every frame is sent, or skipped when this shared machine stalls the process > 500 ms.
    assert.equal(s.packetsSent + s.framesSkipped, 25);
    assert.ok(s.packetsReceived >= 0.8 * s.packetsSent, `received ${s.packetsReceived} of ${s.packetsSent}`);
  }
  assert.equal(driver.size, 0);
});
