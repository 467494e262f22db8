// SessionOptions for endpoint tests that need real Session objects but no client: an echo call
// with fixed ICE credentials, a self-signed certificate, and the given setup timeout (the only
// deadline such a session has until a client connects).
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { createEchoHandler } from '../../../src/transceiver/handlers/echo.ts';
import type { SessionOptions } from '../../../src/transceiver/calls/session.ts';

const cert = generateCertificate(seededRng('endpoint-session-cert'));

export function sessionOptions(id: string, now: number, setupTimeoutMs: number): SessionOptions {
  return {
    id,
    now,
    rng: seededRng(id),
    localUfrag: `ufrag${id}`,
    localPwd: 'serverpasswordserverpass',
    remoteUfrag: 'abcd',
    remotePwd: 'clientpasswordclientpass',
    dtlsRole: 'client',
    certificate: cert,
    remoteFingerprint: cert.fingerprint,
    ssrc: 1,
    cname: 'c',
    opusPayloadType: 111,
    handlerFactory: createEchoHandler,
    setupTimeoutMs,
  };
}
