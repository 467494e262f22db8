// Many calls from one process, for load tests (`parley load`): calls start at a fixed rate
// (--ramp-per-sec; a rate ≥ the call count starts them all at once, a reconnect storm), each
// sends the same pre-encoded Opus frames at 50 packets/s for a fixed time and hangs up with
// DELETE. All calls share one certificate, one frame list and one CallDriver (one timer for the
// whole process); each has its own UDP socket (or ICE-TCP connection, --tcp) because the relay
// keys flows by client address.
// The report: calls connected / failed by reason, setup time (POST → DTLS connected) p50/p95/max,
// when the last call connected, receive ratio, echo RTT p50/p99, packets per second each way, and
// what it cost this process (CPU, event-loop delay), so a client bottleneck is not taken for a
// server one. Not here: flags and printing (src/cli/load.ts).
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Rng } from '../core/rng.ts';
import type { CallAgents } from './agents.ts';
import type { CallDriver } from './call-driver.ts';
import type { CallTransportName } from './call-transport.ts';
import { ClientCall } from './client-call.ts';
import type { ClientCallEvent } from './client-call.ts';
import { ClientError, ClientErrorCode } from './errors.ts';
import { ChannelProbe } from './channel-probe.ts';
import type { ChannelProbeStats } from './channel-probe.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import type { Percentiles } from './latency-histogram.ts';
import { deleteCall, postOffer, warmUpFetch } from './signaling.ts';
import { createCallDriver } from './create-call-driver.ts';

export type { Percentiles } from './latency-histogram.ts';
export { percentiles } from './latency-histogram.ts';

export interface LoadOptions {
  readonly url: string;
  readonly bearer?: string;
  readonly rng: Rng;
  readonly agents: CallAgents;
  readonly frames: readonly Buffer[];
  readonly calls: number;
  /** Call length, s. */
  readonly seconds: number;
  /** New calls per second. */
  readonly rampPerSec: number;
  readonly connectTimeoutMs?: number;
  readonly bindHost?: string;
  /** udp (default), or tcp: every call over ICE-TCP to the answer's passive candidate. */
  readonly transport?: CallTransportName;
  /** The address to advertise as our host candidate. */
  readonly candidateHost: string;
  /** Called about once a second while calls are starting or connecting, and once when all have. */
  readonly progress?: (p: LoadProgress) => void;
  /** Every call opens a channel with this label and sends `message` on it every `everyMs` (one shared timer). */
  readonly dataChannel?: { readonly label: string; readonly message: string | Buffer; readonly everyMs: number };
}

export interface LoadProgress {
  readonly elapsedMs: number;
  readonly started: number;
  readonly connected: number;
  readonly failed: number;
  readonly calls: number;
}

export interface LoadReport {
  readonly calls: number;
  readonly connected: number;
  readonly failed: number;
  /** Failed calls by reason: ERR_CLIENT_… code, with the HTTP status when signaling was refused. */
  readonly failures: Record<string, number>;
  /** The first message seen for each failure reason. */
  readonly failureExamples: Record<string, string>;
  /** POST sent → DTLS connected, ms, per connected call. */
  readonly setupMs: Percentiles;
  /** First call started → last call connected, ms (the storm's time-to-last-connect). */
  readonly lastConnectMs: number | undefined;
  /** Packets received / packets sent, over all calls (with the echo handler: the round-trip delivery). */
  readonly receiveRatio: number;
  /** Send of a frame → its echo received, ms, over every matched packet of every call. */
  readonly echoRttMs: Percentiles;
  /** RTCP RTT (A − LSR − DLSR) per call, ms: the network round trip without the echo's pacing. */
  readonly rtcpRttMs: Percentiles;
  readonly packetsSent: number;
  readonly packetsReceived: number;
  /** Over the media window (first call connected → last call done sending). */
  readonly packetsSentPerSec: number;
  readonly packetsReceivedPerSec: number;
  /** Frames this process skipped after stalling (client-side starvation, not the network). */
  readonly framesSkipped: number;
  /** Gaps in the sequence numbers the server sent. */
  readonly packetsLost: number;
  readonly lossFraction: number;
  readonly wallSeconds: number;
  /** With dataChannel: messages sent and come back over all calls, their RTT, and what never came back. */
  readonly dataChannel:
    | {
        readonly sent: number;
        readonly received: number;
        readonly lost: number;
        readonly mismatched: number;
        readonly refused: number;
        readonly rttMs: Percentiles;
      }
    | undefined;
  readonly client: {
    /** CPU time this process used (user + system) over the run, s. */
    readonly cpuSeconds: number;
    /** cpuSeconds / wallSeconds × 100: 100 means this process used one whole core. */
    readonly cpuPercent: number;
    readonly eventLoopDelayMs: { readonly p99: number; readonly max: number };
  };
}

