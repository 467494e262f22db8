// DTLS benchmarks: full in-memory handshakes per second (our client and our server in one
// process, both sides' CPU counted), and the cost of one application-data record each way.
import { DtlsEndpoint, generateCertificate } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import type { BenchRow } from '../bench-row.ts';
import { microsPerCall } from '../bench-row.ts';

const clientCert = generateCertificate(seededRng('bench-client'));
const serverCert = generateCertificate(seededRng('bench-server'));

function pair(seed: number): { client: DtlsEndpoint; server: DtlsEndpoint } {
  const client = new DtlsEndpoint({
    role: 'client',
    certificate: clientCert,
    remoteFingerprint: serverCert.fingerprint,
    rng: seededRng(`c${seed}`),
  });
  const server = new DtlsEndpoint({
    role: 'server',
    certificate: serverCert,
    remoteFingerprint: clientCert.fingerprint,
    rng: seededRng(`s${seed}`),
  });
  return { client, server };
}

/** Runs one handshake over a perfect in-memory link; throws if it does not connect. */
function handshake(seed: number): { client: DtlsEndpoint; server: DtlsEndpoint } {
  const p = pair(seed);
  p.client.start(0);
  for (let round = 0; round < 10 && !(p.client.state === 'connected' && p.server.state === 'connected'); round++) {
    for (let d = p.client.pollTransmit(); d; d = p.client.pollTransmit()) p.server.handle(d, round);
    for (let d = p.server.pollTransmit(); d; d = p.server.pollTransmit()) p.client.handle(d, round);
  }
  if (p.client.state !== 'connected' || p.server.state !== 'connected') throw new Error('bench handshake did not connect');
  return p;
}

export async function run(): Promise<BenchRow[]> {
  let seed = 0;
  const us = microsPerCall(() => handshake(seed++), 2000);
  const p = handshake(-1);
  const payload = Buffer.alloc(1100, 7);
  const recordUs = microsPerCall(() => {
    p.client.send(payload);
    p.server.handle(p.client.pollTransmit()!, 0);
    p.server.pollEvent();
  });
  return [
    {
      name: 'dtls handshake, client+server in-memory',
      value: 1e6 / us,
      unit: 'hs/s',
      note: `${(us / 1000).toFixed(2)} ms each, X25519 + ECDSA P-256, both sides`,
    },
    { name: 'dtls app-data record seal+open (1100 B)', value: recordUs, unit: 'µs', note: 'AES-128-GCM, fresh Cipheriv per record' },
  ];
}
