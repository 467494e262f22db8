// A relay listening on UDP and TCP and a transceiver advertising both, as real processes, for the
// ICE-TCP browser tests: `parley relay --listen HOST:0 --listen-tcp HOST:0` (one worker), then
// `parley transceiver --relays HOST:UDP --relays-tcp HOST:TCP` serving the demo page and the
// signaling API on HOST (the address a browser in a namespace reaches, netns.ts). No Redis: the
// relay's flow store is in memory. `restartRelay` kills the relay (SIGKILL: a crash) and starts
// it again on the same public UDP, public TCP and internal ports, for the restart measurement;
// `handOverRelay` starts the replacement first and then stops the old one (SO_REUSEPORT).
// Processes are stopped by `stop()` (and by failover-helpers' stopAll).
import { parseAddress } from '../../src/core/address.ts';
import { startProc, stopAll } from './failover-helpers.ts';
import type { Proc } from './failover-helpers.ts';
import { metricSum, stopProcess } from './helpers.ts';

export interface TcpStack {
  /** The relay's public UDP address, HOST:PORT. */
  readonly relayUdp: string;
  /** The relay's public TCP address, HOST:PORT. */
  readonly relayTcp: string;
  readonly relayMetrics: string;
  /** The demo page (http://HOST:PORT/). */
  readonly page: string;
  readonly signaling: string;
  readonly transceiverMetrics: string;
  /** A relay metric summed over label sets matching `labelFilter`. */
  relayMetric(name: string, labelFilter?: string): Promise<number>;
  /** SIGKILLs the relay and starts it again on the same ports; resolves once it is ready. */
  restartRelay(): Promise<void>;
  /** Hand-over: starts a second relay on the same ports, and once it is ready SIGTERMs the first; resolves when the first has exited. */
  handOverRelay(): Promise<void>;
  /** The relay's and transceiver's output, for failure messages. */
  log(): string;
  stop(): Promise<void>;
}

async function startRelayOn(
  listen: string,
  listenTcp: string,
  internal: string,
  http: string,
): Promise<{ proc: Proc; ready: Record<string, unknown> }> {
  const proc = startProc(
    ['relay', '--listen', listen, '--listen-tcp', listenTcp, '--internal', internal, '--http', http, '--workers', '1', '--pin', 'off'],
    { PARLEY_DATAPATH: process.env.PARLEY_TEST_DATAPATH ?? 'js' },
  );
  const ready = await proc.line('relay ready', 30_000);
  return { proc, ready };
}

/** Starts the relay and the transceiver on `host` (the relay's internal side and ops stay on loopback). */
export async function startTcpStack(host: string): Promise<TcpStack> {
  let relay = await startRelayOn(`${host}:0`, `${host}:0`, '127.0.0.1:0', '127.0.0.1:0');
  const relayUdp = (relay.ready.public as string[])[0];
  const relayTcp = (relay.ready.tcp as string[])[0];
  const internal = (relay.ready.internal as string[])[0];
  const http = relay.ready.http as string;
  const trx = startProc(
    [
      'transceiver',
      '--http',
      `${host}:0`,
      '--ops',
      '127.0.0.1:0',
      '--media',
      '127.0.0.1:0',
      '--relays',
      relayUdp,
      '--relays-tcp',
      relayTcp,
      '--demo-page',
      'on',
      '--no-auth',
      '--drain-seconds',
      '1',
    ],
    {},
  );
  const listening = await trx.line('listening', 30_000);
  const port = parseAddress(listening.http as string)!.port;
  const ops = parseAddress(listening.ops as string)!.port;
  let relayMetrics = `http://${http}/metrics`;
  return {
    relayUdp,
    relayTcp,
    get relayMetrics() {
      return relayMetrics;
    },
    page: `http://${host}:${port}/`,
    signaling: `http://${host}:${port}/v1/realtime/calls`,
    transceiverMetrics: `http://127.0.0.1:${ops}/metrics`,
    relayMetric: (name, labelFilter = '') => metricSum(relayMetrics, name, labelFilter),
    async restartRelay() {
      await stopProcess(relay.proc.child, 5_000, 'SIGKILL');
      relay = await startRelayOn(relayUdp, relayTcp, internal, http);
    },
    async handOverRelay() {
      const next = await startRelayOn(relayUdp, relayTcp, internal, '127.0.0.1:0');
      await stopProcess(relay.proc.child, 10_000, 'SIGTERM');
      relay = next;
      relayMetrics = `http://${next.ready.http as string}/metrics`;
    },
    log: () => `relay:\n${relay.proc.lines.join('\n')}\ntransceiver:\n${trx.lines.join('\n')}`,
    stop: stopAll,
  };
}
