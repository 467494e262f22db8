// Test harness for the DTLS endpoint: certificates, a pair of endpoints that know each other's
// fingerprints, and a seeded simulated network on a manual clock (loss, duplication,
// reordering, latency) that drives both until a condition holds. No sleeps, no sockets.
import { DtlsEndpoint, generateCertificate } from '../../../src/core/dtls/index.ts';
import type { DtlsCertificate, DtlsEvent, DtlsOptions } from '../../../src/core/dtls/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import type { Rng } from '../../../src/core/rng.ts';

export const clientCert: DtlsCertificate = generateCertificate(seededRng('client-cert'));
export const serverCert: DtlsCertificate = generateCertificate(seededRng('server-cert'));
export const otherCert: DtlsCertificate = generateCertificate(seededRng('other-cert'));

export interface Pair {
  client: DtlsEndpoint;
  server: DtlsEndpoint;
  clientEvents: DtlsEvent[];
  serverEvents: DtlsEvent[];
}

export function makePair(seed: number | string, over: { client?: Partial<DtlsOptions>; server?: Partial<DtlsOptions> } = {}): Pair {
  const client = new DtlsEndpoint({
    role: 'client',
    certificate: clientCert,
    remoteFingerprint: serverCert.fingerprint,
    rng: seededRng(`${seed}-c`),
    ...over.client,
  });
  const server = new DtlsEndpoint({
    role: 'server',
    certificate: serverCert,
    remoteFingerprint: clientCert.fingerprint,
    rng: seededRng(`${seed}-s`),
    ...over.server,
  });
  return { client, server, clientEvents: [], serverEvents: [] };
}

export interface NetworkOptions {
  loss?: number;
  duplicate?: number;
  reorder?: number;
  /** One-way latency in ms (a reordered packet gets up to 3× more). */
  latency?: number;
}

interface InFlight {
  at: number;
  order: number;
  to: 'client' | 'server';
  data: Buffer;
}

function unit(rng: Rng): number {
  return rng.bytes(4).readUInt32BE(0) / 2 ** 32;
}

/**
 * Drives both endpoints over a simulated network until `done()` or `maxSteps`. Returns the final
 * clock. `tap` sees (and may replace or drop) each datagram as it is sent.
 */
export function drive(
  pair: Pair,
  opts: NetworkOptions & { seed?: number | string; start?: number; maxSteps?: number; done?: () => boolean; tap?: (from: 'client' | 'server', d: Buffer) => Buffer | undefined } = {},
): number {
  const rng = seededRng(`net-${opts.seed ?? 0}`);
  const latency = opts.latency ?? 10;
  const queue: InFlight[] = [];
  let order = 0;
  let now = opts.start ?? 0;
  const done = opts.done ?? (() => false);
  const flush = (): void => {
    for (const [from, ep, events] of [['client', pair.client, pair.clientEvents], ['server', pair.server, pair.serverEvents]] as const) {
      for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) events.push(ev);
      for (let d = ep.pollTransmit(); d !== undefined; d = ep.pollTransmit()) {
        const sent = opts.tap ? opts.tap(from, d) : d;
        if (sent === undefined) continue;
        if (unit(rng) < (opts.loss ?? 0)) continue;
        const copies = unit(rng) < (opts.duplicate ?? 0) ? 2 : 1;
        for (let i = 0; i < copies; i++) {
          const extra = unit(rng) < (opts.reorder ?? 0) ? unit(rng) * latency * 3 : 0;
          queue.push({ at: now + latency + extra, order: order++, to: from === 'client' ? 'server' : 'client', data: sent });
        }
      }
      for (let ev = ep.pollEvent(); ev !== undefined; ev = ep.pollEvent()) events.push(ev);
    }
  };
  flush();
  for (let step = 0; step < (opts.maxSteps ?? 10_000) && !done(); step++) {
    const timeouts = [pair.client.pollTimeout(), pair.server.pollTimeout()].filter((t): t is number => t !== undefined);
    const nextPacket = queue.length > 0 ? Math.min(...queue.map((q) => q.at)) : Infinity;
    const next = Math.min(nextPacket, ...timeouts);
    if (next === Infinity) break;
    now = Math.max(now, next);
    if (nextPacket <= now) {
      queue.sort((a, b) => a.at - b.at || a.order - b.order);
      const p = queue.shift()!;
      (p.to === 'client' ? pair.client : pair.server).handle(p.data, now);
    } else {
      pair.client.handleTimeout(now);
      pair.server.handleTimeout(now);
    }
    flush();
  }
  return now;
}

export function bothConnected(pair: Pair): () => boolean {
  return () => pair.client.state === 'connected' && pair.server.state === 'connected';
}

export function eventsOfType<T extends DtlsEvent['type']>(events: DtlsEvent[], type: T): Extract<DtlsEvent, { type: T }>[] {
  return events.filter((e): e is Extract<DtlsEvent, { type: T }> => e.type === type);
}
