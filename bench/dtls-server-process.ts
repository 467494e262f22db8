// Parley's side of the DTLS handshake-rate rows of `npm run bench:core` (bench/dtls-rate.ts): a
// child process serving DTLS handshakes on one UDP socket on 127.0.0.1, one DtlsEndpoint per
// client address, configured as the transceiver's lite server is (cookie round trip, client
// certificate checked against the fingerprint, the production Rng). Prints "listening PORT". Each
// association is forgotten once the client closes it (or it fails), so the process only does handshakes:
// its CPU time, which the parent reads from /proc, is the server side of a handshake alone — the
// record layer, node:dgram and the event loop included. Not here: retransmission timers (loopback
// loses nothing; a lost datagram would show as a client timeout, not as a cheaper handshake).
//
//   npx node bench/dtls-server-process.ts CERT_PEM KEY_PEM PEER_FINGERPRINT
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import { createPrivateKey, X509Certificate } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { systemRng } from '../src/common/system-rng.ts';
import { fingerprintOf } from '../src/core/dtls/certificate.ts';
import { DtlsEndpoint } from '../src/core/dtls/index.ts';
import type { DtlsCertificate } from '../src/core/dtls/index.ts';

const [certFile, keyFile, peerFingerprint] = process.argv.slice(2);
const der = new X509Certificate(readFileSync(certFile)).raw;
const certificate: DtlsCertificate = { der, privateKey: createPrivateKey(readFileSync(keyFile)), fingerprint: fingerprintOf(der) };
/** RFC 6347 §4.1: content type 22 is a handshake record; only one may open an association. */
const HANDSHAKE = 22;
/** Bounds this bench process's state should a client leave handshakes half done. */
const MAX_ASSOCIATIONS = 1000;

const associations = new Map<string, DtlsEndpoint>();
const socket = dgram.createSocket('udp4');
socket.on('message', (msg, rinfo) => {
  const key = `${rinfo.address}:${rinfo.port}`;
  let dtls = associations.get(key);
  if (dtls === undefined) {
    if (msg[0] !== HANDSHAKE || associations.size >= MAX_ASSOCIATIONS) return;
    dtls = new DtlsEndpoint({ role: 'server', certificate, remoteFingerprint: peerFingerprint, rng: systemRng, cookie: true });
    dtls.start(0);
    associations.set(key, dtls);
  }
  const now = performance.now();
  dtls.handle(msg, now);
  for (let d = dtls.pollTransmit(); d !== undefined; d = dtls.pollTransmit()) socket.send(d, rinfo.port, rinfo.address);
  // Kept until the client's close_notify (as Pion's server keeps a connection until its read
  // fails), so a lost final flight is resent when the client resends its own.
  for (let e = dtls.pollEvent(); e !== undefined; e = dtls.pollEvent())
    if (e.type === 'closed' || e.type === 'failed') associations.delete(key);
});
socket.bind(0, '127.0.0.1', () => console.log(`listening ${(socket.address() as AddressInfo).port}`));
process.on('SIGTERM', () => socket.close());
