// Manual load check (not run by `node --test`): N concurrent echo calls against an in-process
// transceiver through a minimal stand-in relay (one public socket, one internal socket,
// forwarding by client address with the relay header), each caller on its own UDP socket.
// Prints setup time, echo completeness, the endpoint's counters and CPU use.
//   node_modules/.bin/node test/transceiver/load/echo-calls.ts [calls=100] [frames=150]
import { createSocket } from 'node:dgram';
import { performance } from 'node:perf_hooks';
import { decodeRelayHeader, encodeRelayHeader, RELAY_HEADER_LENGTH } from '../../../src/contracts/relay-header.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring } from '../../../src/core/token/index.ts';
import { CidrSet } from '../../../src/core/cidr.ts';
import { defaultHandlers } from '../../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../../src/transceiver/transceiver.ts';
import { UdpCaller, offerFor, readAnswer } from '../helpers/udp-caller.ts';
import { waitFor } from '../../support/wait-for.ts';

const calls = Number(process.argv[2] ?? 100);
const frames = Number(process.argv[3] ?? 150);
const loopback = { address: '127.0.0.1', port: 0, family: 'IPv4' as const };

const big = { type: 'udp4' as const, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 };
const pub = createSocket(big);
const internal = createSocket(big);
await new Promise<void>((r) => pub.bind(0, '127.0.0.1', r));
await new Promise<void>((r) => internal.bind(0, '127.0.0.1', r));
const relay = { ...loopback, port: pub.address().port };
const trx = await startTransceiver({
  http: loopback, media: loopback, relays: [relay], relayCidrs: CidrSet.parse('127.0.0.1/32'),
  keyring: Keyring.generate(seededRng('load')), maxSessions: calls, maxCallSeconds: 600, handler: 'echo', handlers: defaultHandlers(),
});
pub.on('message', (m, r) => {
  internal.send([encodeRelayHeader({ address: r.address, port: r.port, family: 'IPv4' }, relay), m], trx.mediaAddress.port, '127.0.0.1');
});
internal.on('message', (m) => {
  const h = decodeRelayHeader(m);
  if (h) pub.send(m.subarray(RELAY_HEADER_LENGTH), h.client.port, h.client.address);
});

const callers: UdpCaller[] = [];
const t0 = performance.now();
await Promise.all(Array.from({ length: calls }, async (_, i) => {
  const c = await UdpCaller.create(`load-${i}`, relay);
  callers.push(c);
  const res = await fetch(`http://127.0.0.1:${trx.httpAddress.port}/v1/realtime/calls`, {
    method: 'POST', body: offerFor(c.caller), headers: { 'content-type': 'application/sdp' },
  });
  c.start(readAnswer(await res.text()));
}));
await waitFor(() => callers.every((c) => c.caller.connected), 60_000, 'all calls connected');
console.log(`${calls} calls connected in ${(performance.now() - t0).toFixed(0)} ms`);

const cpu0 = process.cpuUsage();
const t1 = performance.now();
await Promise.all(callers.map((c) => c.talk(frames)));
await waitFor(() => callers.every((c) => c.caller.received.length >= frames), 5000, 'every echo').catch((e: Error) => console.log(e.message));
const wall = performance.now() - t1;
const cpu = process.cpuUsage(cpu0);
const got = callers.map((c) => c.caller.received.length);
console.log(`echo: ${Math.min(...got)}..${Math.max(...got)} of ${frames} frames per call in ${(wall / 1000).toFixed(1)} s; ` +
  `CPU ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0)}% of one core for callers + stand-in relay + transceiver`);
const metrics = await (await fetch(`http://127.0.0.1:${trx.httpAddress.port}/metrics`)).text();
console.log(metrics.split('\n').filter((l) => /^parley_transceiver_(drops|packets|send_errors|sessions)/.test(l)).join('\n'));
for (const c of callers) await c.close();
await trx.close();
pub.close();
internal.close();
