// UdpCallDriver over real UDP sockets on 127.0.0.1: ten ClientCalls, each on its own socket,
// through a real relay (startRelay, one worker) to a real transceiver (startTransceiver) in this
// process; all connect and get their audio back from the echo handler, while the driver never
// holds more than ONE pending timer (STYLE.md rule 3) — the property that lets `parley load`
// run hundreds of calls from one process. The driver's timers are counted on the Clock it is
// given. Everything is closed after.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { systemClock } from '../../src/common/clock.ts';
import type { Clock } from '../../src/common/clock.ts';
import { createLogger } from '../../src/common/log.ts';
import { seededRng } from '../../src/core/rng.ts';
import { Keyring } from '../../src/core/token/index.ts';
import { ClientCall } from '../../src/client/client-call.ts';
import { createCoreAgents } from '../../src/client/core-agents.ts';
import { encodeTone } from '../../src/client/audio.ts';
import { postOffer, deleteCall } from '../../src/client/signaling.ts';
import { UdpCallDriver } from '../../src/client/udp-driver.ts';
import { resolveRelayConfig } from '../../src/relay/config.ts';
import { startRelay } from '../../src/relay/relay.ts';
import { CidrSet } from '../../src/core/cidr.ts';
import { defaultHandlers } from '../../src/transceiver/handlers/registry.ts';
import { startTransceiver } from '../../src/transceiver/transceiver.ts';
import { TEST_MEDIA_IO } from '../transceiver/helpers/media-io.ts';

const CALLS = 10;

test('ten calls over real sockets share one driver timer and all hear their echo', { timeout: 60_000 }, async () => {
  const keys = Keyring.generate(seededRng('driver-test-keys')).toString();
  const log = createLogger({ level: 'silent', component: 'relay' });
  const relay = await startRelay(
    resolveRelayConfig(
      ['--listen', '127.0.0.1:0', '--internal', '127.0.0.1:0', '--http', '127.0.0.1:0', '--workers', '1', '--datapath', 'js'],
      { PARLEY_KEYS: keys },
    ),
    log,
  );
  const trx = await startTransceiver({
    http: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    media: { address: '127.0.0.1', port: 0, family: 'IPv4' },
    relays: relay.publics,
    relayCidrs: CidrSet.parse('127.0.0.1/32'),
    keyring: Keyring.parse(keys),
    maxSessions: CALLS,
    maxCallSeconds: 60,
    handler: 'echo',
    handlers: defaultHandlers(),
    rng: seededRng('driver-test-trx'),
    mediaIo: TEST_MEDIA_IO,
  });
  const url = `http://127.0.0.1:${trx.httpAddress.port}/v1/realtime/calls`;

  // The driver's one timer, counted: its clock is the system clock with a tally of pending timeouts.
  let pending = 0;
  let maxPending = 0;
  const counting: Clock = {
    ...systemClock,
    timeout(ms, fn, options) {
      pending++;
      maxPending = Math.max(maxPending, pending);
      let live = true;
      const settle = (): void => {
        if (live) pending--;
        live = false;
      };
      const t = systemClock.timeout(
        ms,
        () => {
          settle();
          fn();
        },
        options,
      );
      return { cancel: () => (settle(), t.cancel()) };
    },
  };
  const driver = new UdpCallDriver(counting);
  const agents = createCoreAgents(seededRng('driver-test'));
  const frames = encodeTone(440, 0.5);
  const done: Promise<void>[] = [];
  const calls: ClientCall[] = [];
  const locations: string[] = [];
  try {
    for (let i = 0; i < CALLS; i++) {
      const binding = await driver.bind('127.0.0.1');
      const call = new ClientCall({ rng: seededRng(`c${i}`), agents, localAddress: binding.address, frames, frameCount: 25 });
      calls.push(call);
      done.push(
        new Promise((resolve, reject) => {
          binding.attach(call, (ev) => {
            if (ev.type === 'sending-done') setTimeout(resolve, 200); // let the last echoes arrive
            if (ev.type === 'failed') reject(ev.error);
          });
        }),
      );
      const posted = await postOffer(url, call.offer);
      if (posted.location) locations.push(posted.location);
      call.acceptAnswer(posted.answer, driver.now());
      binding.poke();
    }
    await Promise.all(done);
  } finally {
    for (const c of calls) c.close(driver.now());
    driver.close();
    for (const l of locations) await deleteCall(l);
    await trx.close();
    await relay.stop();
  }
  assert.equal(maxPending, 1, 'the driver never holds more than one timer');
  assert.equal(pending, 0, 'and none after close()');
  for (const c of calls) {
    const s = c.stats();
    // Every frame is sent, or skipped when this shared machine stalls the process > 500 ms.
    assert.equal(s.packetsSent + s.framesSkipped, 25);
    assert.ok(s.packetsReceived >= 0.8 * s.packetsSent, `received ${s.packetsReceived} of ${s.packetsSent}`);
  }
  assert.equal(driver.size, 0);
});
