// Manual load check (not run by `node --test`): N concurrent echo calls of our own client
// (`parley load`'s runLoad: one UdpCallDriver, a socket per call) against an in-process
// transceiver through a minimal stand-in relay (one public socket, one internal socket,
// forwarding by client address with the relay header). Prints the load report, the endpoint's
// counters and the CPU of the whole process (callers + stand-in relay + transceiver).
//   node_modules/.bin/node test/transceiver/load/echo-calls.ts [calls=100] [seconds=3]
import { createSocket } from 'node:dgram';
import { decodeRelayHeader, encodeRelayHeader, RELAY_HEADER_LENGTH } from '../../../src/contracts/relay-header.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { Keyring } from '../../../src/core/token/index.ts';
import { CidrSet } from '../../../src/core/cidr.ts';
import { encodeTone } from '../../../src/client/audio.ts';
import { createCoreAgents } from '../../../src/client/core-agents.ts';
import { runLoad } from '../../../src/client/load.ts';
import { defaultHandlers } from '../../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../../src/transceiver/transceiver.ts';

const calls = Number(process.argv[2] ?? 100);
const seconds = Number(process.argv[3] ?? 3);
const loopback = { address: '127.0.0.1', port: 0, family: 'IPv4' as const };

const big = { type: 'udp4' as const, recvBufferSize: 4 << 20, sendBufferSize: 4 << 20 };
const pub = createSocket(big);
const internal = createSocket(big);
await new Promise<void>((r) => pub.bind(0, '127.0.0.1', r));
await new Promise<void>((r) => internal.bind(0, '127.0.0.1', r));
const relay = { ...loopback, port: pub.address().port };
const trx = await startTransceiver({
  http: loopback,
  media: loopback,
  relays: [relay],
  relayCidrs: CidrSet.parse('127.0.0.1/32'),
  keyring: Keyring.generate(seededRng('load')),
  maxSessions: calls,
  maxCallSeconds: 600,
  handler: 'echo',
  handlers: defaultHandlers(),
});
pub.on('message', (m, r) => {
  internal.send([encodeRelayHeader({ address: r.address, port: r.port, family: 'IPv4' }, relay), m], trx.mediaAddress.port, '127.0.0.1');
});
internal.on('message', (m) => {
  const h = decodeRelayHeader(m);
  if (h) pub.send(m.subarray(RELAY_HEADER_LENGTH), h.client.port, h.client.address);
});

const cpu0 = process.cpuUsage();
const t0 = performance.now();
const report = await runLoad({
  url: `http://127.0.0.1:${trx.httpAddress.port}/v1/realtime/calls`,
  rng: seededRng('load-calls'),
  agents: createCoreAgents(seededRng('load-cert')),
  frames: encodeTone(440, 1),
  calls,
  seconds,
  rampPerSec: calls,
  candidateHost: '127.0.0.1',
  bindHost: '127.0.0.1',
});
const wall = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
console.log(JSON.stringify(report, null, 2));
console.log(`CPU ${(((cpu.user + cpu.system) / 1000 / wall) * 100).toFixed(0)}% of one core for callers + stand-in relay + transceiver`);
const metrics = await (await fetch(`http://127.0.0.1:${trx.opsAddress.port}/metrics`)).text();
console.log(
  metrics
    .split('\n')
    .filter((l) => /^parley_transceiver_(drops|packets|send_errors|sessions)/.test(l))
    .join('\n'),
);
await trx.close();
pub.close();
internal.close();
