// The production CallAgents: one certificate per process (generating a P-256 key per call would
// be wasted work for `parley load`), the candidate-failover ICE agent over src/core
// (./core-ice.ts), and the SRTP cipher the caller gives (`parley load` passes the native one of
// src/transceiver/media/srtp-native.ts where it loads; default src/core's TypeScript one). The
// DTLS endpoint itself is the peer's (src/core/peer).
import type { Rng } from '../core/rng.ts';
import { generateCertificate } from '../core/dtls/index.ts';
import type { DtlsCertificate } from '../core/dtls/index.ts';
import type { CallAgents } from './agents.ts';
import { createCoreIce } from './core-ice.ts';
import type { SrtpTransformFactory } from '../core/srtp/index.ts';

export function createCoreAgents(
  rng: Rng,
  certificate: DtlsCertificate = generateCertificate(rng),
  srtpTransform?: SrtpTransformFactory,
): CallAgents {
  return {
    certificate,
    createIce: (p) => createCoreIce(p, rng),
    srtpTransform,
  };
}