interface Outcome {
  connectMs: number | undefined;
  connectedAt: number | undefined;
  doneAt: number | undefined;
  reason: string | undefined;
  message: string | undefined;
  sent: number;
  skipped: number;
  received: number;
  lost: number;
  rtcpRtt: number | undefined;
  dc: ChannelProbeStats | undefined;
}

const LINGER_MS = 500;

interface Counters {
  started: number;
  connected: number;
  failed: number;
}

/** The calls whose channel is open, for the one shared send timer. */
type Probes = Set<{ readonly probe: ChannelProbe; readonly call: ClientCall; readonly poke: () => void }>;

async function oneCall(
  o: LoadOptions,
  driver: CallDriver,
  echo: LatencyHistogram,
  counters: Counters,
  dcRtt: LatencyHistogram,
  probes: Probes,
): Promise<Outcome> {
  const out: Outcome = {
    connectMs: undefined,
    connectedAt: undefined,
    doneAt: undefined,
    reason: undefined,
    message: undefined,
    sent: 0,
    skipped: 0,
    received: 0,
    lost: 0,
    rtcpRtt: undefined,
    dc: undefined,
  };
  const fail = (reason: string, message: string): void => {
    if (out.reason !== undefined) return;
    out.reason = reason;
    out.message = message;
    counters.failed++;
  };
  let binding;
  try {
    binding = await driver.bind(o.bindHost ?? '0.0.0.0');
  } catch (err) {
    fail(ClientErrorCode.BindFailed, (err as Error).message);
    return out;
  }
  const call = new ClientCall({
    rng: o.rng,
    agents: o.agents,
    localAddress: { ...binding.address, address: o.candidateHost },
    transport: binding.transport,
    frames: o.frames,
    frameCount: Math.round(o.seconds * 50),
    connectTimeoutMs: o.connectTimeoutMs,
    onEchoRtt: (ms) => echo.add(ms),
    dataChannels: o.dataChannel ? {} : undefined,
  });
  const probe = o.dataChannel
    ? new ChannelProbe({ label: o.dataChannel.label, message: o.dataChannel.message, onReply: (_d, ms) => dcRtt.add(ms) })
    : undefined;
  const entry = { probe: probe!, call, poke: () => binding.poke() };
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  binding.attach(call, (ev: ClientCallEvent) => {
    if (ev.type === 'connected') counters.connected++;
    else if (ev.type === 'sending-done') {
      // The channel stops with the audio; the linger below lets its last replies come back.
      probes.delete(entry);
      out.doneAt = driver.now();
      finish();
    } else if (ev.type === 'failed') {
      fail(ev.error.reason, ev.error.message);
      finish();
    } else if (ev.type === 'datachannel' && probe?.onEvent(ev.event, driver.now())) probes.add(entry);
  });
  const t0 = driver.now();
  let location: string | undefined;
  try {
    const posted = await postOffer(o.url, call.offer, { bearer: o.bearer });
    location = posted.location;
    call.acceptAnswer(posted.answer, driver.now());
    if (probe) {
      if (!call.data) throw new ClientError(ClientErrorCode.BadAnswer, 'the answer declined the data channel');
      probe.start(call.data, driver.now());
    }
    binding.poke();
    await finished;
    // Let the echo of the last frames come back (one one-shot timer per call, at its end), then
    // read what has arrived before closing: after a stall libuv runs due timers before it polls
    // sockets, and setImmediate runs after that poll.
    if (call.state === 'connected') {
      await new Promise((r) => setTimeout(r, LINGER_MS));
      await new Promise((r) => setImmediate(r));
    }
  } catch (err) {
    if (err instanceof ClientError) fail(err.reason, err.message);
    else fail(ClientErrorCode.Signaling, (err as Error).message);
  }
  probes.delete(entry);
  out.dc = probe?.stats();
  call.close(driver.now());
  binding.poke();
  const s = call.stats();
  binding.close();
  if (location !== undefined) await deleteCall(location, { bearer: o.bearer });
  out.connectedAt = s.connectedAt;
  out.connectMs = s.connectedAt !== undefined ? s.connectedAt - t0 : undefined;
  out.sent = s.packetsSent;
  out.skipped = s.framesSkipped;
  out.received = s.packetsReceived;
  out.lost = s.packetsLost;
  out.rtcpRtt = s.rtcpRttMs;
  return out;
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const driver = createCallDriver(o.transport ?? 'udp');
  const delay = monitorEventLoopDelay({ resolution: 10 });
  const echo = new LatencyHistogram();
  const counters: Counters = { started: 0, connected: 0, failed: 0 };
  await warmUpFetch();
  delay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = driver.now();
  const running: Promise<Outcome>[] = [];
  const dcRtt = new LatencyHistogram();
  const probes: Probes = new Set();
  const dcTimer = o.dataChannel
    ? setInterval(() => {
        for (const p of probes) if (p.call.data && p.probe.send(p.call.data, driver.now())) p.poke();
      }, o.dataChannel.everyMs)
    : undefined;
  const report = (): void => o.progress?.({ elapsedMs: driver.now() - t0, ...counters, calls: o.calls });
  // Progress once a second until every call has connected or failed (then once more).
  const progress = setInterval(() => {
    report();
    if (counters.connected + counters.failed >= o.calls) clearInterval(progress);
  }, 1000);
  // The ramp: starts are spread evenly at rampPerSec; a late tick starts every call that is due,
  // so a storm (rate ≥ calls) starts everything in the first tick.
  await new Promise<void>((resolve) => {
    const start = (): void => {
      const due = Math.min(o.calls, Math.floor(((driver.now() - t0) / 1000) * o.rampPerSec) + 1);
      while (counters.started < due) {
        counters.started++;
        running.push(oneCall(o, driver, echo, counters, dcRtt, probes));
      }
      if (counters.started >= o.calls) {
        clearInterval(ramp);
        resolve();
      }
    };
    const ramp = setInterval(start, Math.max(1, 1000 / o.rampPerSec));
    start();
  });
  const outcomes = await Promise.all(running);
  clearInterval(progress);
  clearInterval(dcTimer);
  report();
  const wall = (driver.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  driver.close();

  const failures: Record<string, number> = {};
  const failureExamples: Record<string, string> = {};
  for (const r of outcomes) {
    if (r.reason === undefined) continue;
    failures[r.reason] = (failures[r.reason] ?? 0) + 1;
    failureExamples[r.reason] ??= r.message ?? '';
  }
  const sum = (f: (r: Outcome) => number): number => outcomes.reduce((a, r) => a + f(r), 0);
  const connectedAts = outcomes.flatMap((r) => (r.connectedAt === undefined ? [] : [r.connectedAt]));
  const doneAts = outcomes.flatMap((r) => (r.doneAt === undefined ? [] : [r.doneAt]));
  const mediaSeconds =
    connectedAts.length > 0 && doneAts.length > 0 ? Math.max(0.001, (Math.max(...doneAts) - Math.min(...connectedAts)) / 1000) : undefined;
  const sent = sum((r) => r.sent);
  const received = sum((r) => r.received);
  const expected = sum((r) => r.received + r.lost);
  const cpuSeconds = (cpu.user + cpu.system) / 1e6;
  const connected = outcomes.filter((r) => r.connectMs !== undefined).length;
  return {
    calls: outcomes.length,
    connected,
    failed: outcomes.filter((r) => r.reason !== undefined).length,
    failures,
    failureExamples,
    setupMs: LatencyHistogram.exact(outcomes.flatMap((r) => (r.connectMs === undefined ? [] : [r.connectMs]))),
    lastConnectMs: connectedAts.length > 0 ? Math.max(...connectedAts) - t0 : undefined,
    receiveRatio: sent > 0 ? received / sent : 0,
    echoRttMs: echo.percentiles(),
    rtcpRttMs: LatencyHistogram.exact(outcomes.flatMap((r) => (r.rtcpRtt === undefined ? [] : [r.rtcpRtt]))),
    packetsSent: sent,
    packetsReceived: received,
    packetsSentPerSec: mediaSeconds === undefined ? 0 : sent / mediaSeconds,
    packetsReceivedPerSec: mediaSeconds === undefined ? 0 : received / mediaSeconds,
    framesSkipped: sum((r) => r.skipped),
    packetsLost: sum((r) => r.lost),
    lossFraction: expected > 0 ? sum((r) => r.lost) / expected : 0,
    wallSeconds: wall,
    dataChannel: o.dataChannel
      ? {
          sent: sum((r) => r.dc?.sent ?? 0),
          received: sum((r) => r.dc?.received ?? 0),
          lost: sum((r) => r.dc?.outstanding ?? 0),
          mismatched: sum((r) => r.dc?.mismatched ?? 0),
          refused: sum((r) => r.dc?.refused ?? 0),
          rttMs: dcRtt.percentiles(),
        }
      : undefined,
    client: {
      cpuSeconds,
      cpuPercent: (100 * cpuSeconds) / wall,
      eventLoopDelayMs: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
    },
  };
}
