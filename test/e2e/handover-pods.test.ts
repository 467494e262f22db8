// Relay replaced by a pod with ANOTHER address behind the same load balancer. A stand-in
// LoadBalancer (a UDP forwarder on 127.0.0.1 owned by this test: one upstream socket per
// client, like a NAT) sends a `parley call` to relay #1 (bound 127.0.0.2, "pod 1"); mid-call it
// switches to relay #2 (bound 127.0.0.3, "pod 2") and pod 1 is killed. With `--listen
// POD=LB` both relays key flow records by the LB address, so pod 2 finds the flow in Redis on
// the first packet; without it, pod 2 looks under its own address, finds nothing, and the
// media is lost until the client's next consent check (~5 s) makes a new flow.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import type { RemoteInfo, Socket } from 'node:dgram';
import { formatAddress } from '../../src/core/address.ts';
import type { TransportAddress } from '../../src/core/address.ts';
import { runCall } from './helpers.ts';
import type { RelayProc } from './failover-helpers.ts';
import { REDIS, redisPrefix, startProc, startTransceiver, stopAll } from './failover-helpers.ts';
import { waitFor as until } from '../support/wait-for.ts';
import { parseAddress } from '../../src/core/address.ts';

const cleanups: (() => Promise<void>)[] = [];
after(async () => {
  await stopAll();
  for (const c of cleanups) await c();
});

/** A UDP "load balancer": clients → one backend (switchable); replies come back from the LB address. */
class StandInLb {
  readonly socket: Socket;
  backend: TransportAddress | undefined;
  readonly #up = new Map<string, Socket>();

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('message', (msg, from) => this.#fromClient(msg, from));
  }

  static async start(): Promise<StandInLb> {
    const s = dgram.createSocket('udp4');
    await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
    return new StandInLb(s);
  }

  get address(): TransportAddress {
    const a = this.socket.address();
    return { address: a.address, port: a.port, family: 'IPv4' };
  }

  #fromClient(msg: Buffer, from: RemoteInfo): void {
    const key = `${from.address}:${from.port}`;
    let up = this.#up.get(key);
    if (!up) {
      const s = dgram.createSocket('udp4');
      s.bind(0, '127.0.0.1');
      s.on('message', (reply) => this.socket.send(reply, from.port, from.address));
      this.#up.set(key, s);
      up = s;
    }
    if (this.backend) up.send(msg, this.backend.port, this.backend.address);
  }

  close(): void {
    for (const s of this.#up.values()) s.close();
    this.socket.close();
  }
}

async function relay(listen: string, prefix: string): Promise<RelayProc> {
  const p = startProc(
    [
      'relay',
      '--listen',
      listen,
      '--internal',
      '127.0.0.1:0',
      '--http',
      '127.0.0.1:0',
      '--workers',
      '1',
      '--pin',
      'off',
      '--redis',
      REDIS,
      '--redis-prefix',
      `${prefix}flow:`,
      '--heartbeat-prefix',
      `${prefix}hb:`,
    ],
    { PARLEY_DATAPATH: process.env.PARLEY_TEST_DATAPATH ?? 'js' },
  );
  const ready = await p.line('relay ready');
  return { ...p, public: parseAddress((ready.public as string[])[0])!, http: `http://${ready.http as string}` };
}

async function podSwap(translated: boolean): Promise<{ lost: number; sent: number }> {
  const run = redisPrefix();
  cleanups.push(run.cleanup);
  const lb = await StandInLb.start();
  cleanups.push(async () => lb.close());
  const lbText = formatAddress(lb.address);
  const [p1, p2] = [await freeUdp('127.0.0.2'), await freeUdp('127.0.0.3')];
  const suffix = translated ? `=${lbText}` : '';
  const pod1 = await relay(`127.0.0.2:${p1}${suffix}`, run.prefix);
  const pod2 = await relay(`127.0.0.3:${p2}${suffix}`, run.prefix);
  lb.backend = pod1.public;
  const trx = await startTransceiver(['--relays', lbText]);
  const created = trx.lines.length;
  const done = runCall(`${trx.base}/v1/realtime/calls`, ['--seconds', '8', '--tone', '440'], 60_000);
  await until(() => trx.lines.slice(created).find((l) => l.includes('"msg":"call connected"')), 15_000, 'call connected');
  await new Promise((r) => setTimeout(r, 2500));
  lb.backend = pod2.public;
  pod1.child.kill('SIGKILL');
  const result = await done;
  assert.equal(result.code, 0, JSON.stringify(result.summary));
  const st = result.summary.stats as { packetsSent: number; packetsReceived: number };
  return { lost: st.packetsSent - st.packetsReceived, sent: st.packetsSent };
}

async function freeUdp(host: string): Promise<number> {
  const s = dgram.createSocket('udp4');
  await new Promise<void>((r) => s.bind(0, host, r));
  const port = s.address().port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

test(
  '--listen POD=LB: a replacement pod behind the same LB finds the flow at once; without it the media waits for a consent check',
  { timeout: 120_000 },
  async (t) => {
    const withAlias = await podSwap(true);
    const without = await podSwap(false);
    t.diagnostic(
      `pod swap, records keyed by the LB address: lost ${withAlias.lost} of ${withAlias.sent}; keyed by the pod address: lost ${without.lost} of ${without.sent}`,
    );
    console.log(
      `# pod swap loss: --listen POD=LB ${withAlias.lost} packets, plain --listen ${without.lost} packets (round trip, 50 packets/s)`,
    );
    assert.ok(withAlias.lost < 10, `lost ${withAlias.lost} with the LB-keyed store`);
    assert.ok(without.lost > withAlias.lost, 'keying by the pod address loses more');
  },
);
