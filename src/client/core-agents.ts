// The production CallAgents: Parley's own sans-IO ICE controlling client and DTLS endpoint
// (src/core), adapted to the narrow shapes ClientCall drives (./agents.ts). One certificate per
// process: generating a P-256 key per call would be wasted work for `parley load`, and WebRTC
// trusts it only through the fingerprint in the offer anyway (RFC 8827 §6.5).
import type { Rng } from '../core/rng.ts';
import { DtlsEndpoint, generateCertificate } from '../core/dtls/index.ts';
import type { DtlsCertificate } from '../core/dtls/index.ts';
import type { CallAgents, DtlsEndpointLike, DtlsEndpointParams, DtlsSignal } from './agents.ts';
import { createCoreIce } from './core-ice.ts';

function dtlsAdapter(p: DtlsEndpointParams, certificate: DtlsCertificate, rng: Rng): DtlsEndpointLike {
  const ep = new DtlsEndpoint({ role: p.role, certificate, remoteFingerprint: p.remoteFingerprint, rng });
  return {
    start: (now) => ep.start(now),
    handle: (d, now) => ep.handle(d, now),
    handleTimeout: (now) => ep.handleTimeout(now),
    pollTransmit: () => ep.pollTransmit(),
    pollTimeout: () => ep.pollTimeout(),
    close: (now) => ep.close(now),
    pollEvent(): DtlsSignal | undefined {
      for (;;) {
        const ev = ep.pollEvent();
        if (!ev) return undefined;
        if (ev.type === 'connected') return { type: 'connected', srtpProfile: ev.srtpProfile, keyingMaterial: ev.keyingMaterial };
        if (ev.type === 'failed') return { type: 'failed', reason: `${ev.reason.message} [${ev.reason.code}]` };
        if (ev.type === 'closed') return { type: 'closed' };
        // 'data' (DTLS application data) has no use on an audio-only call: skipped.
      }
    },
  };
}

export function createCoreAgents(rng: Rng, certificate: DtlsCertificate = generateCertificate(rng)): CallAgents {
  return {
    fingerprint: certificate.fingerprint,
    createDtls: (p) => dtlsAdapter(p, certificate, rng),
    createIce: (p) => createCoreIce(p, rng),
  };
}
