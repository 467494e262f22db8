// One complete call as `parley call` makes it: bind a socket (or, over ICE-TCP, connect to the
// answer's passive candidate once it is known), POST the offer, connect, send
// the pre-encoded frames at real time, record what comes back, optionally move to a new local
// port mid-call (the NAT-rebinding test), hang up with DELETE, and summarise. The protocol is
// in ClientCall and the I/O in a CallDriver; this file is only the sequence and its deadlines.
import { networkInterfaces } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { TransportAddress } from '../core/address.ts';
import type { Rng } from '../core/rng.ts';
import type { CallAgents } from './agents.ts';
import { Recorder } from './audio.ts';
import type { CallDriver } from './call-driver.ts';
import type { CallTransportName } from './call-transport.ts';
import { ClientCall } from './client-call.ts';
import type { ClientCallEvent, ClientCallStats } from './client-call.ts';
import { ChannelProbe } from './channel-probe.ts';
import type { ChannelProbeOptions, ChannelProbeStats } from './channel-probe.ts';
import { ClientError, ClientErrorCode } from './errors.ts';
import { deleteCall, postOffer, warmUpFetch } from './signaling.ts';
import { createCallDriver } from './create-call-driver.ts';

export interface RunCallOptions {
  readonly url: string;
  readonly bearer?: string;
  readonly rng: Rng;
  readonly agents: CallAgents;
  /** Pre-encoded 20 ms Opus frames; cycled when the call lasts longer than they do. */
  readonly frames: readonly Buffer[];
  readonly seconds: number;
  readonly record?: boolean;
  /** Move to a new local UDP port this long after connecting. */
  readonly rebindAfterMs?: number;
  /** Key presses to send (RFC 4733) `dtmfAtMs` after connecting (default 500 ms). */
  readonly dtmf?: string;
  readonly dtmfAtMs?: number;
  readonly connectTimeoutMs?: number;
  /** Local address to bind; default 0.0.0.0. */
  readonly bindHost?: string;
  /** udp (default), or tcp: offer an active ICE-TCP candidate and take only the answer's passive TCP ones. */
  readonly transport?: CallTransportName;
  /** After the last frame is sent, keep receiving until nothing arrived for this long (default 400 ms, at most 3 s in all). */
  readonly tailMs?: number;
  /** Progress lines for humans (stderr in the CLI). */
  readonly progress?: (line: string) => void;
  /** Open a data channel and send `message` on it once, or every `everyMs` (./channel-probe.ts). */
  readonly dataChannel?: ChannelProbeOptions & { readonly everyMs?: number };
}

export interface CallSummary {
  readonly ok: boolean;
  readonly error: { readonly code: string; readonly message: string } | undefined;
  readonly url: string;
  readonly location: string | undefined;
  /** POST sent → DTLS connected, ms. */
  readonly connectMs: number | undefined;
  /** POST sent → 201 answer read, ms. */
  readonly signalingMs: number | undefined;
  readonly localAddress: string;
  readonly rebind: { readonly atMs: number; readonly localAddress: string; readonly packetsReceivedAfter: number } | undefined;
  readonly hangupStatus: number | undefined;
  readonly stats: ClientCallStats | undefined;
  /** Longest event-loop stall of this process during the call, ms: tells client starvation from network trouble. */
  readonly maxEventLoopDelayMs: number;
  /** The data-channel probe's counts (--datachannel), without its samples. */
  readonly dataChannel: Omit<ChannelProbeStats, 'rttSamples'> | undefined;
  /** Key presses the server sent (RFC 4733), in order of arrival: '' when none. */
  readonly dtmfReceived: string;
}

export interface CallResult {
  readonly summary: CallSummary;
  readonly recorder: Recorder | undefined;
}

const LOOPBACK = /^(127\.|localhost$|\[::1\]$|::1$)/;

