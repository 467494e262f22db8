// Relay hand-over on one machine: a `parley call` sends 50 packets/s through relay #1 (Redis
// flow store); relay #2 starts on the same public and internal ports (SO_REUSEPORT) while #1
// runs, then #1 gets SIGTERM — it stops reading (closes its sockets, so the kernel gives every
// datagram to #2) and flushes its store writes; #2 has the flow from its start-up bulk load or
// finds it by a store lookup on the first packet. Counts the packets lost on the way (round trip
// through the echo handler, and per direction) and requires fewer than 10.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { freeUdpPort } from '../../src/client/free-port.ts';
import type { CallInfo } from '../../src/transceiver/calls/call-types.ts';
import { runCall } from './helpers.ts';
import type { RelayProc, TransceiverProc } from './failover-helpers.ts';
import { redisPrefix, startRelay, startTransceiver, stopAll } from './failover-helpers.ts';
import { waitFor as until } from '../support/wait-for.ts';

const run = redisPrefix();
let relay1: RelayProc;
let trx: TransceiverProc;
let listen: string;
let internal: string;

before(async () => {
  listen = `127.0.0.1:${await freeUdpPort()}`;
  internal = `127.0.0.1:${await freeUdpPort()}`;
  relay1 = await startRelay({ listen, internal, location: 'a', prefix: run.prefix });
  trx = await startTransceiver(['--relays', listen]);
});

after(async () => {
  await stopAll();
  await run.cleanup();
});

test(
  'replacing the relay process mid-call (SO_REUSEPORT + SIGTERM) loses fewer than 10 packets at 50 packets/s',
  { timeout: 90_000 },
  async (t) => {
    const created = trx.lines.length;
    const callDone = runCall(`${trx.base}/v1/realtime/calls`, ['--seconds', '8', '--tone', '440'], 60_000);
    const connected = await until(
      () => trx.lines.slice(created).find((l) => l.includes('"msg":"call connected"')),
      15_000,
      'call connected',
    );
    const id = (JSON.parse(connected) as { call: string }).call;
    await new Promise((r) => setTimeout(r, 2000));
    const relay2 = await startRelay({ listen, internal, location: 'a', prefix: run.prefix });
    const loaded = relay2.lines.find((l) => l.includes('loaded flows from the store'));
    await new Promise((r) => setTimeout(r, 500));
    relay1.child.kill('SIGTERM');
    const code1 = await relay1.exited();
    const result = await callDone;
    const info = (await (await fetch(`${trx.base}/v1/realtime/calls/${id}`)).json()) as CallInfo;
    const st = result.summary.stats as { packetsSent: number; packetsReceived: number; packetsLost: number; framesSkipped: number };
    const roundTrip = st.packetsSent - st.packetsReceived;
    t.diagnostic(`relay #2 ${loaded ?? '(no bulk-load line)'}`);
    t.diagnostic(
      `hand-over: client sent ${st.packetsSent} (skipped ${st.framesSkipped} in stalls), got back ${st.packetsReceived} (round-trip loss ${roundTrip}); ` +
        `transceiver received ${info.stats.packetsReceived}, client→server loss ${info.stats.packetsLost}, server→client loss ${st.packetsLost}`,
    );
    console.log(
      `# hand-over round-trip loss: ${roundTrip} of ${st.packetsSent} packets (client→server ${info.stats.packetsLost}, server→client ${st.packetsLost})`,
    );
    assert.equal(code1, 0, `relay #1 exits 0 on SIGTERM:\n${relay1.lines.join('\n')}`);
    assert.equal(result.code, 0, `parley call: ${JSON.stringify(result.summary)}\n${result.stderr}`);
    assert.ok(relay2.child.exitCode === null, 'relay #2 keeps running');
    // A stalled client skips frames rather than bursting (framesSkipped); loss is counted on what was sent.
    assert.ok(st.packetsSent >= 200, `sent ${st.packetsSent} (skipped ${st.framesSkipped})`);
    assert.ok(roundTrip < 10, `lost ${roundTrip} packets round trip`);
    // Relay #2 carried the end of the call: its counters show forwarded packets.
    const metrics = await (await fetch(`${relay2.http}/metrics`)).text();
    const forwarded = /^parley_relay_packets_total\{direction="to_transceiver"\} (\d+)/m.exec(metrics);
    t.diagnostic(`relay #2 forwarded to the transceiver: ${forwarded?.[1] ?? '?'}`);
    assert.ok(Number(forwarded?.[1]) >= 100, 'relay #2 carried the rest of the call');
  },
);
