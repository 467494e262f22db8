// DTLS benchmarks: full in-memory handshakes per second (our client and our server in one
// process, both sides' CPU counted), the server side of a handshake alone (only the time spent in
// the server's handle/poll calls: handshakes per second per core a server can take), for an
// ECDSA and an RSA server certificate, the client side alone (prepared as the transceiver
// prepares it, with its step from the server's flight to ours, which call setup waits for), the server process's CPU per handshake beside a Pion DTLS
// server's while one Pion client drives each over loopback UDP (../dtls-rate.ts: the
// like-for-like comparison, I/O and GC included), and the cost of one application-data record
// each way for each AEAD.
import { DtlsEndpoint, generateCertificate } from '../../src/core/dtls/index.ts';
import type { DtlsCertificate } from '../../src/core/dtls/index.ts';
import { CIPHER_SUITES } from '../../src/core/dtls/suites.ts';
import { seededRng } from '../../src/core/rng.ts';
import type { BenchRow } from '../bench-row.ts';
import { measureServerCosts } from '../dtls-rate.ts';
import { findGoToolchain } from '../../test/e2e/go-build.ts';
import { microsPerCall } from '../bench-row.ts';
import { defaultPeerKeys, defaultPrf, defaultSigner, defaultX25519 } from '../../src/transceiver/media/dtls-crypto-native.ts';

/** The transceiver's X25519 (native where the addon is built), on both sides as in production. */
const x25519 = defaultX25519();
/** The transceiver's TLS 1.2 PRF (native where the addon is built). */
const prf = defaultPrf();
/** The transceiver's peer certificate keys (native where the addon is built). */
const peerKeys = defaultPeerKeys();
/** The transceiver's signer (native where the addon is built). */
const signer = defaultSigner();

const clientCert = generateCertificate(seededRng('bench-client'));
const serverCert = generateCertificate(seededRng('bench-server'));
const rsaServerCert = generateCertificate(seededRng('bench-rsa'), 'rsa');

function pair(seed: number, server: DtlsCertificate, suites?: string[]): { client: DtlsEndpoint; server: DtlsEndpoint } {
  return {
    client: new DtlsEndpoint({
      role: 'client',
      certificate: clientCert,
      remoteFingerprint: server.fingerprint,
      rng: seededRng(`c${seed}`),
      cipherSuites: suites,
      x25519,
      prf,
      peerKeys,
      signer,
    }),
    server: new DtlsEndpoint({
      role: 'server',
      certificate: server,
      remoteFingerprint: clientCert.fingerprint,
      rng: seededRng(`s${seed}`),
      x25519,
      prf,
      peerKeys,
      signer,
    }),
  };
}

/** This process's CPU time in ms (all threads): a loaded machine's preemption does not count. */
function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

interface Handshake {
  client: DtlsEndpoint;
  server: DtlsEndpoint;
  /** CPU ms inside the server's calls (both endpoints' construction included). */
  serverMs: number;
  /** CPU ms inside the client's calls: prepare (idle work in the transceiver), start, handle, poll. */
  clientMs: number;
  /** Of clientMs, the server's flight in and our flight out (the client step call setup waits for). */
  stepMs: number;
}

/**
 * Runs one handshake over a perfect in-memory link; throws if it does not connect. The client is
 * prepared before it starts, as the transceiver's DTLS client is (DtlsEndpoint.prepare).
 */
function handshake(seed: number, cert = serverCert, suites?: string[]): Handshake {
  const t0 = cpuMs();
  const p = pair(seed, cert, suites);
  let serverMs = cpuMs() - t0;
  let t = cpuMs();
  p.client.prepare(0);
  p.client.start(0);
  let clientMs = cpuMs() - t;
  let stepMs = 0;
  for (let round = 0; round < 10 && !(p.client.state === 'connected' && p.server.state === 'connected'); round++) {
    const out: Buffer[] = [];
    t = cpuMs();
    const ins: Buffer[] = [];
    for (let d = p.client.pollTransmit(); d; d = p.client.pollTransmit()) ins.push(d);
    clientMs += cpuMs() - t;
    for (const d of ins) {
      t = cpuMs();
      p.server.handle(d, round);
      serverMs += cpuMs() - t;
    }
    t = cpuMs();
    for (let d = p.server.pollTransmit(); d; d = p.server.pollTransmit()) out.push(d);
    serverMs += cpuMs() - t;
    t = cpuMs();
    for (const d of out) p.client.handle(d, round);
    const ms = cpuMs() - t;
    clientMs += ms;
    if (round === 0) stepMs = ms; // the server's flight in, ours built and queued
  }
  if (p.client.state !== 'connected' || p.server.state !== 'connected') throw new Error('bench handshake did not connect');
  return { ...p, serverMs, clientMs, stepMs };
}

