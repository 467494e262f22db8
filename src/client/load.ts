// Many calls from one process, for load tests (`parley load`): calls start at a fixed rate,
// each sends the same pre-encoded Opus frames for a fixed time and hangs up with DELETE. All
// calls share one certificate, one frame list and one UdpCallDriver (one timer for the whole
// process); each has its own UDP socket because the relay keys flows by client address.
// The report gives connect-time percentiles, failures by error code, loss and RTT, and what it
// cost this process (CPU, event-loop delay), so a client bottleneck is not taken for a server one.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Rng } from '../core/rng.ts';
import type { CallAgents } from './agents.ts';
import { ClientCall } from './client-call.ts';
import type { ClientCallEvent } from './client-call.ts';
import { ClientError, ClientErrorCode } from './errors.ts';
import { deleteCall, postOffer, warmUpFetch } from './signaling.ts';
import { UdpCallDriver } from './udp-driver.ts';

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
  readonly rate: number;
  readonly connectTimeoutMs?: number;
  readonly bindHost?: string;
  /** The address to advertise as our host candidate. */
  readonly candidateHost: string;
  readonly progress?: (line: string) => void;
}

export interface Percentiles {
  readonly n: number;
  readonly p50: number | undefined;
  readonly p90: number | undefined;
  readonly p99: number | undefined;
  readonly max: number | undefined;
}

export interface LoadReport {
  readonly calls: number;
  readonly connected: number;
  readonly failed: number;
  readonly failures: Record<string, number>;
  /** POST sent → DTLS connected, ms. */
  readonly connectMs: Percentiles;
  readonly rttMs: Percentiles;
  readonly packetsSent: number;
  /** Frames this process skipped after stalling (client-side starvation, not the network). */
  readonly framesSkipped: number;
  readonly packetsReceived: number;
  readonly packetsLost: number;
  readonly lossFraction: number;
  readonly wallSeconds: number;
  /** CPU time this process used (user + system) over the run, s. */
  readonly cpuSeconds: number;
  readonly eventLoopDelayMs: { readonly p99: number; readonly max: number };
}

export function percentiles(values: readonly number[]): Percentiles {
  const s = [...values].sort((a, b) => a - b);
  const at = (p: number): number | undefined => (s.length === 0 ? undefined : s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]);
  return { n: s.length, p50: at(0.5), p90: at(0.9), p99: at(0.99), max: s[s.length - 1] };
}

interface Outcome {
  connectMs: number | undefined;
  error: string | undefined;
  sent: number;
  skipped: number;
  received: number;
  lost: number;
  rtt: number | undefined;
}

const LINGER_MS = 500;

async function oneCall(o: LoadOptions, driver: UdpCallDriver): Promise<Outcome> {
  const binding = await driver.bind(o.bindHost ?? '0.0.0.0');
  const call = new ClientCall({
    rng: o.rng, agents: o.agents, localAddress: { ...binding.address, address: o.candidateHost }, frames: o.frames,
    frameCount: Math.round(o.seconds * 50), connectTimeoutMs: o.connectTimeoutMs,
  });
  let finish: () => void = () => {};
  const finished = new Promise<void>((r) => (finish = r));
  let error: string | undefined;
  binding.attach(call, (ev: ClientCallEvent) => {
    if (ev.type === 'sending-done') finish();
    else if (ev.type === 'failed') {
      error = ev.error.code;
      finish();
    }
  });
  const t0 = driver.now();
  let location: string | undefined;
  try {
    const posted = await postOffer(o.url, call.offer, { bearer: o.bearer });
    location = posted.location;
    call.acceptAnswer(posted.answer, driver.now());
    binding.poke();
    await finished;
    // Let the echo of the last frames come back (one one-shot timer per call, at its end).
    if (call.state === 'connected') await new Promise((r) => setTimeout(r, LINGER_MS));
  } catch (err) {
    error = err instanceof ClientError ? err.code : ClientErrorCode.Signaling;
  }
  call.close(driver.now());
  binding.poke();
  const s = call.stats();
  binding.close();
  if (location !== undefined) await deleteCall(location, { bearer: o.bearer });
  return {
    connectMs: s.connectedAt !== undefined ? s.connectedAt - t0 : undefined,
    error, sent: s.packetsSent, skipped: s.framesSkipped, received: s.packetsReceived, lost: s.packetsLost, rtt: s.rttMs,
  };
}

export async function runLoad(o: LoadOptions): Promise<LoadReport> {
  const driver = new UdpCallDriver();
  const delay = monitorEventLoopDelay({ resolution: 10 });
  await warmUpFetch();
  delay.enable();
  const cpu0 = process.cpuUsage();
  const t0 = driver.now();
  const running: Promise<Outcome>[] = [];
  // The ramp is the process's only other timer: one start per tick at `rate` per second.
  await new Promise<void>((resolve) => {
    const start = (): void => {
      running.push(oneCall(o, driver));
      if (running.length % Math.max(1, Math.round(o.rate)) === 0) o.progress?.(`started ${running.length}/${o.calls} calls`);
      if (running.length >= o.calls) {
        clearInterval(ramp);
        resolve();
      }
    };
    const ramp = setInterval(start, 1000 / o.rate);
    start();
  });
  const outcomes = await Promise.all(running);
  const wall = (driver.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  delay.disable();
  driver.close();
  const failures: Record<string, number> = {};
  for (const r of outcomes) if (r.error) failures[r.error] = (failures[r.error] ?? 0) + 1;
  const sum = (f: (r: Outcome) => number): number => outcomes.reduce((a, r) => a + f(r), 0);
  const expected = sum((r) => r.received + r.lost);
  return {
    calls: outcomes.length,
    connected: outcomes.filter((r) => r.connectMs !== undefined).length,
    failed: outcomes.filter((r) => r.error !== undefined).length,
    failures,
    connectMs: percentiles(outcomes.flatMap((r) => (r.connectMs === undefined ? [] : [r.connectMs]))),
    rttMs: percentiles(outcomes.flatMap((r) => (r.rtt === undefined ? [] : [r.rtt]))),
    packetsSent: sum((r) => r.sent),
    framesSkipped: sum((r) => r.skipped),
    packetsReceived: sum((r) => r.received),
    packetsLost: sum((r) => r.lost),
    lossFraction: expected > 0 ? sum((r) => r.lost) / expected : 0,
    wallSeconds: wall,
    cpuSeconds: (cpu.user + cpu.system) / 1e6,
    eventLoopDelayMs: { p99: delay.percentile(99) / 1e6, max: delay.max / 1e6 },
  };
}
