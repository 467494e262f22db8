// A transceiver Session's options for endpoint tests: echo handler, DTLS client, one test
// certificate, fixed ICE credentials (the local ufrag is `ufrag${id}`, the client's `abcd`).
import { generateCertificate } from '../../../src/core/dtls/index.ts';
import { seededRng } from '../../../src/core/rng.ts';
import { createEchoHandler } from '../../../src/transceiver/handlers/echo.ts';
import type { SessionOptions } from '../../../src/transceiver/calls/session.ts';

const cert = generateCertificate(seededRng('endpoint-cert'));

export const SERVER_PWD = 'serverpasswordserverpass';

export function sessionOptions(id: string, now: number, setupTimeoutMs: number): SessionOptions {
  return {
    id,
    now,
    rng: seededRng(id),
    localUfrag: `ufrag${id}`,
    localPwd: SERVER_PWD,
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