/** One side's handshakes per second: 1 / mean CPU time per handshake, over about `ms`. */
function sideRate(cert: DtlsCertificate, ms: number, side: 'serverMs' | 'clientMs'): { rate: number; meanMs: number; stepMs: number } {
  let seed = 0;
  for (let i = 0; i < 20; i++) handshake(seed++, cert); // warm-up
  let total = 0;
  let steps = 0;
  let n = 0;
  const end = performance.now() + ms;
  while (performance.now() < end) {
    const h = handshake(seed++, cert);
    total += h[side];
    steps += h.stepMs;
    n++;
  }
  return { rate: (1000 * n) / total, meanMs: total / n, stepMs: steps / n };
}

export async function run(): Promise<BenchRow[]> {
  let seed = 0;
  const us = microsPerCall(() => handshake(seed++), 2000);
  const ecdsa = sideRate(serverCert, 2000, 'serverMs');
  const rsa = sideRate(rsaServerCert, 2000, 'serverMs');
  const client = sideRate(serverCert, 2000, 'clientMs');
  const rows: BenchRow[] = [
    {
      name: 'dtls handshake, client+server in-memory',
      value: 1e6 / us,
      unit: 'hs/s',
      note: `${(us / 1000).toFixed(2)} ms each, X25519 + ECDSA P-256, both sides`,
    },
    {
      name: 'dtls handshake, server side only (ECDSA P-256 cert)',
      value: ecdsa.rate,
      unit: 'hs/s/core',
      note: `${ecdsa.meanMs.toFixed(2)} ms of server CPU each; X25519, ECDHE-ECDSA-AES128-GCM, client certificate verified`,
    },
    {
      name: 'dtls handshake, server side only (RSA 2048 cert)',
      value: rsa.rate,
      unit: 'hs/s/core',
      note: `${rsa.meanMs.toFixed(2)} ms of server CPU each; X25519, ECDHE-RSA-AES128-GCM (one RSA signature per handshake)`,
    },
    {
      name: 'dtls handshake, client side only (ECDSA P-256 server)',
      value: client.rate,
      unit: 'hs/s/core',
      note: `${client.meanMs.toFixed(2)} ms of client CPU each, ${client.stepMs.toFixed(3)} ms of it from the server's flight in to ours out; prepared ahead, client certificate`,
    },
  ];
  rows.push(...(await processRows()));
  const payload = Buffer.alloc(1100, 7);
  for (const aead of ['aes-128-gcm', 'aes-256-gcm', 'chacha20-poly1305']) {
    const suite = CIPHER_SUITES.find((s) => s.auth === 'ecdsa' && s.aead === aead)!;
    const p = handshake(-1, serverCert, [suite.name]);
    const recordUs = microsPerCall(() => {
      p.client.send(payload);
      p.server.handle(p.client.pollTransmit()!, 0);
      p.server.pollEvent();
    });
    rows.push({ name: `dtls app-data record seal+open (1100 B, ${aead})`, value: recordUs, unit: 'µs', note: 'fresh Cipheriv per record' });
  }
  return rows;
}

/** Parley's and Pion's DTLS server processes, driven alike by a Pion client (../dtls-rate.ts). */
async function processRows(): Promise<BenchRow[]> {
  const go = await findGoToolchain();
  if (!go.ok)
    return [{ name: 'dtls handshake, server process, Pion client over UDP', value: NaN, unit: 'hs/s/core', note: `not run: ${go.reason}` }];
  const n = Number(process.env.DTLS_RATE_HANDSHAKES ?? 300);
  const baselines: Record<string, string> = process.env.DTLS_RATE_BASELINE ? { baseline: process.env.DTLS_RATE_BASELINE } : {};
  return (await measureServerCosts(n, 3, 200, baselines)).map((c) => ({
    name: `dtls handshake, ${c.server} server process, Pion client over UDP`,
    value: 1000 / c.cpuMs,
    unit: 'hs/s/core',
    note: `${c.cpuMs.toFixed(2)} ms of server process CPU each (median of rounds ${c.rounds.map((r) => r.toFixed(2)).join(', ')}; ${Math.round(100 * c.kernelShare)} % in the kernel; ${c.failed} of ${c.handshakes} timed out); X25519, ECDHE-ECDSA-AES128-GCM P-256, cookie, client certificate`,
  }));
}
