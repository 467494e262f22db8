// Test harness for the DTLS endpoint: certificates, a pair of endpoints that know each other's
// fingerprints, and drive(), which runs both over the seeded netem (loss, duplication,
// reordering, latency) on a manual clock until a condition holds. No sleeps, no sockets.
import { DtlsEndpoint, generateCertificate } from '../../../src/core/dtls/index.ts';
import type { DtlsCertificate, DtlsEvent, DtlsOptions } from '../../../src/core/dtls/index.ts';
import { ManualClock } from '../../../src/common/clock.ts';
import type { TransportAddress } from '../../../src/core/address.ts';
import { drain } from '../../../src/core/output.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { Netem } from '../../support/netem.ts';
import { progress } from '../../support/progress.ts';
import type { Driven } from '../../support/progress.ts';

export const clientCert: DtlsCertificate = generateCertificate(seededRng('client-cert'));
export const serverCert: DtlsCertificate = generateCertificate(seededRng('server-cert'));
export const otherCert: DtlsCertificate = generateCertificate(seededRng('other-cert'));

let rsa: { client: DtlsCertificate; server: DtlsCertificate; other: DtlsCertificate } | undefined;
/** RSA 2048 certificates (made on first use: RSA key generation is slow, and not seedable). */
export function rsaCerts(): { client: DtlsCertificate; server: DtlsCertificate; other: DtlsCertificate } {
  rsa ??= {
    client: generateCertificate(seededRng('rsa-client'), 'rsa'),
    server: generateCertificate(seededRng('rsa-server'), 'rsa'),
    other: generateCertificate(seededRng('rsa-other'), 'rsa'),
  };
  return rsa;
}

/** Certificates of the kind a suite's key exchange needs ('ecdsa' or 'rsa'). */
export function certsOf(kind: 'ecdsa' | 'rsa'): { client: DtlsCertificate; server: DtlsCertificate; other: DtlsCertificate } {
  return kind === 'rsa' ? rsaCerts() : { client: clientCert, server: serverCert, other: otherCert };
}

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
  /** One-way latency in ms (default 10; a reordered datagram is held back 2× more). */
  latency?: number;
}

const CLIENT: TransportAddress = { address: '10.0.0.1', port: 5000, family: 'IPv4' };
const SERVER: TransportAddress = { address: '10.0.0.2', port: 5000, family: 'IPv4' };

/**
 * Drives both endpoints over a fresh netem on a manual clock starting at `start`, until
 * `done()`, until nothing is in flight and neither endpoint has a deadline, or for at most
 * `maxSteps` steps (one step: every delivery and timer due at one instant) — the caller asserts
 * what it expects afterwards. Returns the final clock. `tap` sees (and may replace or drop) each
 * datagram as it is sent. Datagrams still in flight at the end are dropped with the network.
 */
export function drive(
  pair: Pair,
  opts: NetworkOptions & {
    seed?: number | string;
    start?: number;
    maxSteps?: number;
    done?: () => boolean;
    tap?: (from: 'client' | 'server', d: Buffer) => Buffer | undefined;
  } = {},
): number {
  const latency = opts.latency ?? 10;
  const clock = new ManualClock(opts.start ?? 0);
  const net = new Netem({
    seed: `net-${opts.seed ?? 0}`,
    profile: { latencyMs: latency, loss: opts.loss, duplicate: opts.duplicate, reorder: opts.reorder, reorderExtraMs: 2 * latency },
  });
  const sides = [
    { from: 'client', at: CLIENT, to: SERVER, ep: pair.client, events: pair.clientEvents },
    { from: 'server', at: SERVER, to: CLIENT, ep: pair.server, events: pair.serverEvents },
  ] as const;
  const flush = (): void => {
    const now = clock.now();
    for (const { from, at, to, ep, events } of sides) {
      drain(
        ep,
        (d) => {
          const sent = opts.tap ? opts.tap(from, d) : d;
          if (sent !== undefined) net.send({ from: at, to, data: sent }, now);
        },
        (e) => events.push(e),
      );
    }
  };
  for (const { at, ep } of sides) {
    net.attach(at, (d, now) => {
      ep.handle(d.data, now);
      flush();
    });
  }
  // Datagrams first, then timers, at each instant.
  const parts: Driven[] = [
    net,
    ...sides.map(({ ep }): Driven => ({
      nextDeadline: () => ep.pollTimeout(),
      advance: (now) => {
        ep.handleTimeout(now);
        flush();
      },
    })),
  ];
  const done = opts.done ?? (() => false);
  const quiet = (): boolean => net.inFlight === 0 && pair.client.pollTimeout() === undefined && pair.server.pollTimeout() === undefined;
  const maxSteps = opts.maxSteps ?? 10_000;
  let checks = 0;
  flush();
  // progress() checks until() once before each step: the (maxSteps + 1)th check ends the run.
  progress({
    clock,
    parts,
    until: () => done() || quiet() || checks++ >= maxSteps,
    maxMs: 600_000,
    maxSteps: maxSteps + 1,
    what: 'dtls pair',
  });
  return clock.now();
}

export function bothConnected(pair: Pair): () => boolean {
  return () => pair.client.state === 'connected' && pair.server.state === 'connected';
}

export function eventsOfType<T extends DtlsEvent['type']>(events: DtlsEvent[], type: T): Extract<DtlsEvent, { type: T }>[] {
  return events.filter((e): e is Extract<DtlsEvent, { type: T }> => e.type === type);
}