/** The address to advertise for a wildcard-bound socket: loopback for a local server, else the first external IPv4. */
export function candidateHost(url: string, bound: TransportAddress): string {
  if (bound.address !== '0.0.0.0' && bound.address !== '::') return bound.address;
  if (LOOPBACK.test(new URL(url).hostname)) return '127.0.0.1';
  for (const list of Object.values(networkInterfaces())) {
    const hit = list?.find((i) => i.family === 'IPv4' && !i.internal);
    if (hit) return hit.address;
  }
  return '127.0.0.1';
}

const fmt = (a: TransportAddress): string => (a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

const MAX_TAIL_MS = 3_000;

/**
 * Waits for the echo's way back: until no packet arrived for `quietMs`, at most MAX_TAIL_MS.
 * A fixed wait would cut the recording short whenever the server is slow (a loaded machine).
 */
async function drainEcho(driver: CallDriver, call: ClientCall, quietMs: number): Promise<void> {
  const end = driver.now() + MAX_TAIL_MS;
  for (;;) {
    // libuv runs timers before polling sockets: after a stall, read what has arrived before
    // deciding that nothing has.
    await new Promise((r) => setImmediate(r));
    const now = driver.now();
    const last = call.stats().lastReceiveAt;
    if (call.state !== 'connected' || now >= end || last === undefined || now - last >= quietMs) return;
    await new Promise((r) => setTimeout(r, Math.min(50, quietMs)));
  }
}

export async function runCall(o: RunCallOptions): Promise<CallResult> {
  const driver = createCallDriver(o.transport ?? 'udp');
  const loopDelay = monitorEventLoopDelay({ resolution: 10 });
  loopDelay.enable();
  const say = o.progress ?? (() => {});
  const binding = await driver.bind(o.bindHost ?? '0.0.0.0');
  const local: TransportAddress = { ...binding.address, address: candidateHost(o.url, binding.address) };
  const recorder = o.record ? new Recorder() : undefined;
  const call = new ClientCall({
    rng: o.rng,
    agents: o.agents,
    localAddress: local,
    transport: binding.transport,
    frames: o.frames,
    frameCount: Math.round(o.seconds * 50),
    deliverAudio: recorder !== undefined,
    connectTimeoutMs: o.connectTimeoutMs,
    dataChannels: o.dataChannel ? {} : undefined,
  });
  const probe = o.dataChannel ? new ChannelProbe(o.dataChannel) : undefined;
  const timers: NodeJS.Timeout[] = [];
  const probeSend = (): void => {
    if (probe && call.data && probe.send(call.data, driver.now())) binding.poke();
  };
  let settleConnect: (v: ClientError | undefined) => void = () => {};
  const connected = new Promise<ClientError | undefined>((r) => (settleConnect = r));
  let settleDone: () => void = () => {};
  const done = new Promise<void>((r) => (settleDone = r));
  let failure: ClientError | undefined;
  let dtmfReceived = '';
  const onEvent = (ev: ClientCallEvent): void => {
    if (ev.type === 'audio') recorder?.add(ev.timestamp, ev.payload);
    else if (ev.type === 'dtmf') {
      dtmfReceived += ev.digit;
      say(`received DTMF ${ev.digit}`);
    } else if (ev.type === 'datachannel') {
      if (!probe?.onEvent(ev.event, driver.now())) return;
      say(`data channel ${JSON.stringify(o.dataChannel!.label)} open`);
      // Sent from a clean stack (we are inside the call's drain here).
      queueMicrotask(probeSend);
      if (o.dataChannel!.everyMs !== undefined) timers.push(setInterval(probeSend, o.dataChannel!.everyMs));
    } else if (ev.type === 'ice-connected') say(`ICE connected to ${fmt(ev.remote)}`);
    else if (ev.type === 'connected') settleConnect(undefined);
    else if (ev.type === 'sending-done') settleDone();
    else if (ev.type === 'failed') {
      failure = ev.error;
      settleConnect(ev.error);
      settleDone();
    }
  };
  binding.attach(call, onEvent);

  await warmUpFetch();
  const t0 = driver.now();
  let location: string | undefined;
  let signalingMs: number | undefined;
  let rebind: { atMs: number; localAddress: string; packetsAtRebind: number } | undefined;
  try {
    say(`POST ${o.url}`);
    const posted = await postOffer(o.url, call.offer, { bearer: o.bearer });
    location = posted.location;
    signalingMs = driver.now() - t0;
    call.acceptAnswer(posted.answer, driver.now());
    if (probe) {
      if (!call.data) throw new ClientError(ClientErrorCode.BadAnswer, 'the answer declined the data channel (m=application port 0)');
      probe.start(call.data, driver.now());
    }
    binding.poke();
    const err = await connected;
    if (err) throw err;
    say(`connected (DTLS ${call.stats().dtlsRole}, ${call.stats().srtpProfile}) in ${(call.stats().connectedAt! - t0).toFixed(1)} ms`);
    if (o.dtmf !== undefined) {
      const digits = o.dtmf;
      timers.push(
        setTimeout(() => {
          if (call.sendDtmf(digits, driver.now())) say(`sent DTMF ${digits}`);
          else say('DTMF not sent: the answer has no telephone-event');
          binding.poke();
        }, o.dtmfAtMs ?? 500),
      );
    }
    if (o.rebindAfterMs !== undefined) {
      timers.push(
        setTimeout(() => {
          const packetsAtRebind = call.stats().packetsReceived;
          void binding.rebind().then((addr) => {
            rebind = { atMs: o.rebindAfterMs!, localAddress: fmt({ ...addr, address: local.address }), packetsAtRebind };
            say(`rebound to local port ${addr.port}`);
          });
        }, o.rebindAfterMs),
      );
    }
    await done;
    if (!failure) await drainEcho(driver, call, o.tailMs ?? 400);
    for (const t of timers.splice(0)) clearTimeout(t);
    if (!failure && probe) {
      await settleProbe(probe, call);
      const p = probe.stats();
      if (p.received === 0 || p.mismatched > 0 || p.outstanding > 0) {
        failure = new ClientError(
          ClientErrorCode.DataChannel,
          `data channel ${JSON.stringify(p.label)}: ${p.sent} sent, ${p.received} came back, ${p.mismatched} not byte-exact, ${p.outstanding} outstanding`,
        );
      }
    }
  } catch (err) {
    if (!(err instanceof ClientError)) throw err;
    failure = err;
  } finally {
    for (const t of timers) clearTimeout(t);
  }
  call.close(driver.now());
  binding.poke();
  const stats = call.stats();
  const hangupStatus = location !== undefined ? await deleteCall(location, { bearer: o.bearer }) : undefined;
  binding.close();
  driver.close();
  loopDelay.disable();
  const error =
    failure ?? (stats.connectedAt === undefined ? new ClientError(ClientErrorCode.ConnectTimeout, 'never connected') : undefined);
  return {
    recorder,
    summary: {
      ok: stats.connectedAt !== undefined && error === undefined,
      error: error ? { code: error.code, message: error.message } : undefined,
      url: o.url,
      location,
      connectMs: stats.connectedAt !== undefined ? stats.connectedAt - t0 : undefined,
      signalingMs,
      localAddress: fmt(local),
      rebind: rebind
        ? { atMs: rebind.atMs, localAddress: rebind.localAddress, packetsReceivedAfter: stats.packetsReceived - rebind.packetsAtRebind }
        : undefined,
      hangupStatus,
      stats,
      maxEventLoopDelayMs: loopDelay.max / 1e6,
      dataChannel: probe ? withoutSamples(probe.stats()) : undefined,
      dtmfReceived,
    },
  };
}

/** The replies still on their way: until none is outstanding or the channel closed, at most MAX_TAIL_MS. */
async function settleProbe(probe: ChannelProbe, call: ClientCall): Promise<void> {
  for (let waited = 0; waited < MAX_TAIL_MS && call.state === 'connected' && probe.open && probe.stats().outstanding > 0; waited += 20) {
    await new Promise((r) => setTimeout(r, 20));
  }
}

export function withoutSamples(s: ChannelProbeStats): Omit<ChannelProbeStats, 'rttSamples'> {
  const { rttSamples: _samples, ...rest } = s;
  return rest;
}
