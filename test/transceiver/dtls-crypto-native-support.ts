// For the native DTLS crypto tests: the addon (skipped where it is not built, failing when CI=true)
// and a DTLS handshake in memory between two DtlsEndpoints (seeded certificates and Rngs, the
// server asking for a cookie), each side given extra options (the native crypto under test).
import assert from 'node:assert/strict';
import { DtlsEndpoint, generateCertificate } from '../../src/core/dtls/index.ts';
import type { DtlsEvent, DtlsOptions } from '../../src/core/dtls/index.ts';
import { seededRng } from '../../src/core/rng.ts';
import { loadDtlsCryptoAddon } from '../../src/transceiver/media/dtls-crypto-native.ts';
import type { DtlsCryptoAddon } from '../../src/transceiver/media/dtls-crypto-native.ts';

const loaded = loadDtlsCryptoAddon();
/** The tests' skip reason: only where the addon is not built and CI is not set. */
export const skip = loaded instanceof Error && process.env.CI !== 'true' ? 'the native DTLS crypto addon is not built' : false;

/** The addon, or the test fails (CI=true and not usable). */
export function addon(): DtlsCryptoAddon {
  if (loaded instanceof Error) assert.fail(`CI=true but the native DTLS crypto addon is not usable: ${loaded.message}`);
  return loaded;
}

type Extra = Partial<Pick<DtlsOptions, 'x25519' | 'prf' | 'cipherSuites'>>;

/** Both sides' events after the handshake, the client's first. */
export function handshakeEvents(clientExtra: Extra, serverExtra: Extra): DtlsEvent[] {
  const cc = generateCertificate(seededRng('c-cert'));
  const sc = generateCertificate(seededRng('s-cert'));
  const client = new DtlsEndpoint({
    role: 'client',
    certificate: cc,
    remoteFingerprint: sc.fingerprint,
    rng: seededRng('c'),
    ...clientExtra,
  });
  const server = new DtlsEndpoint({
    role: 'server',
    certificate: sc,
    remoteFingerprint: cc.fingerprint,
    rng: seededRng('s'),
    cookie: true,
    ...serverExtra,
  });
  client.start(0);
  for (let round = 0; round < 10; round++) {
    for (let d = client.pollTransmit(); d; d = client.pollTransmit()) server.handle(d, round);
    for (let d = server.pollTransmit(); d; d = server.pollTransmit()) client.handle(d, round);
  }
  const events: DtlsEvent[] = [];
  for (const e of [client, server]) for (let ev = e.pollEvent(); ev; ev = e.pollEvent()) events.push(ev);
  return events;
}
